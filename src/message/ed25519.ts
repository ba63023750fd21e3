import { createHash } from 'node:crypto';
import { sodium } from '../crypto/native.js';
import { DimeError } from '../errors/index.js';
import { type ByteSource, blocks } from './source.js';

/**
 * Ed25519 (RFC 8032, libsodium's signatures byte for byte) over messages too large for memory.
 *
 * A signature needs the message twice: r = SHA-512(prefix ‖ M) mod L, R = r·B, then
 * k = SHA-512(R ‖ A ‖ M) mod L and S = r + k·a mod L. Both hashes stream, so the message is read
 * in two passes. k·a is computed by double-and-add over the bits of k (public: k is derived from
 * the signature and the message) with libsodium's constant-time scalar addition, so the secret
 * scalar a never enters a non-constant-time computation. Verification is one pass:
 * [S]B − [k]A must encode to R.
 *
 * Small messages go to libsodium's one-shot functions; large ones in memory take the streaming
 * path too, because OpenSSL's SHA-512 is faster than libsodium's.
 */

interface SodiumLow {
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  crypto_hash_sha512(out: Uint8Array, m: Uint8Array): void;
  crypto_core_ed25519_scalar_reduce(r: Uint8Array, s: Uint8Array): void;
  crypto_core_ed25519_scalar_add(z: Uint8Array, x: Uint8Array, y: Uint8Array): void;
  crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
  crypto_scalarmult_ed25519_noclamp(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_core_ed25519_sub(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  sodium_memzero(b: Uint8Array): void;
}

const na = sodium as unknown as SodiumLow;

/** Above this many bytes, in-memory messages take the streaming path (OpenSSL SHA-512). */
export const STREAMING_THRESHOLD = 256 * 1024;

/** Feeds the message to `sink`, in order; called once per pass. */
export type MessageFeed = (sink: (bytes: Uint8Array) => void) => void;

function reduce64(digest: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  na.crypto_core_ed25519_scalar_reduce(out, digest);
  return out;
}

/** k·a mod L by double-and-add over the (public) bits of k, with constant-time scalar additions. */
function mulPublicBySecret(k: Uint8Array, a: Uint8Array): Uint8Array {
  const acc = new Uint8Array(32);
  // k < L < 2^253: bit 252 is the top one
  for (let bit = 252; bit >= 0; bit--) {
    na.crypto_core_ed25519_scalar_add(acc, acc, acc);
    if ((k[bit >> 3]! >> (bit & 7)) & 1) na.crypto_core_ed25519_scalar_add(acc, acc, a);
  }
  return acc;
}

/** An Ed25519 signing key held as libsodium's 64-byte secret key (seed ‖ public key). */
export class SigningKey {
  private readonly sk: Uint8Array;
  readonly publicKey: Uint8Array;

  private constructor(sk: Uint8Array, pk: Uint8Array) {
    this.sk = sk;
    this.publicKey = pk;
  }

  static fromSeed(seed: Uint8Array): SigningKey {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new DimeError('BAD_KEY_LENGTH', 'an Ed25519 seed is 32 bytes');
    }
    const pk = new Uint8Array(32);
    const sk = new Uint8Array(64);
    na.crypto_sign_seed_keypair(pk, sk, seed);
    return new SigningKey(sk, pk);
  }

  /** libsodium's crypto_sign_detached over bytes in memory. */
  sign(message: Uint8Array): Uint8Array {
    if (message.length > STREAMING_THRESHOLD) return this.signStreaming((sink) => sink(message));
    const sig = new Uint8Array(64);
    na.crypto_sign_detached(sig, message, this.sk);
    return sig;
  }

  /** The same signature over a message given twice by `feed` (two passes). */
  signStreaming(feed: MessageFeed): Uint8Array {
    const h = new Uint8Array(64);
    na.crypto_hash_sha512(h, this.sk.subarray(0, 32));
    const wide = new Uint8Array(64);
    let r: Uint8Array | null = null;
    let a: Uint8Array | null = null;
    let ka: Uint8Array | null = null;
    try {
      // a = clamp(h[0..32)), reduced mod L so that every scalar sum stays below 2^256
      h[0]! &= 248;
      h[31]! &= 127;
      h[31]! |= 64;
      wide.set(h.subarray(0, 32));
      a = reduce64(wide);
      const nonce = createHash('sha512').update(h.subarray(32, 64));
      feed((b) => nonce.update(b));
      const rd = nonce.digest();
      r = reduce64(rd);
      na.sodium_memzero(rd);
      const R = new Uint8Array(32);
      try {
        na.crypto_scalarmult_ed25519_base_noclamp(R, r);
      } catch {
        throw new DimeError('BAD_INPUT', 'Ed25519 nonce is zero');
      }
      const challenge = createHash('sha512').update(R).update(this.publicKey);
      feed((b) => challenge.update(b));
      const k = reduce64(challenge.digest());
      ka = mulPublicBySecret(k, a);
      const sig = new Uint8Array(64);
      sig.set(R, 0);
      const s = sig.subarray(32);
      na.crypto_core_ed25519_scalar_add(s, r, ka);
      return sig;
    } finally {
      na.sodium_memzero(h);
      na.sodium_memzero(wide);
      for (const x of [r, a, ka]) if (x) na.sodium_memzero(x);
    }
  }

  /** Signs the bytes [start, end) of a source (two passes when they are not in memory). */
  signRange(source: ByteSource, start: number, end: number): Uint8Array {
    const v = source.view(start, end - start);
    if (v) return this.sign(v);
    return this.signStreaming((sink) => {
      for (const b of blocks(source, start, end)) sink(b);
    });
  }

  destroy(): void {
    na.sodium_memzero(this.sk);
  }
}

/** libsodium's blocklist of small-order point encodings (the top bit is ignored). */
const SMALL_ORDER: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => new Uint8Array(Buffer.from(h, 'hex')));

