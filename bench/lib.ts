import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED = process.env.DIME_SHARED ?? resolve(here, '../../shared');
export const LIBDIME_BENCH = resolve(SHARED, 'tools/libdime-bench');

/** Runs `fn` repeatedly for about `seconds` (after a short warm-up) and returns calls per second. */
export function rate(fn: () => unknown, seconds = Number(process.env.BENCH_SECONDS ?? 2)): number {
  const warm = Date.now() + 200;
  while (Date.now() < warm) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

/**
 * Rates of several functions measured in alternating short slices, so that a change in machine
 * load (these machines are shared and noisy) hits all of them alike and their ratios stay fair.
 */
export function interleavedRates(
  fns: Record<string, () => unknown>,
  seconds = Number(process.env.BENCH_SECONDS ?? 2),
): Record<string, number> {
  const names = Object.keys(fns);
  const calls: Record<string, number> = {};
  const nanos: Record<string, number> = {};
  for (const n of names) {
    calls[n] = 0;
    nanos[n] = 0;
    const warm = Date.now() + 100;
    while (Date.now() < warm) fns[n]!();
  }
  const slice = 50_000_000n; // 50 ms
  const rounds = Math.max(1, Math.round((seconds * 1e9) / Number(slice)));
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      const fn = fns[n]!;
      const start = process.hrtime.bigint();
      const end = start + slice;
      let now = start;
      let k = 0;
      while (now < end) {
        fn();
        k++;
        now = process.hrtime.bigint();
      }
      calls[n]! += k;
      nanos[n]! += Number(now - start);
    }
  }
  return Object.fromEntries(names.map((n) => [n, calls[n]! / (nanos[n]! / 1e9)]));
}

export interface LibdimeBench {
  user_signet_verify_per_s: number;
  org_signet_verify_per_s: number;
  encrypt_per_s: number;
  decrypt_per_s: number;
  raw_ed25519_verify_per_s: number;
  raw_ecdh_per_s: number;
}

function libdimeOnce(args: string[]): LibdimeBench | null {
  const r = spawnSync(LIBDIME_BENCH, ['--seconds', process.env.BENCH_SECONDS ?? '2', ...args], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(
      `libdime-bench did not run (${r.error?.message ?? r.stderr.trim()}): no reference\n`,
    );
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as LibdimeBench;
}

/**
 * The C reference timed on this machine, in this run: once now, and once more when the returned
 * function is called after our own measurement; the two runs are averaged.
 */
export function runLibdimeBench(args: string[] = []): () => LibdimeBench | null {
  const before = libdimeOnce(args);
  return () => {
    const after = libdimeOnce(args);
    if (!before || !after) return before ?? after;
    const avg: Record<string, unknown> = { ...before };
    for (const [k, v] of Object.entries(after)) {
      const b = (before as unknown as Record<string, unknown>)[k];
      if (typeof v === 'number' && typeof b === 'number') avg[k] = (v + b) / 2;
    }
    return avg as unknown as LibdimeBench;
  };
}

export function machine(): { cpu: string; cores: number; node: string } {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
}

export const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

export function report(name: string, figures: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(figures))
    process.stdout.write(`${name}: ${k} = ${JSON.stringify(v)}\n`);
  process.stdout.write(`${JSON.stringify({ bench: name, ...figures })}\n`);
}
