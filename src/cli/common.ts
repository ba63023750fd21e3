import { fromBase64 } from '../encoding/base64.js';
import { fromHex } from '../encoding/hex.js';
import { decodeObjectInput } from '../encoding/input.js';
import { DimeError } from '../errors/index.js';
import { type KeyKind, type LoadedKeys, loadKeys } from '../keys/index.js';
import { parseSignet, type Signet, type SignetKind } from '../signet/index.js';
import { readInput } from './io.js';
import { type PassphraseOptions, passphraseSource } from './passphrase.js';

export function readSignetFile(path: string, kinds?: readonly SignetKind[]): Signet {
  return parseSignet(decodeObjectInput(readInput(path)).binary, kinds);
}

export interface KeyReadOptions extends PassphraseOptions {
  realmKey?: string;
}

export function readKeyFile(path: string, opts: KeyReadOptions, kinds?: readonly KeyKind[]): LoadedKeys {
  const realmKey = opts.realmKey ? parseHexOption(opts.realmKey, 64, '--realm-key') : undefined;
  return loadKeys(
    readInput(path),
    { passphrase: passphraseSource(opts), ...(realmKey ? { realmKey } : {}) },
    kinds,
  );
}

/** Hex of an exact byte length (a usage error otherwise). */
export function parseHexOption(value: string, bytes: number, option: string): Uint8Array {
  let out: Uint8Array;
  try {
    out = fromHex(value);
  } catch {
    throw new DimeError('USAGE', `${option} must be ${bytes * 2} hex digits`);
  }
  if (out.length !== bytes) throw new DimeError('USAGE', `${option} must be ${bytes * 2} hex digits`);
  return out;
}

/** A POK given as 64 hex digits or as the record's 43-character unpadded base64. */
export function parsePokOption(value: string): Uint8Array {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return fromHex(value);
  if (/^[A-Za-z0-9+/]{43}$/.test(value)) return fromBase64(value, false);
  throw new DimeError('USAGE', '--pok must be 64 hex digits (or the 43-character base64 of a record)');
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
