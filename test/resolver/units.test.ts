/**
 * The pure parts of the resolver: addresses, resolv.conf, names, query building, answer validation
 * and the mapping of answers to DNSSEC states (record.md §4 Decision).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import {
  buildQuery,
  classifyResponse,
  DnsClient,
  type DnsResponse,
  dxRecordName,
  formatServer,
  isLoopbackAddress,
  malformedReason,
  normalizeName,
  parseResolvConf,
  parseResponse,
  parseServerAddress,
  systemResolvers,
} from '../../src/resolver/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'dime-resolv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function thrown(fn: () => unknown): DimeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DimeError);
    return e as DimeError;
  }
  throw new Error('expected a throw');
}

describe('resolver addresses', () => {
  it('parses IP[:PORT] and bracketed IPv6', () => {
    expect(parseServerAddress('192.0.2.1')).toEqual({
      address: '192.0.2.1',
      port: 53,
      family: 4,
      trusted: false,
    });
    expect(parseServerAddress('127.0.0.1:5353')).toEqual({
      address: '127.0.0.1',
      port: 5353,
      family: 4,
      trusted: true,
    });
    expect(parseServerAddress('::1')).toMatchObject({ address: '::1', port: 53, family: 6, trusted: true });
    expect(parseServerAddress('[2001:db8::1]:853')).toMatchObject({
      address: '2001:db8::1',
      port: 853,
      trusted: false,
    });
    expect(parseServerAddress('2001:db8::1')).toMatchObject({ port: 53, family: 6 });
    expect(formatServer(parseServerAddress('[::1]:99'))).toBe('[::1]:99');
  });

  it('trusts AD only from loopback or an explicitly trusted resolver', () => {
    expect(parseServerAddress('10.0.0.1').trusted).toBe(false);
    expect(parseServerAddress('10.0.0.1', true).trusted).toBe(true);
    expect(parseServerAddress('127.53.0.1').trusted).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('128.0.0.1')).toBe(false);
    expect(isLoopbackAddress('::2')).toBe(false);
    const c = new DnsClient({ servers: ['192.0.2.1', '127.0.0.1'], timeoutMs: 100 });
    expect(c.servers.map((s) => s.trusted)).toEqual([false, true]);
    const t = new DnsClient({ servers: ['192.0.2.1'], trusted: true });
    expect(t.servers[0]!.trusted).toBe(true);
  });

  it('rejects anything else', () => {
    for (const bad of [
      '',
      'localhost',
      '1.2.3.4:0',
      '1.2.3.4:65536',
      '1.2.3.4:x',
      '[1.2.3.4]:53',
      '[::1]:',
      '300.1.1.1',
    ]) {
      expect(thrown(() => parseServerAddress(bad)).code).toBe('BAD_INPUT');
    }
    expect(thrown(() => new DnsClient({ servers: [] })).code).toBe('BAD_INPUT');
    expect(thrown(() => new DnsClient({ servers: ['127.0.0.1'], timeoutMs: 0 })).code).toBe('BAD_INPUT');
    expect(thrown(() => new DnsClient({ servers: ['127.0.0.1'], udpPayloadSize: 100 })).code).toBe(
      'BAD_INPUT',
    );
  });

  it('reads resolv.conf like glibc: the first three nameservers, default 127.0.0.1', () => {
    const text = [
      '# comment',
      'search example.org',
      'nameserver 10.0.0.53 # trailing comment',
      'nameserver fe80::1%eth0',
      'nameserver not-an-ip',
      'nameserver 2001:db8::53',
      'nameserver 10.0.0.54',
      'options edns0',
    ].join('\n');
    expect(parseResolvConf(text)).toEqual(['10.0.0.53', '[fe80::1%eth0]', '[2001:db8::53]']);
    const file = join(tmp, 'resolv.conf');
    writeFileSync(file, text);
    expect(systemResolvers(file)).toHaveLength(3);
    writeFileSync(file, 'search x\n');
    expect(systemResolvers(file)).toEqual(['127.0.0.1']);
    expect(systemResolvers(join(tmp, 'missing'))).toEqual(['127.0.0.1']);
    const c = new DnsClient({ resolvConfPath: join(tmp, 'missing') });
    expect(c.servers).toEqual([{ address: '127.0.0.1', port: 53, family: 4, trusted: true }]);
  });
});

describe('names', () => {
  it('normalizes case, the final dot and IDN', () => {
    expect(normalizeName('Example.ORG.')).toBe('example.org');
    expect(normalizeName('bücher.example')).toBe('xn--bcher-kva.example');
    expect(dxRecordName('example.org')).toBe('_dx.example.org');
  });

  it('rejects what is not a domain name', () => {
    for (const bad of [
      '',
      '.',
      'a..b',
      'a b',
      '-a.b',
      'a-.b',
      `${'a'.repeat(64)}.b`,
      `${'a.'.repeat(127)}b`,
      'a/b',
    ]) {
      expect(thrown(() => normalizeName(bad)).code, bad).toBe('BAD_INPUT');
    }
    // _dx.<253-character domain> is too long
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(long.length).toBe(253);
    expect(thrown(() => dxRecordName(long)).code).toBe('BAD_INPUT');
  });
});

describe('queries', () => {
  it('RD, EDNS0 with DO, no CD, random IDs', () => {
    const q = buildQuery('_dx.example.org', 'TXT');
    const p = dnsPacket.decode(q.wire);
    expect(p.flag_rd).toBe(true);
    expect(p.flag_cd).toBe(false);
    expect(p.questions).toEqual([{ name: '_dx.example.org', type: 'TXT', class: 'IN' }]);
    const opt = p.additionals?.[0];
    expect(opt?.type).toBe('OPT');
    if (opt?.type === 'OPT') {
      expect(opt.flag_do).toBe(true);
      expect(opt.udpPayloadSize).toBe(1232);
    }
    expect(q.question.length).toBe(1 + 3 + 1 + 7 + 1 + 3 + 1 + 4);
    const ids = new Set(Array.from({ length: 200 }, () => buildQuery('a.b', 'A').id));
    expect(ids.size).toBeGreaterThan(190);
  });
});

describe('answer validation', () => {
  const q = buildQuery('_dx.example.org', 'TXT', 1232, 1000);
  const answer = (p: Partial<dnsPacket.Packet> & { rcode?: number } = {}): Buffer => {
    const { rcode = 0, ...rest } = p;
    return dnsPacket.encode({
      type: 'response',
      id: 1000,
      flags: (p.flags ?? 0) | rcode,
      questions: [{ type: 'TXT', name: '_dx.example.org' }],
      ...rest,
    });
  };
  const txtRR = (name: string, data: string, ttl = 300): dnsPacket.Answer => ({
    type: 'TXT',
    name,
    ttl,
    data,
  });
  const reason = (w: Buffer, query = q) => malformedReason(thrown(() => parseResponse(query, w)));

  it('accepts the echo of its own question only', () => {
    const ok = parseResponse(q, answer({ answers: [txtRR('_dx.example.org', 'x')] }));
    expect(ok.records).toEqual([{ type: 'TXT', strings: ['x'] }]);
    expect(reason(answer({ id: 1001 }))).toBe('id');
    const noQr = answer();
    noQr[2]! &= 0x7f;
    expect(reason(noQr)).toBe('not_response');
    const other = dnsPacket.encode({
      type: 'response',
      id: 1000,
      questions: [{ type: 'TXT', name: '_dx.example.net' }],
    });
    expect(reason(other)).toBe('question');
    const otherType = dnsPacket.encode({
      type: 'response',
      id: 1000,
      questions: [{ type: 'A', name: '_dx.example.org' }],
    });
    expect(reason(otherType)).toBe('question');
    expect(reason(Buffer.alloc(5))).toBe('short');
    const opcode = answer();
    opcode[2]! |= 0x10; // opcode 2 (STATUS)
    expect(reason(opcode)).toBe('opcode');
    // mismatches are flagged so the UDP reader skips them (spoofing) instead of failing
    expect(thrown(() => parseResponse(q, answer({ id: 7 }))).context.mismatch).toBe(true);
    // 0x20 case changes in the echo are fine
    const upper = dnsPacket.encode({
      type: 'response',
      id: 1000,
      questions: [{ type: 'TXT', name: '_DX.Example.ORG' }],
    });
    expect(parseResponse(q, upper).rcode).toBe(0);
  });

  it('ignores RRs outside the CNAME chain (bailiwick) and reads TTLs safely', () => {
    const r = parseResponse(
      q,
      answer({
        answers: [
          txtRR('_dx.evil.example', 'ver=1 pok=evil'),
          txtRR('_DX.example.org', 'good', 0x80000000),
          { type: 'A', name: '_dx.example.org', ttl: 1, data: '192.0.2.1' },
        ],
        authorities: [
          {
            type: 'SOA',
            name: 'evil.example',
            ttl: 1,
            data: { mname: 'a', rname: 'b', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 },
          },
        ],
      }),
    );
    expect(r.records).toEqual([{ type: 'TXT', strings: ['good'] }]);
    expect(r.ttl).toBe(0); // top bit set: 0 (RFC 2181 §8)
    expect(r.negativeTtl).toBeNull(); // SOA of an unrelated zone
  });

  it('follows CNAMEs, rejects loops and forks', () => {
    const chain = parseResponse(
      q,
      answer({
        answers: [
          { type: 'CNAME', name: '_dx.example.org', ttl: 50, data: 'x.example.net' },
          txtRR('x.example.net', 'hello', 100),
        ],
      }),
    );
    expect(chain).toMatchObject({
      canonicalName: 'x.example.net',
      ttl: 50,
      records: [{ strings: ['hello'] }],
    });
    const loop = answer({
      answers: [
        { type: 'CNAME', name: '_dx.example.org', ttl: 50, data: 'x.example.net' },
        { type: 'CNAME', name: 'x.example.net', ttl: 50, data: '_dx.example.org' },
      ],
    });
    expect(reason(loop)).toBe('cname');
    const fork = answer({
      answers: [
        { type: 'CNAME', name: '_dx.example.org', ttl: 50, data: 'x.example.net' },
        { type: 'CNAME', name: '_dx.example.org', ttl: 50, data: 'y.example.net' },
      ],
    });
    expect(reason(fork)).toBe('cname');
  });

  it('returns a truncated answer undecoded', () => {
    const w = answer({ flags: dnsPacket.TRUNCATED_RESPONSE });
    const r = parseResponse(q, w.subarray(0, 12 + q.question.length));
    expect(r.truncated).toBe(true);
    expect(r.records).toEqual([]);
  });

  it('reads the negative TTL, the extended RCODE and Extended DNS Errors', () => {
    const soa = {
      type: 'SOA' as const,
      name: 'example.org',
      ttl: 300,
      data: { mname: 'ns', rname: 'h', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 42 },
    };
    const nx = parseResponse(q, answer({ rcode: 3, authorities: [soa] }));
    expect(nx).toMatchObject({ rcode: 3, negativeTtl: 42, records: [] });
    const opt = (extendedRcode: number, options: { code: number; data: Buffer }[]) =>
      ({
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        extendedRcode,
        ednsVersion: 0,
        flags: 0,
        options,
      }) as unknown as dnsPacket.Answer;
    const ede = parseResponse(
      q,
      answer({ rcode: 2, additionals: [opt(0, [{ code: 15, data: Buffer.from([0, 6, 0x62]) }])] }),
    );
    expect(ede).toMatchObject({ rcode: 2, ede: [6], edns: true });
    expect(parseResponse(q, answer({ additionals: [opt(1, [])] })).rcode).toBe(16); // BADVERS
    expect(reason(answer({ additionals: [opt(0, []), opt(0, [])] }))).toBe('opt');
  });

  it('checks RDATA of addresses and MX', () => {
    const qa = buildQuery('h.example.org', 'A', 1232, 5);
    const a = dnsPacket.encode({
      type: 'response',
      id: 5,
      questions: [{ type: 'A', name: 'h.example.org' }],
      answers: [{ type: 'A', name: 'h.example.org', ttl: 1, data: '192.0.2.7' }],
    });
    expect(parseResponse(qa, a).records).toEqual([{ type: 'A', address: '192.0.2.7' }]);
    const qm = buildQuery('example.org', 'MX', 1232, 6);
    const m = dnsPacket.encode({
      type: 'response',
      id: 6,
      questions: [{ type: 'MX', name: 'example.org' }],
      answers: [
        { type: 'MX', name: 'example.org', ttl: 1, data: { preference: 5, exchange: 'MX.Example.org' } },
      ],
    });
    expect(parseResponse(qm, m).records).toEqual([{ type: 'MX', preference: 5, exchange: 'mx.example.org' }]);
  });
});

describe('DNSSEC state (record.md §4 Decision)', () => {
  const base: DnsResponse = {
    rcode: 0,
    truncated: false,
    authenticated: true,
    recursionAvailable: true,
    records: [{ type: 'TXT', strings: ['x'] }],
    canonicalName: 'a',
    ttl: 10,
    negativeTtl: null,
    ede: [],
    edns: true,
  };
  it('NOERROR + AD from a trusted resolver is secure; otherwise insecure', () => {
    expect(classifyResponse(base, true)).toMatchObject({ kind: 'data', dnssec: 'secure' });
    expect(classifyResponse(base, false)).toMatchObject({ kind: 'data', dnssec: 'insecure' });
    expect(classifyResponse({ ...base, authenticated: false }, true)).toMatchObject({ dnssec: 'insecure' });
  });
  it('NXDOMAIN and NODATA are absent', () => {
    expect(classifyResponse({ ...base, rcode: 3, records: [] }, true)).toMatchObject({
      kind: 'absent',
      nxdomain: true,
      dnssec: 'secure',
    });
    expect(classifyResponse({ ...base, records: [], authenticated: false }, true)).toMatchObject({
      kind: 'absent',
      nxdomain: false,
      dnssec: 'insecure',
    });
  });
  it('SERVFAIL is bogus, unless its EDEs say only that the zone was unreachable', () => {
    const sf = { ...base, rcode: 2, records: [], authenticated: false };
    expect(classifyResponse(sf, true).kind).toBe('bogus');
    expect(classifyResponse(sf, false).kind).toBe('bogus');
    expect(classifyResponse({ ...sf, ede: [6] }, true).kind).toBe('bogus');
    expect(classifyResponse({ ...sf, ede: [22] }, true).kind).toBe('retry');
    expect(classifyResponse({ ...sf, ede: [23, 14] }, true).kind).toBe('retry');
    expect(classifyResponse({ ...sf, ede: [22, 9] }, true).kind).toBe('bogus');
    expect(classifyResponse({ ...sf, ede: [0] }, true).kind).toBe('bogus');
  });
  it('REFUSED, FORMERR, NOTIMP and extended codes are retried', () => {
    for (const rcode of [1, 4, 5, 9, 16]) {
      expect(classifyResponse({ ...base, rcode }, true).kind).toBe('retry');
    }
  });
});
