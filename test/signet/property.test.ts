import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { armor, dearmor } from '../../src/encoding/armor.js';
import { decodeObjectInput } from '../../src/encoding/input.js';
import { DimeError } from '../../src/errors/index.js';
import { generateKeys, parseKeys, serializeKeys } from '../../src/keys/index.js';
import {
  createOrgSignet,
  createSsr,
  type InfoField,
  parseSignet,
  type Signet,
  signRequest,
  type VerifyResult,
  verifySignet,
} from '../../src/signet/index.js';
import { fuzzRuns } from '../helpers/fuzz.js';

const orgKeys = generateKeys('org');
const prevKeys = generateKeys('user');
const userKeys = generateKeys('user');

const textField = (ids: number[]) =>
  fc.record({
    id: fc.constantFrom(...ids),
    data: fc.uint8Array({ maxLength: 300 }),
  });

/** Random informational fields: repeatable ones may repeat, unique ones appear once. */
function infoFields(kind: 'org' | 'user'): fc.Arbitrary<InfoField[]> {
  const unique =
    kind === 'org'
      ? [16, 17, 18, 19, 20, 22, 25, 27, 40, 160, 200, 205, 230]
      : [16, 17, 93, 94, 99, 120, 160, 200, 201, 240];
  const repeat = kind === 'org' ? [21] : [21, 202];
  return fc
    .tuple(
      fc.uniqueArray(fc.constantFrom(...unique), { maxLength: 6 }),
      fc.array(textField(repeat), { maxLength: 3 }),
      fc.array(
        fc.record({ name: fc.uint8Array({ maxLength: 20 }), data: fc.uint8Array({ maxLength: 40 }) }),
        { maxLength: 2 },
      ),
      fc.uint8Array({ maxLength: 200 }),
    )
    .map(([ids, reps, undef, data]) => [
      ...ids.map((id) => ({ id, data: data.subarray(0, (id * 7) % 200) })),
      ...reps.map((r) => ({ id: r.id, data: r.data.subarray(0, 255) })),
      ...undef.map((u) => ({ id: 251, name: u.name, data: u.data })),
    ]);
}

const stage = fc.constantFrom('crypto' as const, 'full' as const, 'id' as const);

/**
 * A damaged object must be refused with a DimeError. The one thing the format allows is a
 * crypto-stage signet whose informational fields no signature covers (libdime's SS_CRYPTO, and the
 * vectors' seedA-org-signet-repeated-phone): a mutation can turn the signed tail into such
 * fields. Then the signed part must be intact and every changed byte must be reported unsigned.
 */
function expectRefused(original: Signet, bytes: Uint8Array, run: () => VerifyResult): void {
  let r: VerifyResult;
  try {
    r = run();
  } catch (e) {
    if (!(e instanceof DimeError)) throw e;
    return;
  }
  const s = parseSignet(bytes);
  const firstUnsigned = s.fields.find((f) => r.unsignedFields.includes(f.id));
  const signedEnd = 5 + (firstUnsigned ? firstUnsigned.offset : s.payload.length);
  expect(r.unsignedFields.length).toBeGreaterThan(0);
  expect(
    Buffer.from(bytes.subarray(5, signedEnd)).equals(Buffer.from(original.bytes.subarray(5, signedEnd))),
  ).toBe(true);
}

