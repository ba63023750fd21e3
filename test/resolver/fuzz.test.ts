/**
 * Fuzz of the DNS answer path: parseResponse (validation against the query, decoding, CNAME chain,
 * bailiwick), classifyResponse and, for TXT data, the record choice. 100 000 random and mutated
 * answers (DIME_FUZZ_RUNS to change), seeded with real answers captured from Unbound (secure,
 * insecure, bogus SERVFAIL with EDE, NXDOMAIN with NSEC proofs, truncated, TCP-sized, MX, CNAME) and
 * with crafted ones. Each must give a well-formed result or a DimeError DNS_MALFORMED; nothing else
 * may be thrown, and nothing may hang.
 */
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import { chooseRecord } from '../../src/record/index.js';
import {
  buildQuery,
  classifyResponse,
  type DnsResponse,
  type PreparedQuery,
  parseResponse,
  parseServerAddress,
  QUERY_TYPES,
  type QueryType,
} from '../../src/resolver/index.js';
import { tcpExchange } from '../../src/resolver/tcp.js';
import { udpExchange } from '../../src/resolver/udp.js';
import {
  aRecord,
  cnameRecord,
  type DnsHarness,
  mxRecord,
  startDnsHarness,
  txt,
} from '../helpers/dns-harness.js';
import { fuzzRuns } from '../helpers/fuzz.js';
import { recordText } from './helpers.js';

interface Seed {
  readonly query: PreparedQuery;
  readonly wire: Buffer;
  readonly label: string;
}

const seeds: Seed[] = [];
let h: DnsHarness | undefined;

/** Raw answers from the real validating resolver (UDP, and TCP when truncated). */
async function capture(name: string, type: QueryType, udpPayloadSize = 1232): Promise<void> {
  const server = parseServerAddress(h!.resolverAddress);
  const query = buildQuery(name, type, udpPayloadSize);
  const wire = await udpExchange(server, query.wire, 3000, (m) => m);
  seeds.push({ query, wire, label: `${name} ${type} udp` });
  if ((wire.readUInt16BE(2) & 0x0200) !== 0) {
    const tcp = await tcpExchange(server, query.wire, 3000);
    seeds.push({ query, wire: tcp, label: `${name} ${type} tcp` });
  }
}

/** Crafted answers for what the servers never send: CNAME loops, several OPT RRs, EDE, odd classes. */
function crafted(): void {
  const q = buildQuery('_dx.craft.test', 'TXT', 1232, 4242);
  const opt = (options: { code: number; data: Buffer }[] = [], extendedRcode = 0) =>
    ({
      type: 'OPT',
      name: '.',
      udpPayloadSize: 1232,
      extendedRcode,
      ednsVersion: 0,
      flags: dnsPacket.DNSSEC_OK,
      flag_do: true,
      options,
    }) as unknown as dnsPacket.Answer;
  const base = {
    type: 'response' as const,
    id: 4242,
    questions: [{ type: 'TXT' as const, name: '_dx.craft.test' }],
  };
  const add = (label: string, p: dnsPacket.Packet) =>
    seeds.push({ query: q, wire: dnsPacket.encode(p), label });
  const text = recordText(7);
  add('txt ad', {
    ...base,
    flags: dnsPacket.AUTHENTIC_DATA | dnsPacket.RECURSION_AVAILABLE,
    answers: [
      { type: 'TXT', name: '_dx.craft.test', ttl: 300, data: [text.slice(0, 40), text.slice(40)] },
      { type: 'TXT', name: '_dx.other.test', ttl: 300, data: 'out of bailiwick' },
    ],
    additionals: [opt()],
  });
  add('cname chain', {
    ...base,
    answers: [
      { type: 'CNAME', name: '_dx.craft.test', ttl: 60, data: 'a.craft.test' },
      { type: 'CNAME', name: 'a.craft.test', ttl: 60, data: 'b.craft.test' },
      { type: 'TXT', name: 'b.craft.test', ttl: 30, data: text },
    ],
  });
  add('cname loop', {
    ...base,
    answers: [
      { type: 'CNAME', name: '_dx.craft.test', ttl: 60, data: 'a.craft.test' },
      { type: 'CNAME', name: 'a.craft.test', ttl: 60, data: '_dx.craft.test' },
    ],
  });
  add('servfail ede', {
    ...base,
    flags: 2,
    additionals: [opt([{ code: 15, data: Buffer.from([0, 22, 0x61]) }])],
  });
  add('two opt', { ...base, additionals: [opt(), opt()] });
  add('badvers', { ...base, additionals: [opt([], 1)] });
  add('nxdomain soa', {
    ...base,
    flags: 3,
    authorities: [
      {
        type: 'SOA',
        name: 'craft.test',
        ttl: 120,
        data: {
          mname: 'ns.craft.test',
          rname: 'h.craft.test',
          serial: 1,
          refresh: 1,
          retry: 1,
          expire: 1,
          minimum: 30,
        },
      },
    ],
  });
  const mq = buildQuery('craft.test', 'MX', 1232, 77);
  seeds.push({
    query: mq,
    wire: dnsPacket.encode({
      type: 'response',
      id: 77,
      questions: [{ type: 'MX', name: 'craft.test' }],
      answers: [
        { type: 'MX', name: 'craft.test', ttl: 5, data: { preference: 10, exchange: 'mx.craft.test' } },
        { type: 'MX', name: 'craft.test', ttl: 5, data: { preference: 0, exchange: '.' } },
        { type: 'A', name: 'craft.test', ttl: 5, data: '127.0.0.1' },
      ],
    }),
    label: 'mx crafted',
  });
}

