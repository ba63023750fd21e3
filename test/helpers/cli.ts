import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO, TOOLS } from './vectors.js';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output
  json: any;
}

const BIN = resolve(REPO, 'bin/dime.js');

/** Runs our CLI (the built dist, as `npx dime` would). */
export function dime(
  args: string[],
  opts: { input?: string | Uint8Array; env?: Record<string, string | undefined> } = {},
): RunResult {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  if (!opts.env || !('DIME_PASSPHRASE' in opts.env)) delete env.DIME_PASSPHRASE;
  const r = spawnSync(process.execPath, [BIN, ...args], { input: opts.input, env, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: tryJson(r.stdout) };
}

function tryJson(s: string): unknown {
  const last = s.trim().split('\n').pop();
  if (!last) return undefined;
  try {
    return JSON.parse(last);
  } catch {
    return undefined;
  }
}

/** Runs the C reference judge (../shared/tools/libdime-check). Missing tool = failing test. */
export function libdimeCheck(args: string[]): RunResult {
  const r = spawnSync(resolve(TOOLS, 'libdime-check'), args, { encoding: 'utf8' });
  if (r.error) throw new Error(`libdime-check could not run: ${r.error.message}`);
  if (r.status === 2) throw new Error(`libdime-check usage/aux error: ${r.stderr}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: tryJson(r.stdout) };
}

export function tempDir(prefix = 'dime-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