describe('round trips of random valid objects', () => {
  it('org signets: build → parse → identical bytes, all signatures valid, all encodings', () => {
    fc.assert(
      fc.property(infoFields('org'), stage, (info, st) => {
        const s = createOrgSignet(orgKeys, { stage: st, domain: 'example.org', info });
        const back = parseSignet(new Uint8Array(s.bytes));
        expect(Buffer.from(back.bytes).equals(Buffer.from(s.bytes))).toBe(true);
        expect(verifySignet(back, { pok: [orgKeys.signingPublic] }).complete).toBe(true);
        const text = armor('ORGANIZATIONAL SIGNET', s.bytes);
        expect(Buffer.from(dearmor(text).binary).equals(Buffer.from(s.bytes))).toBe(true);
        const b64 = new TextEncoder().encode(Buffer.from(s.bytes).toString('base64'));
        expect(Buffer.from(decodeObjectInput(b64).binary).equals(Buffer.from(s.bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('user signets (with and without custody): build → parse → identical, verify', () => {
    const prev = signRequest(createSsr(prevKeys), orgKeys, { stage: 'crypto' });
    fc.assert(
      fc.property(infoFields('user'), stage, fc.boolean(), (info, st, custody) => {
        const ssr = createSsr(userKeys, custody ? prevKeys : undefined);
        const u = signRequest(ssr, orgKeys, {
          stage: st,
          address: 'a@example.org',
          info,
          ...(custody ? { previous: prev } : {}),
        });
        const back = parseSignet(new Uint8Array(u.bytes));
        expect(Buffer.from(back.bytes).equals(Buffer.from(u.bytes))).toBe(true);
        const org = createOrgSignet(orgKeys, { domain: 'example.org' });
        const r = verifySignet(back, { org, ...(custody ? { previous: prev } : {}) });
        expect(r.complete).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('key files: both layouts round-trip', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('org' as const, 'user' as const),
        fc.constantFrom('libdime' as const, 'prime' as const),
        (kind, form) => {
          const k = generateKeys(kind);
          const bin = serializeKeys(k, form);
          const back = parseKeys(bin);
          expect(back.form).toBe(form);
          expect(Buffer.from(serializeKeys(back, form)).equals(Buffer.from(bin))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('fuzz: damaged signets never verify and only raise DimeError', () => {
  const org = createOrgSignet(orgKeys, {
    domain: 'example.org',
    info: [
      { id: 16, data: new TextEncoder().encode('Example Org') },
      { id: 21, data: Uint8Array.of(1, 2) },
      { id: 21, data: Uint8Array.of(3) },
      { id: 251, name: Uint8Array.of(65), data: Uint8Array.of(66) },
    ],
  });
  const prev = signRequest(createSsr(prevKeys), orgKeys, { stage: 'crypto' });
  const user = signRequest(createSsr(userKeys, prevKeys), orgKeys, {
    address: 'user@example.org',
    info: [{ id: 202, data: Uint8Array.of(7, 7) }],
  });
  const ssr = createSsr(userKeys);
  const samples: Signet[] = [org, user, ssr];
  const ctx = (s: Signet) =>
    s.kind === 'org' ? { pok: [orgKeys.signingPublic] } : s.kind === 'user' ? { org, previous: prev } : {};
  const check = (original: Signet, bytes: Uint8Array) =>
    expectRefused(original, bytes, () => {
      const s = parseSignet(bytes);
      return verifySignet(s, ctx(s));
    });

  const total = fuzzRuns();
  const sample = fc.nat({ max: samples.length - 1 }).map((i) => samples[i]!);

  it(`byte mutations (${Math.round(total / 2)} runs)`, () => {
    fc.assert(
      fc.property(
        sample,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (s, muts) => {
          const b = new Uint8Array(s.bytes);
          for (const [pos, x] of muts) b[pos % b.length]! ^= x;
          // two flips of the same byte can cancel out: that is no mutation
          fc.pre(!Buffer.from(b).equals(Buffer.from(s.bytes)));
          check(s, b);
        },
      ),
      { numRuns: Math.round(total / 2) },
    );
  });

  it(`truncations (${Math.round(total / 4)} runs)`, () => {
    fc.assert(
      fc.property(sample, fc.nat(), (s, n) => check(s, s.bytes.slice(0, n % s.bytes.length))),
      { numRuns: Math.round(total / 4) },
    );
  });

  it(`extensions, with and without a fixed-up header (${Math.round(total / 4)} runs)`, () => {
    fc.assert(
      fc.property(
        sample,
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        fc.boolean(),
        (s, extra, fixHeader) => {
          const b = new Uint8Array(s.bytes.length + extra.length);
          b.set(s.bytes);
          b.set(extra, s.bytes.length);
          if (fixHeader) {
            const size = b.length - 5;
            b[2] = size >>> 16;
            b[3] = (size >>> 8) & 0xff;
            b[4] = size & 0xff;
          }
          check(s, b);
        },
      ),
      { numRuns: Math.round(total / 4) },
    );
  });
});
