import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { concatBytes, u24be, utf8 } from '../../src/encoding/bytes.js';
import { toHex } from '../../src/encoding/hex.js';
import { chainedSha512, sha512Fast, sha512Streaming } from '../../src/stacie/hash-chain.js';
import { deriveKey, deriveSeed, deriveToken } from '../../src/stacie/index.js';
import { hmacSha512Repeated } from '../../src/stacie/repeat-hmac.js';

/** stacie.md §4 written literally, one provider call per round: the reference for the fast paths. */
function naiveChain(parts: Uint8Array[], rounds: number): Uint8Array {
  let h = crypto().sha512(...parts, u24be(0));
  for (let i = 1; i < rounds; i++) h = crypto().sha512(h, ...parts, u24be(i));
  return h;
}

function naiveRepeatedHmac(key: Uint8Array, data: Uint8Array, count: number): Uint8Array {
  const mac = createHmac('sha512', key);
  for (let i = 0; i < count; i++) mac.update(data);
  return new Uint8Array(mac.digest());
}

const salt = Uint8Array.from({ length: 128 }, (_, i) => (i * 37 + 11) & 0xff);
const base = Uint8Array.from({ length: 64 }, (_, i) => (i * 13 + 5) & 0xff);

describe('chainedSha512 (derive_key / derive_token core)', () => {
  it('equals the literal definition for 1 … 300 rounds', () => {
    const parts = [base, utf8('bob'), salt, utf8('hunter2')];
    for (const r of [1, 2, 3, 8, 255, 256, 257, 300]) {
      expect(toHex(chainedSha512(parts, r))).toBe(toHex(naiveChain(parts, r)));
    }
  });

  it('writes all three counter bytes (rounds past 2^16)', () => {
    const parts = [base, utf8('u'), salt, utf8('p')];
    expect(toHex(chainedSha512(parts, 65_540))).toBe(toHex(naiveChain(parts, 65_540)));
  });

  it('the one-shot and streaming SHA-512 agree', () => {
    const parts = [base, utf8('carol'), salt, utf8('pw')];
    expect(toHex(chainedSha512(parts, 50, sha512Streaming))).toBe(
      toHex(chainedSha512(parts, 50, sha512Fast)),
    );
  });

  it('deriveKey and deriveToken use the documented order of inputs', () => {
    const user = utf8('user@example.tld');
    const pw = utf8('pässword');
    const nonce = new Uint8Array(128).fill(0xa5);
    expect(toHex(deriveKey(base, 20, user, pw, salt))).toBe(toHex(naiveChain([base, user, salt, pw], 20)));
    expect(toHex(deriveToken(base, user, salt))).toBe(toHex(naiveChain([base, user, salt], 8)));
    expect(toHex(deriveToken(base, user, salt, nonce))).toBe(toHex(naiveChain([base, user, salt, nonce], 8)));
  });

  it('does not modify its inputs', () => {
    const pw = utf8('secret');
    const copy = concatBytes(base, salt, pw);
    deriveKey(base, 8, utf8('x'), pw, salt);
    expect(toHex(concatBytes(base, salt, pw))).toBe(toHex(copy));
  });
});

describe('hmacSha512Repeated (seed core)', () => {
  it('equals one update per copy for every batch split', () => {
    const key = salt;
    for (const data of [utf8('a'), utf8('password'), utf8('x'.repeat(1000)), utf8('😀é')]) {
      for (const count of [1, 2, 7, 8, 9, 100, 1000]) {
        const want = toHex(naiveRepeatedHmac(key, data, count));
        for (const batch of [1, 3, 8, 64, 1000, 4096, 1 << 20]) {
          expect(toHex(hmacSha512Repeated(key, data, count, batch))).toBe(want);
        }
      }
    }
  });

  it('deriveSeed equals the literal definition', () => {
    const pw = utf8('correct horse');
    expect(toHex(deriveSeed(pw, salt, 4224))).toBe(toHex(naiveRepeatedHmac(salt, pw, 4224)));
    expect(toHex(deriveSeed(pw, salt, 8))).toBe(toHex(crypto().hmacSha512(salt, ...Array(8).fill(pw))));
  });
});
