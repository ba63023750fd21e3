/** What the `dime admin` commands share: the data directory, stdin passwords, option parsing. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decodeObjectInput } from '../../../encoding/input.js';
import { DimeError } from '../../../errors/index.js';
import type { Admin } from '../../../server/admin/admin.js';
import { usage } from '../../exit.js';
import { readInput } from '../../io.js';

export interface GlobalOptions {
  data: string;
  config?: string;
}

/** The password line from stdin: one trailing LF or CRLF stripped, nothing else. */
export function readPasswordStdin(): Uint8Array {
  let buf: Buffer;
  try {
    buf = readFileSync(0);
  } catch (e) {
    throw new DimeError('IO_ERROR', `cannot read the password from stdin: ${(e as Error).message}`);
  }
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  if (end > 0 && buf[end - 1] === 0x0d) end--;
  return new Uint8Array(buf.subarray(0, end));
}

export interface KeyImportOptions {
  orgKey?: string;
  orgSignet?: string;
  passphraseFile?: string;
  realmKey?: string;
}

/** A signet file in any encoding decodeObjectInput reads (armored, base64, binary). */
export function readSignetBytes(path: string): Uint8Array {
  return decodeObjectInput(readInput(path)).binary;
}

/** keys.md §5 (the store's ACCOUNT_MODES; repeated here so `dime --help` loads no server code). */
export const ACCOUNT_MODES = ['trustful', 'cautious', 'paranoid'] as const;

export async function withAdmin<T>(cmd: Command, f: (admin: Admin) => Promise<T>): Promise<T> {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  // the server modules load only when an admin command runs
  const { Admin } = await import('../../../server/admin/admin.js');
  const admin = await Admin.open({ dataDir: g.data, ...(g.config ? { configFile: g.config } : {}) });
  try {
    return await f(admin);
  } finally {
    await admin.close();
  }
}

export function needPasswordStdin(opts: { passwordStdin?: boolean }): Uint8Array {
  if (!opts.passwordStdin) usage('the password is read from stdin: add --password-stdin');
  return readPasswordStdin();
}

export function quota(value: string | undefined, option: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  if (!/^\d+$/.test(value) || Number(value) < 1) usage(`${option} must be a positive number or "none"`);
  return Number(value);
}
