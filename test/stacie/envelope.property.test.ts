import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import { realmDecrypt, realmEncrypt } from '../../src/stacie/index.js';

const key64 = fc.uint8Array({ minLength: 64, maxLength: 64 });
const data = fc.uint8Array({ minLength: 1, maxLength: 300 });

type Mutation =
  | { kind: 'xor'; at: number; mask: number }
  | { kind: 'truncate'; to: number }
  | { kind: 'extend'; extra: Uint8Array }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('xor' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), to: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }),
  }),
);

function mutate(env: Uint8Array, m: Mutation): Uint8Array {
  const out = env.slice();
  switch (m.kind) {
    case 'xor':
      out[m.at % out.length] = (out[m.at % out.length] as number) ^ m.mask;
      return out;
    case 'set':
      out[m.at % out.length] = m.value;
      return out;
    case 'truncate':
      return out.subarray(0, m.to % out.length);
    case 'extend': {
      const longer = new Uint8Array(out.length + m.extra.length);
      longer.set(out);
      longer.set(m.extra, out.length);
      return longer;
    }
    case 'splice': {
      const at = m.at % out.length;
      for (let i = 0; i < m.bytes.length && at + i < out.length; i++) out[at + i] = m.bytes[i] as number;
      return out;
    }
  }
}

/** Byte positions from 2 on (vshard, tshard, ciphertext) are all authenticated or feed the IV/tag. */
function sameAfterSerial(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 2; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('realm envelope properties', () => {
  it('round-trips random data under random keys and serials', () => {
    fc.assert(
      fc.property(key64, data, fc.integer({ min: 0, max: 0xffff }), (key, d, serial) => {
        const env = realmEncrypt(key, d, serial);
        expect(env.length).toBe(34 + Math.ceil((d.length + 4 + 1) / 16) * 16);
        expect((env.length - 34) % 16).toBe(0);
        expect(Buffer.from(realmDecrypt(key, env)).equals(Buffer.from(d))).toBe(true);
      }),
      { numRuns: 10_000 },
    );
  });

  it('mutated envelopes only ever throw DimeError DECRYPT_FAILED (or decrypt if only the serial changed)', () => {
    fc.assert(
      fc.property(key64, data, fc.array(mutation, { minLength: 1, maxLength: 3 }), (key, d, ms) => {
        const env = realmEncrypt(key, d);
        let bad = env;
        for (const m of ms) if (bad.length > 0) bad = mutate(bad, m);
        try {
          const out = realmDecrypt(key, bad);
          // only an unchanged body (serial bytes are not authenticated) may open
          expect(sameAfterSerial(env, bad)).toBe(true);
          expect(Buffer.from(out).equals(Buffer.from(d))).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(DimeError);
          expect((e as DimeError).code).toBe('DECRYPT_FAILED');
          expect(sameAfterSerial(env, bad)).toBe(false);
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('random byte strings never decrypt and only throw DimeError', () => {
    fc.assert(
      fc.property(key64, fc.uint8Array({ minLength: 0, maxLength: 200 }), (key, junk) => {
        try {
          realmDecrypt(key, junk);
          return false;
        } catch (e) {
          return e instanceof DimeError && e.code === 'DECRYPT_FAILED';
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('a different key never opens an envelope', () => {
    fc.assert(
      fc.property(key64, key64, data, (k1, k2, d) => {
        fc.pre(!Buffer.from(k1).equals(Buffer.from(k2)));
        const env = realmEncrypt(k1, d);
        try {
          realmDecrypt(k2, env);
          return false;
        } catch (e) {
          return e instanceof DimeError && e.code === 'DECRYPT_FAILED';
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