function hasSmallOrder(p: Uint8Array): boolean {
  return SMALL_ORDER.some((s) => {
    for (let i = 0; i < 31; i++) if (p[i] !== s[i]) return false;
    return (p[31]! & 0x7f) === s[31];
  });
}

/** y < 2^255 − 19 (libsodium ge25519_is_canonical). */
function isCanonicalPoint(p: Uint8Array): boolean {
  if ((p[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (p[i] !== 0xff) return true;
  return p[0]! < 0xed;
}

function isCanonicalScalar(s: Uint8Array): boolean {
  const wide = new Uint8Array(64);
  wide.set(s);
  const red = reduce64(wide);
  for (let i = 0; i < 32; i++) if (red[i] !== s[i]) return false;
  return true;
}

/**
 * One-pass verification of a signature over a streamed message: feed the message with update(),
 * then finish(). Accepts exactly the signatures whose [S]B − [k]A encodes to R, with S canonical
 * and neither R nor A of small order (libsodium's rules; A must also lie in the prime-order
 * subgroup, which every real key does).
 */
export class Ed25519Verifier {
  private readonly hash = createHash('sha512');
  private readonly ok: boolean;

  constructor(
    private readonly publicKey: Uint8Array,
    private readonly signature: Uint8Array,
  ) {
    this.ok =
      publicKey.length === 32 &&
      signature.length === 64 &&
      isCanonicalScalar(signature.subarray(32)) &&
      !hasSmallOrder(signature.subarray(0, 32)) &&
      isCanonicalPoint(publicKey) &&
      !hasSmallOrder(publicKey);
    if (this.ok) this.hash.update(signature.subarray(0, 32)).update(publicKey);
  }

  update(bytes: Uint8Array): void {
    if (this.ok) this.hash.update(bytes);
  }

  finish(): boolean {
    if (!this.ok) return false;
    const k = reduce64(this.hash.digest());
    const sB = new Uint8Array(32);
    const kA = new Uint8Array(32);
    const check = new Uint8Array(32);
    try {
      na.crypto_scalarmult_ed25519_base_noclamp(sB, this.signature.subarray(32));
      na.crypto_scalarmult_ed25519_noclamp(kA, k, this.publicKey);
      na.crypto_core_ed25519_sub(check, sB, kA);
    } catch {
      // a zero scalar, or a key outside the prime-order subgroup
      return false;
    }
    const R = this.signature.subarray(0, 32);
    for (let i = 0; i < 32; i++) if (check[i] !== R[i]) return false;
    return true;
  }
}

/** Verifies a signature over bytes in memory (libsodium one-shot, streaming when large). */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if (message.length > STREAMING_THRESHOLD) {
    const v = new Ed25519Verifier(publicKey, signature);
    v.update(message);
    return v.finish();
  }
  return na.crypto_sign_verify_detached(signature, message, publicKey);
}

/**
 * A signature check over a range of a source that a single pass over the source feeds chunk by
 * chunk: in memory it waits for finish() and checks the whole view at once; otherwise it hashes
 * what it is fed.
 */
export interface RangeCheck {
  update(bytes: Uint8Array): void;
  finish(): boolean;
}

export function rangeCheck(
  publicKey: Uint8Array,
  signature: Uint8Array,
  source: ByteSource,
  start: number,
  end: number,
): RangeCheck {
  const v = source.view(start, end - start);
  if (v && v.length <= STREAMING_THRESHOLD) {
    return { update: () => {}, finish: () => ed25519Verify(publicKey, v, signature) };
  }
  return new Ed25519Verifier(publicKey, signature);
}
