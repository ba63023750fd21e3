import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import {
  buildRecordText,
  type ManagementRecord,
  POLICIES,
  parseRecord,
  type RecordContent,
  recordFailureReason,
  recordToJson,
  SUBDOMAIN_POLICIES,
  sameRecord,
  zoneStrings,
} from '../../src/record/index.js';
import { b64, bytesOf } from './helpers.js';

const VOCABULARY = new Set([
  'version',
  'missing_pok',
  'pok_length',
  'tls_length',
  'policy',
  'subdomain',
  'exp',
  'syntax',
  'too_long',
  'too_many',
]);

/** Parses; any throw must be BAD_RECORD with a vocabulary reason; a result must satisfy the invariants. */
function parseChecked(strings: string[], reasons?: Set<string>): ManagementRecord | null {
  let r: ManagementRecord;
  try {
    r = parseRecord(strings);
  } catch (e) {
    if (
      !(e instanceof DimeError) ||
      e.code !== 'BAD_RECORD' ||
      !VOCABULARY.has(recordFailureReason(e) ?? '')
    ) {
      throw new Error(`unexpected failure for ${JSON.stringify(strings)}: ${String(e)}`);
    }
    reasons?.add(recordFailureReason(e)!);
    return null;
  }
  if (r.pok.length < 1 || r.pok.length > 8 || r.pok.some((k) => k.length !== 32))
    throw new Error('bad pok list');
  if (r.tls.length > 8 || r.tls.some((s) => s.length !== 64)) throw new Error('bad tls list');
  if (r.dx.length > 8 || r.dx.some((h) => h.length === 0 || /[ \t;]/.test(h))) throw new Error('bad dx list');
  if (r.exp !== null && !(Number.isInteger(r.exp) && r.exp >= 1 && r.exp <= 3650)) throw new Error('bad exp');
  if (r.syndicates !== null && (r.syndicates.length === 0 || /[ \t;]/.test(r.syndicates)))
    throw new Error('bad syn');
  if (!POLICIES.includes(r.policy) || !SUBDOMAIN_POLICIES.includes(r.subdomain)) throw new Error('bad enum');
  // whatever parses can be written back (unless the canonical form outgrows 4000 bytes) and says the same
  let text: string | null = null;
  try {
    text = buildRecordText(r);
  } catch (e) {
    if (recordFailureReason(e) !== 'too_long') throw e;
  }
  if (text !== null && !sameRecord(parseRecord([text]), r)) throw new Error('rebuilt record differs');
  return r;
}

/** Cuts a text into character-strings at the given points (joined back with nothing between them). */
function cut(text: string, points: number[]): string[] {
  const at = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(text.slice(prev, p));
    prev = p;
  }
  out.push(text.slice(prev));
  return out;
}

const NAMES = ['ver', 'version', 'pok', 'primary', 'tls', 'pol', 'policy', 'syn', 'syndicates'];
NAMES.push('dx', 'deliver', 'exp', 'expiry', 'sub', 'subdomain', 'foo', 'x', '', 'pokx', 'po\u212a');

const randomCase = (s: string, mask: number) =>
  [...s].map((c, i) => ((mask >> i) & 1 ? c.toUpperCase() : c)).join('');

// Pools built once, so that each run only draws small integers (fast enough for 100 000 runs).
const POKS = Array.from({ length: 16 }, (_, i) => bytesOf(32, 100 + i));
const SIGS = Array.from({ length: 16 }, (_, i) => bytesOf(64, 200 + i));
const WORDS = ['dx.example.org', 'A', 'x=y', '"q"', 'back\\slash', 'é', '\u0000', '😀', 'a\nb', '==', '-'];
const VALUES: string[] = [
  ...POKS.map(b64),
  ...SIGS.slice(0, 8).map(b64),
  b64(POKS[0]!).slice(1),
  `${b64(POKS[1]!)}=`,
  `${b64(POKS[2]!)}A`,
  `${b64(POKS[3]!).slice(1)}-`,
  b64(SIGS[9]!).slice(2),
  `${b64(SIGS[10]!)}==`,
  `${b64(SIGS[11]!).slice(1)}_`,
  b64(bytesOf(48, 7)),
  ...['experimental', 'MIXED', 'strict', 'relaxed', 'Explicit', 'lenient', 'relax', 'strict='],
  ...['1', '0', '01', '2', '-1', '30', '3650', '3651', '1abc', '99999999999999999999', ''],
  ...WORDS,
];
const SEPS = [' ', ' ', ' ', ' ', '\t', ';', '; ', '  ', '', '\n', '='];