beforeAll(async () => {
  h = await startDnsHarness({
    zones: {
      'alpha.test': [
        txt('_dx', recordText(1, { dx: ['dx.alpha.test'] })),
        txt('_dx', 'v=spf1 -all'),
        aRecord('@'),
        aRecord('dx'),
        mxRecord('@', 10, 'mx1'),
        mxRecord('@', 20, 'mx2'),
        { name: '@', type: 'AAAA', data: '::1' },
        cnameRecord('alias', '_dx.alpha.test.'),
      ],
      'big.test': Array.from({ length: 6 }, (_, i) => txt('_dx', `f${i}-${'y'.repeat(240)}`)),
      'plain.test': [txt('_dx', recordText(2))],
      'bad.test': [txt('_dx', recordText(3))],
    },
    unsigned: ['plain.test'],
    bogus: ['_dx.bad.test'],
  });
  try {
    await capture('_dx.alpha.test', 'TXT');
    await capture('_dx.alpha.test', 'TXT', 512);
    await capture('alias.alpha.test', 'TXT');
    await capture('alpha.test', 'MX');
    await capture('alpha.test', 'A');
    await capture('alpha.test', 'AAAA');
    await capture('_dx.big.test', 'TXT');
    await capture('_dx.plain.test', 'TXT');
    await capture('_dx.bad.test', 'TXT');
    await capture('_dx.nowhere.test', 'TXT');
    await capture('nothing.alpha.test', 'MX');
    await capture('plain.test', 'A');
  } finally {
    await h.stop();
    h = undefined;
  }
  crafted();
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

const RCODES = new Set(Array.from({ length: 4096 }, (_, i) => i));

/** The property: a result that keeps its promises, or DNS_MALFORMED; never anything else. */
function check(query: PreparedQuery, wire: Buffer, trusted: boolean, stats: Map<string, number>): void {
  let r: DnsResponse;
  try {
    r = parseResponse(query, wire);
  } catch (e) {
    if (!(e instanceof DimeError) || e.code !== 'DNS_MALFORMED') {
      throw new Error(`unexpected throw for ${wire.toString('hex')}: ${String(e)}`);
    }
    const key = `malformed:${String(e.context.reason)}`;
    stats.set(key, (stats.get(key) ?? 0) + 1);
    return;
  }
  if (!RCODES.has(r.rcode)) throw new Error(`bad rcode ${r.rcode}`);
  if (r.ttl !== null && !(Number.isInteger(r.ttl) && r.ttl >= 0 && r.ttl <= 0x7fffffff))
    throw new Error('ttl');
  if (r.negativeTtl !== null && !(r.negativeTtl >= 0 && r.negativeTtl <= 0x7fffffff)) throw new Error('nttl');
  if ((r.ttl === null) !== (r.records.length === 0)) throw new Error('ttl without records');
  for (const rec of r.records) {
    if (rec.type !== query.type) throw new Error(`record of type ${rec.type} for ${query.type}`);
    if (rec.type === 'TXT' && !rec.strings.every((s) => typeof s === 'string')) throw new Error('txt');
    if (rec.type === 'MX' && !(typeof rec.exchange === 'string' && rec.preference <= 0xffff))
      throw new Error('mx');
  }
  const o = classifyResponse(r, trusted);
  stats.set(o.kind, (stats.get(o.kind) ?? 0) + 1);
  if (o.kind === 'data') {
    if (o.dnssec === 'secure' && !(trusted && r.authenticated)) throw new Error('secure without trusted AD');
    if (query.type === 'TXT') {
      try {
        chooseRecord(o.records.map((x) => (x.type === 'TXT' ? x.strings : [])));
      } catch (e) {
        if (!(e instanceof DimeError) || e.code !== 'BAD_RECORD') throw e;
      }
    }
  }
}

type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'set'; pos: number; byte: number }
  | { kind: 'truncate'; len: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; n: number }
  | { kind: 'word'; pos: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), len: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
  // 16-bit words: counts, lengths, types, pointers (0xc0xx)
  fc.record({
    kind: fc.constant('word' as const),
    pos: fc.nat(),
    value: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xc000, max: 0xc0ff })),
  }),
);

