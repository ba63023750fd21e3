import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sodium } from '../../src/crypto/native.js';
import {
  Ed25519Verifier,
  ed25519Verify,
  FileSource,
  MemorySource,
  rangeCheck,
  SigningKey,
  STREAMING_THRESHOLD,
} from '../../src/message/index.js';
import { tempDir } from '../helpers/cli.js';

interface Sodium {
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
}
const na = sodium as unknown as Sodium;

function reference(seed: Uint8Array, message: Uint8Array) {
  const pk = new Uint8Array(32);
  const sk = new Uint8Array(64);
  na.crypto_sign_seed_keypair(pk, sk, seed);
  const sig = new Uint8Array(64);
  na.crypto_sign_detached(sig, message, sk);
  return { pk, sig };
}

/** Feeds a message in pieces cut at the given points. */
function feeder(message: Uint8Array, cuts: number[]) {
  const points = [...new Set(cuts.map((c) => c % (message.length + 1)))].sort((a, b) => a - b);
  return (sink: (b: Uint8Array) => void) => {
    let at = 0;
    for (const p of [...points, message.length]) {
      sink(message.subarray(at, p));
      at = p;
    }
  };
}

const streamVerify = (pk: Uint8Array, sig: Uint8Array, message: Uint8Array, cuts: number[] = []) => {
  const v = new Ed25519Verifier(pk, sig);
  feeder(message, cuts)((b) => v.update(b));
  return v.finish();
};

describe('streaming Ed25519 (two-pass sign, one-pass verify) against libsodium', () => {
  it('signs exactly like crypto_sign_detached and verifies, however the message is cut', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (seed, message, cuts) => {
          const ref = reference(seed, message);
          const key = SigningKey.fromSeed(seed);
          expect(Buffer.from(key.signStreaming(feeder(message, cuts))).equals(Buffer.from(ref.sig))).toBe(
            true,
          );
          expect(Buffer.from(key.sign(message)).equals(Buffer.from(ref.sig))).toBe(true);
          expect(Buffer.from(key.publicKey).equals(Buffer.from(ref.pk))).toBe(true);
          expect(streamVerify(ref.pk, ref.sig, message, cuts)).toBe(true);
          key.destroy();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepts and rejects exactly what crypto_sign_verify_detached does on mutations', () => {
    const mutation = fc.record({
      where: fc.constantFrom('sig', 'message', 'key'),
      pos: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        mutation,
        (seed, message, m) => {
          const { pk, sig } = reference(seed, message);
          const s = new Uint8Array(sig);
          const msg = new Uint8Array(message);
          const k = new Uint8Array(pk);
          const target = m.where === 'sig' ? s : m.where === 'message' ? msg : k;
          target[m.pos % target.length]! ^= m.xor;
          const want = na.crypto_sign_verify_detached(s, msg, k);
          expect(streamVerify(k, s, msg)).toBe(want);
          expect(want).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rejects non-canonical S, small-order R and small-order keys like libsodium', () => {
    const seed = randomBytes(32);
    const message = randomBytes(100);
    const { pk, sig } = reference(seed, message);
    // S + L is the same scalar, not canonical
    const L = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');
    const big = new Uint8Array(sig);
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = big[32 + i]! + L[i]! + carry;
      big[32 + i] = v & 0xff;
      carry = v >> 8;
    }
    expect(na.crypto_sign_verify_detached(big, message, pk)).toBe(false);
    expect(streamVerify(pk, big, message)).toBe(false);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const smallR = new Uint8Array(sig);
    smallR.set(identity, 0);
    expect(streamVerify(pk, smallR, message)).toBe(na.crypto_sign_verify_detached(smallR, message, pk));
    expect(streamVerify(identity, sig, message)).toBe(false);
    expect(streamVerify(pk.subarray(0, 31), sig, message)).toBe(false);
    expect(streamVerify(pk, sig.subarray(0, 63), message)).toBe(false);
  });

  it('large messages take the streaming path in memory and give the same signature', () => {
    const seed = randomBytes(32);
    const message = randomBytes(STREAMING_THRESHOLD * 3 + 17);
    const ref = reference(seed, message);
    const key = SigningKey.fromSeed(seed);
    expect(Buffer.from(key.sign(message)).equals(Buffer.from(ref.sig))).toBe(true);
    expect(ed25519Verify(ref.pk, message, ref.sig)).toBe(true);
    const bad = new Uint8Array(message);
    bad[STREAMING_THRESHOLD * 2]! ^= 1;
    expect(ed25519Verify(ref.pk, bad, ref.sig)).toBe(false);
  });

  it('signs and checks a byte range of a file in passes of 1 MiB blocks', () => {
    const dir = tempDir();
    try {
      const data = randomBytes(3 * 1024 * 1024 + 123);
      const path = join(dir, 'm.bin');
      writeFileSync(path, data);
      const seed = randomBytes(32);
      const key = SigningKey.fromSeed(seed);
      const file = FileSource.open(path);
      try {
        const [start, end] = [1000, data.length - 77];
        const ref = reference(seed, data.subarray(start, end));
        expect(Buffer.from(key.signRange(file, start, end)).equals(Buffer.from(ref.sig))).toBe(true);
        expect(
          Buffer.from(key.signRange(new MemorySource(data), start, end)).equals(Buffer.from(ref.sig)),
        ).toBe(true);
        const check = rangeCheck(ref.pk, ref.sig, file, start, end);
        check.update(data.subarray(start, end));
        expect(check.finish()).toBe(true);
        const small = rangeCheck(ref.pk, ref.sig, new MemorySource(data), 0, 10);
        expect(small.finish()).toBe(false);
      } finally {
        file.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