/** One token: mostly name=value, sometimes a bare name or a bare value. */
const tokenArb = fc
  .tuple(fc.nat({ max: NAMES.length - 1 }), fc.nat({ max: VALUES.length - 1 }), fc.nat({ max: 1023 }))
  .map(([n, v, m]) => {
    const name = randomCase(NAMES[n]!, m >> 3);
    const shape = m & 7;
    return shape === 0 ? name : shape === 1 ? VALUES[v]! : `${name}=${VALUES[v]!}`;
  });
/** Well-formed tokens, so that many soups parse and the lists reach their limit of 8. */
const GOOD_TOKENS = [
  ...POKS.map((k) => `pok=${b64(k)}`),
  ...SIGS.map((k) => `tls=${b64(k)}`),
  ...[
    'ver=1',
    'pol=strict',
    'POLICY=Mixed',
    'dx=dx.example.org',
    'deliver=b',
    'exp=30',
    'sub=relaxed',
    'syn=s',
  ],
  ...['foo=bar', 'unknown'],
];
const goodTokenArb = fc.nat({ max: GOOD_TOKENS.length - 1 }).map((i) => GOOD_TOKENS[i]!);

const soupArb = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.oneof(
          { arbitrary: goodTokenArb, weight: 20 },
          { arbitrary: tokenArb, weight: 6 },
          fc.string({ maxLength: 6 }),
        ),
        fc.nat({ max: SEPS.length - 1 }),
        fc.oneof({ arbitrary: fc.constant(1), weight: 30 }, fc.integer({ min: 2, max: 10 })),
      ),
      { maxLength: 10 },
    ),
    fc.array(fc.nat(), { maxLength: 3 }),
  )
  .map(([parts, points]) => cut(parts.map(([t, s, n]) => (t + SEPS[s]!).repeat(n)).join(''), points));

/** A valid record from the pools, for the mutation fuzzer. */
const pooledContentArb: fc.Arbitrary<RecordContent> = fc
  .record({
    pok: fc.array(fc.nat({ max: POKS.length - 1 }), { minLength: 1, maxLength: 8 }),
    tls: fc.array(fc.nat({ max: SIGS.length - 1 }), { maxLength: 8 }),
    policy: fc.constantFrom(...POLICIES),
    syndicates: fc.option(fc.constantFrom(...WORDS), { nil: null }),
    dx: fc.array(fc.constantFrom(...WORDS), { maxLength: 8 }),
    exp: fc.option(fc.integer({ min: 1, max: 3650 }), { nil: null }),
    subdomain: fc.constantFrom(...SUBDOMAIN_POLICIES),
  })
  .map((c) => ({ ...c, pok: c.pok.map((i) => POKS[i]!), tls: c.tls.map((i) => SIGS[i]!) }));

/** Random valid records with random bytes and values, for the round-trip property. */
const wordArb = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('a', 'Z', '0', '.', '-', '=', '"', '\\'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 24,
  })
  .map((s) => s.replace(/[ \t;]/g, '_'));
const contentArb: fc.Arbitrary<RecordContent> = fc.record({
  pok: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 8 }),
  tls: fc.array(fc.uint8Array({ minLength: 64, maxLength: 64 }), { maxLength: 8 }),
  policy: fc.constantFrom(...POLICIES),
  syndicates: fc.option(wordArb, { nil: null }),
  dx: fc.array(wordArb, { maxLength: 8 }),
  exp: fc.option(fc.integer({ min: 1, max: 3650 }), { nil: null }),
  subdomain: fc.constantFrom(...SUBDOMAIN_POLICIES),
});

