import { crypto } from '../crypto/index.js';
import { concatBytes } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import { KEYSLOT_SIZE } from './constants.js';
import type { Kek } from './kek.js';

/** The per-chunk AES-256-CBC key and IV that a keyslot carries. */
export interface ChunkKey {
  key: Uint8Array;
  iv: Uint8Array;
}

/**
 * Encrypts a keyslot (message.md §3): plaintext `rnd ‖ (iv ⊕ rnd) ‖ key`, AES-256-CBC under the
 * actor's KEK without padding. `rnd` is a fresh 16-byte nonce per slot.
 */
export function sealKeyslot(kek: Kek, chunkKey: ChunkKey, rnd: Uint8Array): Uint8Array {
  if (rnd.length !== 16 || chunkKey.iv.length !== 16 || chunkKey.key.length !== 32) {
    throw new DimeError('BAD_INPUT', 'keyslot needs a 16-byte nonce, a 16-byte IV and a 32-byte key');
  }
  const mixed = new Uint8Array(16);
  for (let i = 0; i < 16; i++) mixed[i] = chunkKey.iv[i]! ^ rnd[i]!;
  const plain = concatBytes(rnd, mixed, chunkKey.key);
  const out = crypto().aes256CbcEncrypt(kek.key, kek.iv, plain);
  crypto().zeroize(plain);
  return out;
}

/** Decrypts a keyslot with the actor's KEK. A wrong KEK gives a wrong key, not an error (no MAC). */
export function openKeyslot(kek: Kek, slot: Uint8Array): ChunkKey {
  if (slot.length !== KEYSLOT_SIZE) throw new DimeError('BAD_MESSAGE', 'keyslot is not 64 bytes');
  const plain = crypto().aes256CbcDecrypt(kek.key, kek.iv, slot);
  const iv = new Uint8Array(16);
  for (let i = 0; i < 16; i++) iv[i] = plain[16 + i]! ^ plain[i]!;
  const key = plain.slice(32, 64);
  crypto().zeroize(plain);
  return { key, iv };
}

export function wipeChunkKey(k: ChunkKey): void {
  crypto().zeroize(k.key);
  crypto().zeroize(k.iv);
}
