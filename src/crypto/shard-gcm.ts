import { concatBytes, readU24, u24be, xorBytes } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import { crypto } from './index.js';

/**
 * AES-256-GCM with key shards (crypto.md §4), shared by encrypted keys (keys.md §3) and the
 * STACIE realm envelope (stacie.md §6). K is 64 bytes: vector key ‖ tag key ‖ cipher key.
 * IV = random vshard XOR vector key (16 bytes); the stored tag is tag XOR tag key; no AAD.
 */
export interface ShardSealed {
  vshard: Uint8Array;
  tshard: Uint8Array;
  ciphertext: Uint8Array;
}

export const MAX_FRAMED_DATA = 0xffffff;

function splitKey(key: Uint8Array): { vector: Uint8Array; tag: Uint8Array; cipher: Uint8Array } {
  if (key.length !== 64)
    throw new DimeError('BAD_PARAMETER', `shard key must be 64 bytes, got ${key.length}`);
  return { vector: key.subarray(0, 16), tag: key.subarray(16, 32), cipher: key.subarray(32, 64) };
}

/** `len:u24 ‖ pad:u8 ‖ data ‖ pad×pad`, pad = 16 − ((len + 4) mod 16), 1…16. */
export function frame(data: Uint8Array): Uint8Array {
  if (data.length > MAX_FRAMED_DATA)
    throw new DimeError('TOO_LARGE', 'data longer than 16 MiB cannot be framed');
  const pad = 16 - ((data.length + 4) % 16);
  return concatBytes(u24be(data.length), Uint8Array.of(pad), data, new Uint8Array(pad).fill(pad));
}

/** Inverse of frame; DECRYPT_FAILED on any inconsistency. */
export function unframe(plain: Uint8Array): Uint8Array {
  if (plain.length < 16 || plain.length % 16 !== 0)
    throw new DimeError('DECRYPT_FAILED', 'bad framed length');
  const len = readU24(plain, 0);
  const pad = plain[3]!;
  if (pad < 1 || pad > 16 || len + pad + 4 !== plain.length)
    throw new DimeError('DECRYPT_FAILED', 'bad framing');
  for (let i = 4 + len; i < plain.length; i++) {
    if (plain[i] !== pad) throw new DimeError('DECRYPT_FAILED', 'bad padding');
  }
  return plain.subarray(4, 4 + len);
}

export function shardEncrypt(key: Uint8Array, plaintext: Uint8Array, vshard?: Uint8Array): ShardSealed {
  const k = splitKey(key);
  const vs = vshard ?? crypto().randomBytes(16);
  const iv = xorBytes(vs, k.vector);
  const { ciphertext, tag } = crypto().aes256GcmEncrypt(k.cipher, iv, plaintext);
  return { vshard: vs, tshard: xorBytes(tag, k.tag), ciphertext };
}

export function shardDecrypt(key: Uint8Array, sealed: ShardSealed): Uint8Array {
  const k = splitKey(key);
  if (sealed.vshard.length !== 16 || sealed.tshard.length !== 16) {
    throw new DimeError('DECRYPT_FAILED', 'bad shard length');
  }
  const iv = xorBytes(sealed.vshard, k.vector);
  const tag = xorBytes(sealed.tshard, k.tag);
  const plain = crypto().aes256GcmDecrypt(k.cipher, iv, sealed.ciphertext, tag);
  if (!plain)
    throw new DimeError('DECRYPT_FAILED', 'authentication tag does not verify (wrong key or tampered data)');
  return plain;
}
