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

export interface LibdimeBench {
  user_signet_verify_per_s: number;
  org_signet_verify_per_s: number;
  encrypt_per_s: number;
  decrypt_per_s: number;
  raw_ed25519_verify_per_s: number;
  raw_ecdh_per_s: number;
}

/** The C reference timed on this machine, in this run. Null (and a message) when it cannot run. */
export function runLibdimeBench(args: string[] = []): LibdimeBench | null {
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

export function machine(): { cpu: string; cores: number; node: string } {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
}

export const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

export function report(name: string, figures: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(figures))
    process.stdout.write(`${name}: ${k} = ${JSON.stringify(v)}\n`);
  process.stdout.write(`${JSON.stringify({ bench: name, ...figures })}\n`);
}