function mutate(wire: Buffer, ms: readonly Mutation[]): Buffer {
  let b = Buffer.from(wire);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = (p: number) => p % b.length;
    switch (m.kind) {
      case 'flip':
        b[at(m.pos)]! ^= 1 << m.bit;
        break;
      case 'set':
        b[at(m.pos)] = m.byte;
        break;
      case 'truncate':
        b = b.subarray(0, m.len % (b.length + 1));
        break;
      case 'insert': {
        const p = m.pos % (b.length + 1);
        b = Buffer.concat([b.subarray(0, p), m.bytes, b.subarray(p)]);
        break;
      }
      case 'delete': {
        const p = at(m.pos);
        b = Buffer.concat([b.subarray(0, p), b.subarray(p + m.n)]);
        break;
      }
      case 'word': {
        const p = at(m.pos);
        if (p + 1 < b.length) b.writeUInt16BE(m.value, p);
        break;
      }
    }
  }
  return b;
}

/** Puts back the ID, QR and the question so the parser gets past the echo checks. */
function keepHeader(b: Buffer, q: PreparedQuery): Buffer {
  const need = 12 + q.question.length;
  const out = b.length >= need ? Buffer.from(b) : Buffer.concat([b, Buffer.alloc(need - b.length)]);
  out.writeUInt16BE(q.id, 0);
  out[2] = (out[2]! | 0x80) & 0x87; // QR, opcode QUERY
  out.writeUInt16BE(1, 4);
  q.question.copy(out, 12);
  return out;
}

describe('DNS answer fuzz', () => {
  it('the captured answers are what the servers sent', () => {
    expect(seeds.length).toBeGreaterThan(15);
    const labels = seeds.map((s) => s.label);
    expect(labels).toContain('_dx.big.test TXT tcp');
    const stats = new Map<string, number>();
    for (const s of seeds) check(s.query, s.wire, true, stats);
    expect(stats.get('data')).toBeGreaterThan(5);
    expect(stats.get('bogus')).toBeGreaterThanOrEqual(1);
    expect(stats.get('absent')).toBeGreaterThanOrEqual(2);
  });

  it(`${fuzzRuns()} random and mutated answers: typed result or DNS_MALFORMED only`, () => {
    const stats = new Map<string, number>();
    const queries = new Map<string, PreparedQuery>();
    const seedIndex = fc.integer({ min: 0, max: seeds.length - 1 });
    const mutated = fc
      .record({
        seed: seedIndex,
        ms: fc.array(mutation, { minLength: 1, maxLength: 6 }),
        keep: fc.boolean(),
        trusted: fc.boolean(),
      })
      .map(({ seed, ms, keep, trusted }) => {
        const s = seeds[seed]!;
        const w = mutate(s.wire, ms);
        return { query: s.query, wire: keep ? keepHeader(w, s.query) : w, trusted };
      });
    const random = fc
      .record({
        seed: seedIndex,
        tail: fc.uint8Array({ maxLength: 600 }),
        flags: fc.integer({ min: 0, max: 0xffff }),
        counts: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 3, maxLength: 3 }),
        type: fc.constantFrom(...QUERY_TYPES),
      })
      .map(({ seed, tail, flags, counts, type }) => {
        const key = `${seed} ${type}`;
        let q = queries.get(key);
        if (q === undefined) {
          q = buildQuery(seeds[seed]!.query.name, type, 1232, seed);
          queries.set(key, q);
        }
        const head = Buffer.alloc(12);
        head.writeUInt16BE(q.id, 0);
        head.writeUInt16BE((flags | 0x8000) & ~0x7800, 2);
        head.writeUInt16BE(1, 4);
        head.writeUInt16BE(counts[0]!, 6);
        head.writeUInt16BE(counts[1]!, 8);
        head.writeUInt16BE(counts[2]!, 10);
        return { query: q, wire: Buffer.concat([head, q.question, tail]), trusted: true };
      });
    fc.assert(
      fc.property(fc.oneof({ arbitrary: mutated, weight: 4 }, { arbitrary: random, weight: 1 }), (x) => {
        check(x.query, x.wire, x.trusted, stats);
      }),
      { numRuns: fuzzRuns(), seed: 20_260_501 },
    );
    // the fuzz reached every stage
    for (const k of [
      'data',
      'absent',
      'bogus',
      'retry',
      'malformed:decode',
      'malformed:id',
      'malformed:question',
    ]) {
      expect(stats.get(k) ?? 0, k).toBeGreaterThan(0);
    }
  }, 300_000);
});
