import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { decodeObjectInput } from '../../src/encoding/input.js';
import type { Actor } from '../../src/message/index.js';
import { cryptoFingerprintB64, parseSignet } from '../../src/signet/index.js';
import type { RunResult } from '../helpers/cli.js';
import { REPO, type VectorCase } from '../helpers/vectors.js';

/**
 * Helpers of the `dime message` CLI tests. The CLI runs as a child process, asynchronously, so that
 * long test files do not block the test worker (vitest's RPC times out on a blocked event loop).
 */
export const ACTORS: readonly Actor[] = ['author', 'origin', 'destination', 'recipient'];
const BIN = resolve(REPO, 'bin/dime.js');

export interface AsyncRunResult extends RunResult {
  stdoutBytes: Buffer;
}

function lastJson(s: string): unknown {
  const last = s.trim().split('\n').pop();
  if (!last) return undefined;
  try {
    return JSON.parse(last);
  } catch {
    return undefined;
  }
}

/** Runs our CLI (the built dist) without blocking; stdout is kept as bytes too. */
export function dimeAsync(
  args: string[],
  opts: { input?: string | Uint8Array; env?: Record<string, string | undefined> } = {},
): Promise<AsyncRunResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  if (!opts.env || !('DIME_PASSPHRASE' in opts.env)) delete env.DIME_PASSPHRASE;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      const stdout = stdoutBytes.toString('utf8');
      resolvePromise({
        status: code ?? -1,
        stdout,
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        json: lastJson(stdout),
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** The first line of stdout as JSON (a report printed before the error line). */
export function firstJson(r: RunResult): VectorCase {
  return JSON.parse(r.stdout.trim().split('\n')[0]!);
}

/** Key and signet files of a reference case, by actor. */
export function referenceFiles(dir: string, c: VectorCase): Record<Actor, { key: string; signet: string }> {
  const files = {} as Record<Actor, { key: string; signet: string }>;
  for (const a of ACTORS) {
    const key = join(dir, `${c.id}-${a}.key`);
    const signet = join(dir, `${c.id}-${a}.signet`);
    writeFileSync(key, c.keys[`${a}_key_armored`]);
    writeFileSync(signet, c.keys[`${a}_signet_armored`]);
    files[a] = { key, signet };
  }
  return files;
}

export const trueFingerprint = (armored: string) =>
  cryptoFingerprintB64(parseSignet(decodeObjectInput(new Uint8Array(Buffer.from(armored))).binary));

/** Parties made with our CLI: plain key files and ID signets. */
export interface CliParties {
  key: Record<Actor, string>;
  signet: Record<Actor, string>;
}

export async function cliParties(dir: string, tag: string): Promise<CliParties> {
  const run = async (args: string[]) => {
    const r = await dimeAsync(args);
    expect(r.status, r.stderr).toBe(0);
  };
  const d = (x: string) => join(dir, `${tag}-${x}`);
  await Promise.all([
    run(['keys', 'generate', 'org', '--domain', 'origin.test', '--out', d('o'), '--plain']),
    run(['keys', 'generate', 'org', '--domain', 'dest.test', '--out', d('d'), '--plain']),
    run(['keys', 'generate', 'user', '--address', 'alice@origin.test', '--out', d('a'), '--plain']),
    run(['keys', 'generate', 'user', '--address', 'bob@dest.test', '--out', d('b'), '--plain']),
  ]);
  for (const [u, o, addr] of [
    ['a', 'o', 'alice@origin.test'],
    ['b', 'd', 'bob@dest.test'],
  ] as const) {
    await run([
      ...['signet', 'sign', '--org-key', join(d(o), 'org.key'), '--request', join(d(u), 'user.ssr')],
      ...['--address', addr, '--out', join(d(u), 'user.signet')],
    ]);
  }
  return {
    key: {
      author: join(d('a'), 'user.key'),
      origin: join(d('o'), 'org.key'),
      destination: join(d('d'), 'org.key'),
      recipient: join(d('b'), 'user.key'),
    },
    signet: {
      author: join(d('a'), 'user.signet'),
      origin: join(d('o'), 'org.signet'),
      destination: join(d('d'), 'org.signet'),
      recipient: join(d('b'), 'user.signet'),
    },
  };
}

/** `--signet F` for every party of a CLI-made set. */
export const allSignets = (cli: CliParties) => ACTORS.flatMap((a) => ['--signet', cli.signet[a]]);

/** libdime-check's signet options for a CLI-made set. */
export const libdimeSignets = (cli: CliParties) => [
  ...['--author-signet', cli.signet.author, '--origin-signet', cli.signet.origin],
  ...['--destination-signet', cli.signet.destination, '--recipient-signet', cli.signet.recipient],
];
