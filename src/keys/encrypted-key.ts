import { frame, shardDecrypt, shardEncrypt, unframe } from '../crypto/shard-gcm.js';
import { concatBytes, readU16, readU32, u16be, u24be, u32be } from '../encoding/bytes.js';
import { ObjectType } from '../encoding/object-types.js';
import { DimeError } from '../errors/index.js';
import { KEY_TYPE, type KeyKind } from './key-file.js';

/** Encrypted key objects (types 1947/1976, keys.md §3) under a 64-byte STACIE realm key. */
export const ENCRYPTED_KEY_TYPE: Readonly<Record<KeyKind, number>> = {
  org: ObjectType.ENCRYPTED_ORG_KEY,
  user: ObjectType.ENCRYPTED_USER_KEY,
};

const HEAD = 38; // type u16, size u32, vshard 16, tshard 16

/**
 * Seals a plain key object (5-byte header + fields): frames its fields, encrypts them with
 * AES-256-GCM under the realm key's shards, and heads the result 1947 (org) or 1976 (user).
 */
export function sealKeyObject(plainKey: Uint8Array, realmKey: Uint8Array, vshard?: Uint8Array): Uint8Array {
  if (plainKey.length < 5) throw new DimeError('TRUNCATED', 'key object shorter than its header');
  const type = readU16(plainKey, 0);
  const kind: KeyKind | null = type === KEY_TYPE.org ? 'org' : type === KEY_TYPE.user ? 'user' : null;
  if (!kind) throw new DimeError('BAD_MAGIC', `type ${type} is not a key object`);
  const sealed = shardEncrypt(realmKey, frame(plainKey.subarray(5)), vshard);
  const body = concatBytes(sealed.vshard, sealed.tshard, sealed.ciphertext);
  return concatBytes(u16be(ENCRYPTED_KEY_TYPE[kind]), u32be(body.length), body);
}

/** Opens an encrypted key object and rebuilds the plain key object (type 1952/2013). */
export function openKeyObject(sealed: Uint8Array, realmKey: Uint8Array): Uint8Array {
  if (sealed.length < 6) throw new DimeError('TRUNCATED', 'encrypted key shorter than its header');
  const type = readU16(sealed, 0);
  const kind: KeyKind | null =
    type === ENCRYPTED_KEY_TYPE.org ? 'org' : type === ENCRYPTED_KEY_TYPE.user ? 'user' : null;
  if (!kind) throw new DimeError('BAD_MAGIC', `type ${type} is not an encrypted key`);
  const size = readU32(sealed, 2);
  if (size + 6 !== sealed.length) {
    throw new DimeError('LENGTH_MISMATCH', `header says ${size} bytes, buffer holds ${sealed.length - 6}`);
  }
  if (sealed.length < HEAD + 16 || (sealed.length - HEAD) % 16 !== 0) {
    throw new DimeError('DECRYPT_FAILED', 'ciphertext is not a positive multiple of 16 bytes');
  }
  const plain = shardDecrypt(realmKey, {
    vshard: sealed.subarray(6, 22),
    tshard: sealed.subarray(22, 38),
    ciphertext: sealed.subarray(HEAD),
  });
  const fields = unframe(plain);
  return concatBytes(u16be(KEY_TYPE[kind]), u24be(fields.length), fields);
}
