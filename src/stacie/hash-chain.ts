import * as nodeCrypto from 'node:crypto';
import { crypto } from '../crypto/index.js';

/** One SHA-512 of a buffer, as a fresh array. */
export type Sha512 = (data: Uint8Array) => Uint8Array;

/** Streaming-API SHA-512 (every Node version). */
export const sha512Streaming: Sha512 = (data) => nodeCrypto.createHash('sha512').update(data).digest();

/**
 * The fastest SHA-512 available: node:crypto's one-shot `hash()` (Node ≥ 20.12) costs about a third
 * less per call than createHash/update/digest, and the derivation makes up to 2^25 such calls.
 */
export const sha512Fast: Sha512 =
  typeof nodeCrypto.hash === 'function'
    ? (data) => nodeCrypto.hash('sha512', data, 'buffer')
    : sha512Streaming;

/**
 * The iterated hash behind derive_key and derive_token (stacie.md §4):
 * `H_0 = SHA512(middle ‖ u24be(0))`, `H_i = SHA512(H_{i−1} ‖ middle ‖ u24be(i))`, result `H_{rounds−1}`,
 * where `middle` is the concatenation of `parts`.
 *
 * One buffer `H(64) ‖ middle ‖ counter(3)` is allocated once; each round writes the previous hash
 * and the counter into it in place (round 0 hashes the buffer without its first 64 bytes). The
 * buffer, which holds the password for derive_key, is zeroized at the end.
 * `rounds` must be 1 … 2^24 (the counter is 3 bytes); callers validate.
 */
export function chainedSha512(
  parts: readonly Uint8Array[],
  rounds: number,
  sha512: Sha512 = sha512Fast,
): Uint8Array {
  let middle = 0;
  for (const p of parts) middle += p.length;
  const buf = new Uint8Array(64 + middle + 3);
  let off = 64;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  const c0 = off;
  let h = sha512(buf.subarray(64)); // i = 0: counter bytes are already 00 00 00
  for (let i = 1; i < rounds; i++) {
    buf.set(h, 0);
    h.fill(0);
    buf[c0] = (i >>> 16) & 0xff;
    buf[c0 + 1] = (i >>> 8) & 0xff;
    buf[c0 + 2] = i & 0xff;
    h = sha512(buf);
  }
  const out = new Uint8Array(h);
  crypto().zeroize(buf);
  h.fill(0);
  return out;
}
