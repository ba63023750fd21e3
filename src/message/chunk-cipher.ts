import { type Cipher, createCipheriv, createDecipheriv, type Decipher, randomFillSync } from 'node:crypto';
import { sodium } from '../crypto/native.js';
import { DimeError } from '../errors/index.js';
import type { Rng } from './chunk-crypto.js';
import type { Actor } from './constants.js';
import type { Kek } from './kek.js';
import type { ChunkKey } from './keyslot.js';

/**
 * The AES-256-CBC work of a message (message.md §3) without per-call setup: payloads in slices
 * (bounded memory, and OpenSSL is fastest on slices of this size), and keyslots through one
 * cipher per actor and message instead of one per slot.
 */

/** Payloads are encrypted and decrypted in slices of this size. */
export const CIPHER_SLICE = 64 * 1024;

const wipe = (b: Uint8Array) => sodium.sodium_memzero(b as Buffer);

/**
 * AES-256-CBC without padding over `input` (a multiple of 16 bytes); every output slice is given
 * to `out` in order (a slice is only valid during the call).
 */
export function cbcSlices(
  mode: 'encrypt' | 'decrypt',
  key: Uint8Array,
  iv: Uint8Array,
  input: Uint8Array,
  out: (slice: Uint8Array) => void,
): void {
  if (input.length % 16 !== 0) throw new DimeError('BAD_INPUT', 'AES-CBC input is not a multiple of 16');
  const c: Cipher | Decipher =
    mode === 'encrypt' ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  for (let at = 0; at < input.length; at += CIPHER_SLICE) {
    const o = c.update(input.subarray(at, Math.min(input.length, at + CIPHER_SLICE)));
    if (o.length > 0) out(o);
  }
  const f = c.final();
  if (f.length > 0) out(f);
}

/** AES-256-CBC without padding into `into` (same length as `input`, may not alias it). */
export function cbcInto(
  mode: 'encrypt' | 'decrypt',
  key: Uint8Array,
  iv: Uint8Array,
  input: Uint8Array,
  into: Uint8Array,
): Uint8Array {
  let at = 0;
  cbcSlices(mode, key, iv, input, (s) => {
    into.set(s, at);
    at += s.length;
  });
  return into.subarray(0, at);
}

/**
 * Seals keyslots (`rnd ‖ (iv ⊕ rnd) ‖ key`, AES-256-CBC under the actor's KEK, IV = KEK IV) with
 * one running CBC cipher per actor: each new slot's first block is pre-whitened with
 * KEK IV ⊕ previous ciphertext block, which makes the chained output equal to a fresh CBC run.
 */
export class KeyslotSealer {
  private readonly ciphers = new Map<Actor, { c: Cipher; last: Uint8Array; iv: Uint8Array }>();
  private readonly plain = new Uint8Array(64);

  constructor(private readonly keks: Readonly<Record<Actor, Kek>>) {}

  seal(actor: Actor, chunkKey: ChunkKey, rnd: Uint8Array): Uint8Array {
    if (rnd.length !== 16 || chunkKey.iv.length !== 16 || chunkKey.key.length !== 32) {
      throw new DimeError('BAD_INPUT', 'keyslot needs a 16-byte nonce, a 16-byte IV and a 32-byte key');
    }
    let s = this.ciphers.get(actor);
    if (!s) {
      const kek = this.keks[actor];
      const c = createCipheriv('aes-256-cbc', kek.key, kek.iv);
      c.setAutoPadding(false);
      s = { c, last: new Uint8Array(kek.iv), iv: kek.iv };
      this.ciphers.set(actor, s);
    }
    const p = this.plain;
    for (let i = 0; i < 16; i++) {
      p[i] = rnd[i]! ^ s.iv[i]! ^ s.last[i]!;
      p[16 + i] = chunkKey.iv[i]! ^ rnd[i]!;
    }
    p.set(chunkKey.key, 32);
    const out = s.c.update(p);
    wipe(p);
    s.last.set(out.subarray(48, 64));
    return out;
  }

  destroy(): void {
    for (const s of this.ciphers.values()) s.c.final();
    this.ciphers.clear();
  }
}

/**
 * Opens keyslots with one AES-256-ECB decipher per KEK: CBC decryption is block decryption
 * followed by XOR with the previous ciphertext block (the KEK IV for the first).
 */
export class KeyslotOpener {
  private readonly d: Decipher;

  constructor(private readonly kek: Kek) {
    this.d = createDecipheriv('aes-256-ecb', kek.key, null);
    this.d.setAutoPadding(false);
  }

  open(slot: Uint8Array): ChunkKey {
    if (slot.length !== 64) throw new DimeError('BAD_MESSAGE', 'keyslot is not 64 bytes');
    const p = this.d.update(slot);
    const iv = new Uint8Array(16);
    const key = new Uint8Array(32);
    // block 0: rnd = D(c0) ⊕ kekIV; block 1: iv ⊕ rnd = D(c1) ⊕ c0; blocks 2–3: key
    for (let i = 0; i < 16; i++) {
      const rnd = p[i]! ^ this.kek.iv[i]!;
      iv[i] = p[16 + i]! ^ slot[i]! ^ rnd;
      key[i] = p[32 + i]! ^ slot[16 + i]!;
      key[16 + i] = p[48 + i]! ^ slot[32 + i]!;
    }
    wipe(p);
    return { key, iv };
  }
}

/**
 * Random bytes for one message: from `rng` when the caller gives one (tests), else from a pool
 * refilled 4 KB at a time (one system call instead of one per key, IV and nonce).
 */
export class RandomPool {
  private pool = new Uint8Array(0);
  private at = 0;

  /** `expected`: how many bytes the caller will take (the first refill draws that many at once). */
  constructor(
    private readonly rng?: Rng,
    private expected = 4096,
  ) {}

  take(n: number): Uint8Array {
    if (this.rng) return this.rng(n);
    if (this.at + n > this.pool.length) {
      wipe(this.pool);
      this.pool = new Uint8Array(Math.max(this.expected, n));
      this.expected = 4096;
      randomFillSync(this.pool);
      this.at = 0;
    }
    const out = this.pool.slice(this.at, this.at + n);
    this.pool.fill(0, this.at, this.at + n);
    this.at += n;
    return out;
  }

  destroy(): void {
    wipe(this.pool);
  }
}
