/**
 * Management-record, MX, address lookups and the DX host choice against real servers: Knot serving
 * signed zones, Unbound validating them (test/helpers/dns-harness.ts). No DNS mocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecord, recordToJson, sameRecord } from '../../src/record/index.js';
import { DimeResolver, DnsClient, type TxtData } from '../../src/resolver/index.js';
import {
  aRecord,
  cnameRecord,
  type DnsHarness,
  mxRecord,
  startDnsHarness,
  txt,
  txtStrings,
} from '../helpers/dns-harness.js';
import { bytesOf } from '../record/helpers.js';
import { closedPort, expectDimeError, recordText } from './helpers.js';

const ALPHA = recordText(1, { policy: 'mixed' });
const SEVERAL = recordText(2, { policy: 'strict' });
const SAME = recordText(3);
const INSECURE = recordText(4);
const BIG = recordText(5);
const SPLIT = recordText(6, {
  tls: [bytesOf(64, 61), bytesOf(64, 62)],
  dx: Array.from({ length: 8 }, (_, i) => `dx${i}.a-rather-long-delivery-host-name.split.test`),
  exp: 30,
});
const DX = recordText(7, { dx: ['dx2.dx.test', 'DX1.dx.test'] });
const MX = recordText(8);
const BARE = recordText(9);
const NULLMX = recordText(10);
const MXBOGUS = recordText(11);

let h: DnsHarness;
let resolver: DimeResolver;

beforeAll(async () => {
  h = await startDnsHarness({
    zones: {
      'alpha.test': [txt('_dx', ALPHA), aRecord('@'), mxRecord('@', 10, 'mx1'), aRecord('mx1')],
      'several.test': [
        txt('_dx', 'v=spf1 -all'),
        txt('_dx', `ver=1 pok=${'A'.repeat(42)}`),
        txt('_dx', SEVERAL),
        txt('_dx', 'google-site-verification=abc'),
      ],
      // one record written twice, with different token order and long names: equal after parsing
      'same.test': [
        txt('_dx', SAME),
        txt('_dx', SAME.replace('ver=1 ', '').replace('sub=strict', 'subdomain=STRICT ver=1')),
      ],
      'ambiguous.test': [txt('_dx', recordText(20)), txt('_dx', recordText(21))],
      'invalid.test': [txt('_dx', `ver=1 pok=${'A'.repeat(42)}`)],
      'nodata.test': [aRecord('_dx'), aRecord('@')],
      'bogus.test': [txt('_dx', recordText(22)), aRecord('@')],
      'bogusapex.test': [txt('_dx', recordText(23))],
      'insecure.test': [
        txt('_dx', INSECURE),
        aRecord('@'),
        mxRecord('@', 5, 'mail.insecure.test.'),
        aRecord('mail'),
      ],
      // > 1232 bytes of TXT: Unbound answers with TC over UDP, the client retries over TCP
      'big.test': [
        txt('_dx', BIG),
        ...Array.from({ length: 6 }, (_, i) => txt('_dx', `filler-${i}-${'x'.repeat(240)}`)),
      ],
      // cut at arbitrary bytes, inside tokens (record.md §2: strings are joined with nothing between)
      'split.test': [
        txtStrings('_dx', [
          SPLIT.slice(0, 100),
          SPLIT.slice(100, 355),
          SPLIT.slice(355, 600),
          SPLIT.slice(600),
        ]),
      ],
      'cname.test': [cnameRecord('_dx', '_dx.alpha.test.')],
      'dx.test': [txt('_dx', DX), mxRecord('@', 10, 'mx-not-used'), aRecord('dx1'), aRecord('dx2')],
      'mx.test': [
        txt('_dx', MX),
        mxRecord('@', 30, 'mx30'),
        mxRecord('@', 10, 'mx10'),
        mxRecord('@', 40, 'mx40'),
        mxRecord('@', 20, 'mx20.other.test.'),
      ],
      'bare.test': [txt('_dx', BARE), aRecord('@')],
      'nullmx.test': [txt('_dx', NULLMX), mxRecord('@', 0, '.')],
      'nodime.test': [mxRecord('@', 10, 'mx1'), aRecord('mx1')],
      'mxbogus.test': [txt('_dx', MXBOGUS), mxRecord('@', 10, 'mx1'), aRecord('mx1')],
      'dxskip.test': [txt('_dx', recordText(12, { dx: ['bad!host', 'Good.dxskip.test', '192.0.2.26'] }))],
      // a zone outside .test: the harness root delegates any name
      'example.org': [txt('_dx', recordText(13)), aRecord('@')],
    },
    unsigned: ['insecure.test'],
    refuse: ['refused.test'],
    bogus: ['_dx.bogus.test', 'bogusapex.test', 'mxbogus.test/MX'],
  });
  resolver = new DimeResolver({ servers: [h.resolverAddress] });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

function json(text: string) {
  return recordToJson(parseRecord([text]));
}

describe('management record lookup (record.md §1, §2, §4)', () => {
  it('finds a record in a signed zone: secure, with the TXT TTL', async () => {
    const r = await resolver.lookupManagementRecord('alpha.test');
    expect(recordToJson(r.record)).toEqual(json(ALPHA));
    expect(r.dnssec).toBe('secure');
    expect(r.source).toBe('dns');
    expect(r.ttl).toBeGreaterThan(0);
    expect(r.ttl).toBeLessThanOrEqual(300);
    expect(r.domain).toBe('alpha.test');
    // names are normalized: case, final dot
    const again = await resolver.lookupManagementRecord('ALPHA.Test.');
    expect(again.source).toBe('cache');
    expect(sameRecord(again.record, r.record)).toBe(true);
  });

  it('reports an unsigned zone as insecure', async () => {
    const r = await resolver.lookupManagementRecord('insecure.test');
    expect(recordToJson(r.record)).toEqual(json(INSECURE));
    expect(r.dnssec).toBe('insecure');
  });

  it('a bogus TXT RRset is DNS_BOGUS (fatal), not missing', async () => {
    const e = await expectDimeError(resolver.lookupManagementRecord('bogus.test'), 'DNS_BOGUS');
    expect(e.context.name).toBe('_dx.bogus.test');
    expect(e.context.ede).toContain(6); // Unbound's Extended DNS Error "DNSSEC Bogus"
    // the zone's other names still validate
    const a = await resolver.lookupAddress('bogus.test');
    expect(a.dnssec).toBe('secure');
  });

  it('a zone signed by a key outside the chain is DNS_BOGUS', async () => {
    await expectDimeError(resolver.lookupManagementRecord('bogusapex.test'), 'DNS_BOGUS');
  });

  it('NXDOMAIN is RECORD_MISSING (secure denial)', async () => {
    const e = await expectDimeError(resolver.lookupManagementRecord('nowhere.test'), 'RECORD_MISSING');
    expect(e.context).toMatchObject({ name: '_dx.nowhere.test', nxdomain: true, dnssec: 'secure' });
  });

  it('NODATA (a name without TXT) is RECORD_MISSING', async () => {
    const e = await expectDimeError(resolver.lookupManagementRecord('nodata.test'), 'RECORD_MISSING');
    expect(e.context).toMatchObject({ nxdomain: false, dnssec: 'secure' });
  });

  it('several TXT RRs, one valid: that one is used', async () => {
    const r = await resolver.lookupManagementRecord('several.test');
    expect(recordToJson(r.record)).toEqual(json(SEVERAL));
    expect(r.record.policy).toBe('strict');
  });

  it('several TXT RRs that parse to the same record are not ambiguous', async () => {
    const r = await resolver.lookupManagementRecord('same.test');
    expect(recordToJson(r.record)).toEqual(json(SAME));
  });

  it('two different valid records are RECORD_INVALID, reason ambiguous', async () => {
    const e = await expectDimeError(resolver.lookupManagementRecord('ambiguous.test'), 'RECORD_INVALID');
    expect(e.context).toMatchObject({ reason: 'ambiguous', rrs: 2 });
  });

  it('only invalid TXT RRs are RECORD_INVALID with the BAD_RECORD reason', async () => {
    const e = await expectDimeError(resolver.lookupManagementRecord('invalid.test'), 'RECORD_INVALID');
    expect(e.context).toMatchObject({ reason: 'pok_length', failures: ['pok_length'] });
  });

  it('a record split over several character-strings is joined', async () => {
    expect(SPLIT.length).toBeGreaterThan(600);
    const r = await resolver.lookupManagementRecord('split.test');
    expect(recordToJson(r.record)).toEqual(json(SPLIT));
    expect(r.record.exp).toBe(30);
    expect(r.hardLimit - r.fetchedAt).toBe(30 * 86_400_000);
  });

  it('follows a CNAME at _dx', async () => {
    const c = new DnsClient({ servers: [h.resolverAddress] });
    const a = await c.lookup('_dx.cname.test', 'TXT');
    expect(a.status).toBe('data');
    if (a.status === 'data') expect(a.canonicalName).toBe('_dx.alpha.test');
    const r = await resolver.lookupManagementRecord('cname.test');
    expect(recordToJson(r.record)).toEqual(json(ALPHA));
    expect(r.dnssec).toBe('secure');
  });

  it('rejects names that are not domain names before any query', async () => {
    await expectDimeError(resolver.lookupManagementRecord('bad name.test'), 'BAD_INPUT');
    await expectDimeError(resolver.lookupManagementRecord(''), 'BAD_INPUT');
    await expectDimeError(resolver.lookupManagementRecord(`${'a'.repeat(64)}.test`), 'BAD_INPUT');
  });
});

describe('transport', () => {
  it('falls back to TCP when the TXT set does not fit in UDP (> 1232 bytes)', async () => {
    const c = new DnsClient({ servers: [h.resolverAddress] });
    const a = await c.lookup('_dx.big.test', 'TXT');
    expect(a.status).toBe('data');
    if (a.status !== 'data') return;
    expect(a.transport).toBe('tcp');
    expect(a.dnssec).toBe('secure');
    expect(a.records).toHaveLength(7);
    const size = a.records.reduce((n, r) => n + (r as TxtData).strings.join('').length, 0);
    expect(size).toBeGreaterThan(1232);
    const r = await resolver.lookupManagementRecord('big.test');
    expect(recordToJson(r.record)).toEqual(json(BIG));
  });

  it('uses TCP for a > 512-byte answer when only 512 bytes are advertised, UDP otherwise', async () => {
    const small = new DnsClient({ servers: [h.resolverAddress], udpPayloadSize: 512 });
    const a = await small.lookup('_dx.split.test', 'TXT');
    expect(a.transport).toBe('tcp');
    const normal = new DnsClient({ servers: [h.resolverAddress] });
    const b = await normal.lookup('_dx.split.test', 'TXT');
    expect(b.transport).toBe('udp');
    expect(a.status === 'data' && b.status === 'data' && a.records).toEqual(b.status === 'data' && b.records);
  });

  it('the authoritative server itself is loopback but never sets AD: insecure', async () => {
    const direct = new DnsClient({ servers: [h.authAddress] });
    const a = await direct.lookup('_dx.alpha.test', 'TXT');
    expect(a).toMatchObject({ status: 'data', dnssec: 'insecure' });
  });

  it('REFUSED from every resolver is DNS_TEMPFAIL, with the rcode in the problems', async () => {
    const c = new DnsClient({ servers: [h.resolverAddress, h.resolverAddress], timeoutMs: 1000 });
    const e = await expectDimeError(c.lookup('_dx.refused.test', 'TXT'), 'DNS_TEMPFAIL');
    const problems = e.context.problems as { reason: string }[];
    expect(problems.length).toBe(6); // 3 rounds × 2 resolvers, no waiting: REFUSED comes at once
    expect(problems.every((p) => p.reason === 'rcode 5')).toBe(true);
  });

  it('a resolver list falls through to the next resolver', async () => {
    const dead = `127.0.0.1:${await closedPort()}`; // nothing listens: ICMP port unreachable
    const c = new DnsClient({ servers: [dead, h.resolverAddress] });
    const a = await c.lookup('_dx.alpha.test', 'TXT');
    expect(a).toMatchObject({ status: 'data', dnssec: 'secure', server: h.resolverAddress });
  });
});

describe('MX and addresses', () => {
  it('MX hosts in ascending preference', async () => {
    const m = await resolver.lookupMx('mx.test');
    expect(m.hosts.map((x) => [x.preference, x.exchange])).toEqual([
      [10, 'mx10.mx.test'],
      [20, 'mx20.other.test'],
      [30, 'mx30.mx.test'],
      [40, 'mx40.mx.test'],
    ]);
    expect(m.dnssec).toBe('secure');
    expect(m.nullMx).toBe(false);
  });

  it('no MX and a null MX', async () => {
    const none = await resolver.lookupMx('bare.test');
    expect(none).toMatchObject({ hosts: [], nullMx: false, ttl: null, dnssec: 'secure' });
    const nul = await resolver.lookupMx('nullmx.test');
    expect(nul).toMatchObject({ hosts: [], nullMx: true });
  });

  it('an insecure MX answer', async () => {
    const m = await resolver.lookupMx('insecure.test');
    expect(m).toMatchObject({
      dnssec: 'insecure',
      hosts: [{ exchange: 'mail.insecure.test', preference: 5 }],
    });
  });

  it('a bogus MX answer is DNS_BOGUS', async () => {
    await expectDimeError(resolver.lookupMx('mxbogus.test'), 'DNS_BOGUS');
  });

  it('A/AAAA of a host', async () => {
    const a = await resolver.lookupAddress('mx1.alpha.test');
    expect(a).toEqual({
      host: 'mx1.alpha.test',
      addresses: [{ address: '127.0.0.1', family: 4 }],
      dnssec: 'secure',
      partial: false,
    });
    const none = await resolver.lookupAddress('nothing.alpha.test');
    expect(none.addresses).toEqual([]);
    const lit = await resolver.lookupAddress('[::1]');
    expect(lit.addresses).toEqual([{ address: '::1', family: 6 }]);
    const insecure = await resolver.lookupAddress('mail.insecure.test');
    expect(insecure.dnssec).toBe('insecure');
  });
});

describe('DX host choice (record.md §6)', () => {
  it('dx list: in the order written, port 26 only, MX ignored', async () => {
    const p = await resolver.chooseDxHosts('dx.test');
    expect(p.capable).toBe(true);
    if (!p.capable) return;
    expect(p.source).toBe('dx');
    expect(p.hosts).toEqual(['dx2.dx.test', 'dx1.dx.test']);
    expect(p.candidates).toEqual([
      { host: 'dx2.dx.test', port: 26, mode: 'dmtp', source: 'dx' },
      { host: 'dx1.dx.test', port: 26, mode: 'dmtp', source: 'dx' },
    ]);
    expect(p.mxDnssec).toBeNull();
    expect(p.record.dnssec).toBe('secure');
  });

  it('no dx: the first 3 MX hosts by preference, port 26 then dual mode on 25 and 587', async () => {
    const p = await resolver.chooseDxHosts('mx.test');
    if (!p.capable) throw new Error('expected capable');
    expect(p.source).toBe('mx');
    expect(p.hosts).toEqual(['mx10.mx.test', 'mx20.other.test', 'mx30.mx.test']);
    expect(p.candidates.slice(0, 3)).toEqual([
      { host: 'mx10.mx.test', port: 26, mode: 'dmtp', source: 'mx' },
      { host: 'mx10.mx.test', port: 25, mode: 'dual', source: 'mx' },
      { host: 'mx10.mx.test', port: 587, mode: 'dual', source: 'mx' },
    ]);
    expect(p.candidates).toHaveLength(9);
    expect(p.mxDnssec).toBe('secure');
  });

  it('no dx, no MX (or a null MX): the bare domain on port 26', async () => {
    for (const d of ['bare.test', 'nullmx.test']) {
      const p = await resolver.chooseDxHosts(d);
      if (!p.capable) throw new Error('expected capable');
      expect(p.source).toBe('domain');
      expect(p.candidates).toEqual([{ host: d, port: 26, mode: 'dmtp', source: 'domain' }]);
    }
  });

  it('dx values that are not host names are left out; IP literals are kept', async () => {
    const p = await resolver.chooseDxHosts('dxskip.test');
    if (!p.capable) throw new Error('expected capable');
    expect(p.hosts).toEqual(['good.dxskip.test', '192.0.2.26']);
    expect(p.skipped).toEqual(['bad!host']);
  });

  it('works for any domain under the harness root', async () => {
    const r = await resolver.lookupManagementRecord('example.org');
    expect(r.dnssec).toBe('secure');
  });

  it('no record: not DIME-capable, even with MX', async () => {
    const p = await resolver.chooseDxHosts('nodime.test');
    expect(p.capable).toBe(false);
    if (p.capable) return;
    expect(p.error.code).toBe('RECORD_MISSING');
    const amb = await resolver.chooseDxHosts('ambiguous.test');
    expect(amb.capable).toBe(false);
    if (!amb.capable) expect(amb.error.code).toBe('RECORD_INVALID');
  });

  it('a bogus record or a bogus MX answer throws DNS_BOGUS', async () => {
    await expectDimeError(resolver.chooseDxHosts('bogus.test'), 'DNS_BOGUS');
    await expectDimeError(resolver.chooseDxHosts('mxbogus.test'), 'DNS_BOGUS');
  });
});