type Mutation = [kind: number, pos: number, len: number, ch: string];
const mutationArb: fc.Arbitrary<Mutation> = fc.tuple(
  fc.integer({ min: 0, max: 5 }),
  fc.nat(),
  fc.integer({ min: 0, max: 90 }),
  fc.oneof(
    fc.constantFrom(' ', ';', '\t', '=', 'a', 'A', '+', '/', '0', '1', '9', 'é', '-', '_'),
    fc.string({ maxLength: 2 }),
  ),
);

function mutate(text: string, muts: Mutation[]): string {
  let t = text;
  for (const [kind, rawPos, len, ch] of muts) {
    const pos = rawPos % (t.length + 1);
    switch (kind) {
      case 0: // insert
        t = t.slice(0, pos) + ch + t.slice(pos);
        break;
      case 1: // delete a range
        t = t.slice(0, pos) + t.slice(pos + len);
        break;
      case 2: // replace one character
        t = t.slice(0, pos) + ch + t.slice(pos + 1);
        break;
      case 3: // duplicate a range
        t = t.slice(0, pos + len) + t.slice(pos, pos + len) + t.slice(pos + len);
        break;
      case 4: // truncate
        t = t.slice(0, pos);
        break;
      default: // flip the case of a range
        t = t.slice(0, pos) + randomCase(t.slice(pos, pos + len).toLowerCase(), rawPos) + t.slice(pos + len);
    }
  }
  return t;
}

describe('record parser fuzzing (fast-check)', () => {
  // Capturing a stack trace is most of the cost of a rejected input; the fuzz runs do not need them.
  let stackTraceLimit: number;
  beforeAll(() => {
    stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  });
  afterAll(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });

  it('token soup: 100 000 inputs, only BAD_RECORD failures, parsed records are sound', () => {
    let valid = 0;
    const reasons = new Set<string>();
    fc.assert(
      fc.property(soupArb, (strings) => {
        if (parseChecked(strings, reasons)) valid++;
      }),
      { numRuns: 100_000 },
    );
    // the soup reaches the success path and every reason but too_long (it never gets that long)
    expect(valid).toBeGreaterThan(5000);
    expect([...reasons].sort()).toEqual([...VOCABULARY].filter((r) => r !== 'too_long').sort());
  });

  it('mutations of valid records: 100 000 inputs, only BAD_RECORD failures', () => {
    let valid = 0;
    fc.assert(
      fc.property(
        pooledContentArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (content, muts, points) => {
          if (parseChecked(cut(mutate(buildRecordText(content), muts), points))) valid++;
        },
      ),
      { numRuns: 100_000 },
    );
    expect(valid).toBeGreaterThan(1000);
  });

  it('random valid records: build → parse (whole, zone-split, randomly cut) → equal', () => {
    fc.assert(
      fc.property(contentArb, fc.array(fc.nat(), { maxLength: 4 }), (content, points) => {
        const text = buildRecordText(content);
        const parsed = parseRecord([text]);
        const expected = {
          version: 1,
          pok: content.pok.map((b) => Buffer.from(b).toString('hex')),
          tls: (content.tls ?? []).map((b) => Buffer.from(b).toString('hex')),
          policy: content.policy,
          syndicates: content.syndicates,
          dx: content.dx,
          exp: content.exp,
          subdomain: content.subdomain,
        };
        expect(recordToJson(parsed)).toEqual(expected);
        const zone = zoneStrings(text);
        for (const z of zone) expect(Buffer.byteLength(z)).toBeLessThanOrEqual(255);
        expect(zone.join('')).toBe(text);
        expect(recordToJson(parseRecord(zone))).toEqual(expected);
        expect(recordToJson(parseRecord(cut(text, points)))).toEqual(expected);
        expect(buildRecordText(parsed)).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });

  it('pathological inputs are rejected or parsed quickly', () => {
    const inputs = [
      ' '.repeat(4000),
      ';'.repeat(4000),
      '='.repeat(4000),
      'a'.repeat(4000),
      'pok='.repeat(1000),
      `pok=${'A'.repeat(3996)}`,
      'x=y '.repeat(1000),
      'a'.repeat(1_000_000),
    ];
    const started = performance.now();
    for (const s of inputs) expect(parseChecked([s])).toBeNull();
    expect(parseChecked(Array.from({ length: 100_000 }, () => 'a'))).toBeNull();
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
