import { crypto } from '../crypto/index.js';
import { armor } from '../encoding/armor.js';
import { concatBytes, readU16, utf8 } from '../encoding/bytes.js';
import { PROTECTED_KEY_LABEL } from '../encoding/object-types.js';
import { DimeError } from '../errors/index.js';
import { openKeyObject, sealKeyObject } from './encrypted-key.js';

/**
 * Passphrase-protected key file (keys.md §6, a project format): armored `DIME PROTECTED KEY`
 * holding `version(1) ‖ kdf(1 = scrypt) ‖ log2N ‖ r ‖ p ‖ salt[32] ‖ encrypted key (1947/1976)`,
 * the encrypted key's 64-byte realm key being scrypt(passphrase, salt, N, r, p).
 */
export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { log2N: 15, r: 8, p: 1 };
const PREFIX = 37;

// Bounds on what a file may ask for, so a hostile file cannot make us allocate gigabytes.
const MAX_LOG2N = 20;
const MAX_R = 32;
const MAX_P = 16;

function checkParams(p: ScryptParams): void {
  if (p.log2N < 1 || p.log2N > MAX_LOG2N || p.r < 1 || p.r > MAX_R || p.p < 1 || p.p > MAX_P) {
    throw new DimeError('BAD_INPUT', `unsupported scrypt parameters N=2^${p.log2N} r=${p.r} p=${p.p}`);
  }
}

function deriveKey(passphrase: string, salt: Uint8Array, p: ScryptParams): Uint8Array {
  return crypto().scrypt(utf8(passphrase), salt, 2 ** p.log2N, p.r, p.p, 64);
}

export function protectKeyObject(
  plainKey: Uint8Array,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): string {
  checkParams(params);
  const salt = crypto().randomBytes(32);
  const key = deriveKey(passphrase, salt, params);
  try {
    const sealed = sealKeyObject(plainKey, key);
    const body = concatBytes(Uint8Array.of(1, 1, params.log2N, params.r, params.p), salt, sealed);
    return armor(PROTECTED_KEY_LABEL, body);
  } finally {
    crypto().zeroize(key);
  }
}

/** Type of the key inside a protected file without decrypting it ('org' | 'user'). */
export function protectedKeyKind(body: Uint8Array): 'org' | 'user' {
  if (body.length < PREFIX + 2) throw new DimeError('TRUNCATED', 'protected key file too short');
  const t = readU16(body, PREFIX);
  if (t === 1947) return 'org';
  if (t === 1976) return 'user';
  throw new DimeError('BAD_MAGIC', `protected key holds type ${t}, not an encrypted key`);
}

export function unprotectKeyObject(body: Uint8Array, passphrase: string): Uint8Array {
  if (body.length < PREFIX) throw new DimeError('TRUNCATED', 'protected key file too short');
  if (body[0] !== 1) throw new DimeError('BAD_INPUT', `protected key version ${body[0]} is not supported`);
  if (body[1] !== 1) throw new DimeError('BAD_INPUT', `protected key KDF ${body[1]} is not supported`);
  const params = { log2N: body[2]!, r: body[3]!, p: body[4]! };
  checkParams(params);
  protectedKeyKind(body);
  const key = deriveKey(passphrase, body.subarray(5, PREFIX), params);
  try {
    return openKeyObject(body.subarray(PREFIX), key);
  } catch (e) {
    if (e instanceof DimeError && e.code === 'DECRYPT_FAILED') {
      throw new DimeError('DECRYPT_FAILED', 'wrong passphrase, or the key file is damaged');
    }
    throw e;
  } finally {
    crypto().zeroize(key);
  }
}
