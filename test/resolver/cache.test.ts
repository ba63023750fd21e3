/**
 * The management-record cache of record.md §7 Decision, against the real servers of the DNS
 * harness, with an injected clock for the cache's limits (network timeouts stay real).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecord, recordToJson, sameRecord } from '../../src/record/index.js';
import { DimeResolver } from '../../src/resolver/index.js';
import { type DnsHarness, startDnsHarness, txt, type ZoneRecord } from '../helpers/dns-harness.js';
import { expectDimeError, ManualClock, recordText } from './helpers.js';

const DAY = 86_400;
const R1 = recordText(100, { exp: 1 });
const R2 = recordText(101, { exp: 2, policy: 'strict' });
const PLAIN1 = recordText(102);
const PLAIN2 = recordText(103);

let h: DnsHarness;

const zone = (text: string, ttl?: number): ZoneRecord[] => [txt('_dx', text, ttl)];

beforeAll(async () => {
  h = await startDnsHarness({
    zones: {
      'soft.test': zone(PLAIN1),
      'short.test': zone(PLAIN1, 5),
      'long.test': zone(PLAIN1, 200_000),
      'exp.test': zone(R1),
      'stale.test': zone(R1),
      'bogusre.test': zone(R1),
      'gone.test': zone(R1),
      'invalidre.test': zone(R1),
      'down.test': zone(R1),
      'many.test': zone(PLAIN1),
    },
  });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

function resolverWith(clock: ManualClock, servers = [h.resolverAddress], timeoutMs = 600): DimeResolver {
  return new DimeResolver({ servers, clock: clock.now, timeoutMs });
}

function same(a: Parameters<typeof sameRecord>[0], text: string): boolean {
  return sameRecord(a, parseRecord([text]));
}

describe('soft limit = fetch + TTL clamped to 60 s … 1 day', () => {
  it('serves the cached copy until the TTL, then fetches again', async () => {
    const clock = new ManualClock();
    const r = resolverWith(clock);
    const first = await r.lookupManagementRecord('soft.test');
    expect(first).toMatchObject({ source: 'dns', dnssec: 'secure', fetchedAt: clock.ms });
    expect(first.softLimit - first.fetchedAt).toBe(first.ttl * 1000);
    // no exp: the hard limit is the soft limit
    expect(first.hardLimit).toBe(first.softLimit);

    await h.setRecords('soft.test', zone(PLAIN2));
    clock.advance(first.ttl - 1);
    const cached = await r.lookupManagementRecord('soft.test');
    expect(cached.source).toBe('cache');
    expect(same(cached.record, PLAIN1)).toBe(true);

    clock.advance(1);
    const fresh = await r.lookupManagementRecord('soft.test');
    expect(fresh.source).toBe('dns');
    expect(same(fresh.record, PLAIN2)).toBe(true);
    expect(fresh.fetchedAt).toBe(clock.ms); // a new entry: hard limit passed with the soft one
  });

  it('a TTL under 60 s counts as 60 s', async () => {
    const clock = new ManualClock();
    const r = resolverWith(clock);
    const x = await r.lookupManagementRecord('short.test');
    expect(x.ttl).toBeLessThanOrEqual(5);
    expect(x.softLimit - x.fetchedAt).toBe(60_000);
    clock.advance(59);
    expect((await r.lookupManagementRecord('short.test')).source).toBe('cache');
  });

  it('a TTL over one day counts as one day', async () => {
    const clock = new ManualClock();
    // straight from the authoritative server, which gives the zone's TTL unchanged (Unbound caps it)
    const r = resolverWith(clock, [h.authAddress]);
    const x = await r.lookupManagementRecord('long.test');
    expect(x.ttl).toBe(200_000);
    expect(x.softLimit - x.fetchedAt).toBe(DAY * 1000);
  });
});

describe('hard limit = first fetch + exp days', () => {
  it('a refetch replaces the record but keeps the first hard limit', async () => {
    const clock = new ManualClock();
    const t0 = clock.ms;
    const r = resolverWith(clock);
    const first = await r.lookupManagementRecord('exp.test');
    expect(first.hardLimit).toBe(t0 + DAY * 1000);
    expect(first.softLimit).toBe(t0 + first.ttl * 1000);

    await h.setRecords('exp.test', zone(R2)); // exp=2 now: must not extend the window
    clock.advance(301);
    const second = await r.lookupManagementRecord('exp.test');
    expect(second.source).toBe('dns');
    expect(same(second.record, R2)).toBe(true);
    expect(second.hardLimit).toBe(t0 + DAY * 1000);
    expect(second.softLimit).toBe(clock.ms + second.ttl * 1000);

    // near the hard limit the soft limit never goes past it
    clock.ms = t0 + DAY * 1000 - 10_000;
    const third = await r.lookupManagementRecord('exp.test');
    expect(third.source).toBe('dns');
    expect(third.softLimit).toBe(t0 + DAY * 1000);

    // past the hard limit: a new entry with the new record's exp
    clock.ms = t0 + DAY * 1000;
    const fourth = await r.lookupManagementRecord('exp.test');
    expect(fourth.source).toBe('dns');
    expect(fourth.fetchedAt).toBe(clock.ms);
    expect(fourth.hardLimit).toBe(clock.ms + 2 * DAY * 1000);
  });
});

describe('refetch failures', () => {
  it('a temporary failure serves the old copy until the hard limit, then fails', async () => {
    const clock = new ManualClock();
    const t0 = clock.ms;
    const r = resolverWith(clock, [h.resolverAddress], 400);
    await r.lookupManagementRecord('stale.test');
    clock.advance(301);
    h.suspendResolver();
    try {
      const stale = await r.lookupManagementRecord('stale.test');
      expect(stale.source).toBe('stale');
      expect(stale.staleReason).toMatch(/^DNS_TEMPFAIL/);
      expect(same(stale.record, R1)).toBe(true);
      expect(stale.dnssec).toBe('secure');

      clock.ms = t0 + DAY * 1000 - 1;
      expect((await r.lookupManagementRecord('stale.test')).source).toBe('stale');

      clock.ms = t0 + DAY * 1000;
      await expectDimeError(r.lookupManagementRecord('stale.test'), 'DNS_TEMPFAIL');
      expect(r.cache.peek('stale.test')).toBeUndefined();
    } finally {
      h.resumeResolver();
    }
    const back = await r.lookupManagementRecord('stale.test');
    expect(back.source).toBe('dns');
    expect(back.hardLimit).toBe(clock.ms + DAY * 1000);
  });

  it('a bogus refetch drops the entry and fails; bogus is never cached', async () => {
    const clock = new ManualClock();
    const r = resolverWith(clock);
    await r.lookupManagementRecord('bogusre.test');
    clock.advance(301);
    await h.setRecords('bogusre.test', zone(R1), { bogus: ['_dx.bogusre.test'] });
    await expectDimeError(r.lookupManagementRecord('bogusre.test'), 'DNS_BOGUS');
    expect(r.cache.peek('bogusre.test')).toBeUndefined();
    // still bogus: never the old copy
    await expectDimeError(r.lookupManagementRecord('bogusre.test'), 'DNS_BOGUS');

    await h.setRecords('bogusre.test', zone(R1), { bogus: [] });
    const fixed = await r.lookupManagementRecord('bogusre.test');
    expect(fixed.source).toBe('dns');
    expect(fixed.hardLimit).toBe(clock.ms + DAY * 1000); // a new entry
  });

  it('a record gone on refetch drops the entry; the absence is cached for the negative TTL', async () => {
    const clock = new ManualClock();
    const r = resolverWith(clock);
    await r.lookupManagementRecord('gone.test');
    clock.advance(301);
    await h.setRecords('gone.test', []);
    const e = await expectDimeError(r.lookupManagementRecord('gone.test'), 'RECORD_MISSING');
    expect(e.context.cached).toBeUndefined();
    expect(r.cache.peek('gone.test')).toBeUndefined();

    await h.setRecords('gone.test', zone(R1));
    // negative TTL = min(SOA TTL 300, SOA MINIMUM 60) = 60 s
    clock.advance(59);
    const cached = await expectDimeError(r.lookupManagementRecord('gone.test'), 'RECORD_MISSING');
    expect(cached.context.cached).toBe(true);
    clock.advance(1);
    expect((await r.lookupManagementRecord('gone.test')).source).toBe('dns');
  });

  it('a record turned invalid on refetch drops the entry (RECORD_INVALID)', async () => {
    const clock = new ManualClock();
    const r = resolverWith(clock);
    await r.lookupManagementRecord('invalidre.test');
    clock.advance(301);
    await h.setRecords('invalidre.test', [txt('_dx', R1), txt('_dx', R2)]);
    const e = await expectDimeError(r.lookupManagementRecord('invalidre.test'), 'RECORD_INVALID');
    expect(e.context.reason).toBe('ambiguous');
    expect(r.cache.peek('invalidre.test')).toBeUndefined();
    await h.setRecords('invalidre.test', zone(R1));
  });
});

describe('no silent DNSSEC downgrade inside the window', () => {
  it('an insecure answer does not replace a secure copy before the hard limit; afterwards it does', async () => {
    const clock = new ManualClock();
    const t0 = clock.ms;
    // the validating resolver first, then the authoritative server (loopback, but never AD: insecure)
    const r = resolverWith(clock, [h.resolverAddress, h.authAddress], 600);
    const first = await r.lookupManagementRecord('down.test');
    expect(first.dnssec).toBe('secure');

    await h.setRecords('down.test', zone(R2));
    clock.advance(301);
    h.suspendResolver();
    try {
      const kept = await r.lookupManagementRecord('down.test');
      expect(kept.source).toBe('stale');
      expect(kept.dnssec).toBe('secure');
      expect(kept.staleReason).toMatch(/downgrade/);
      expect(same(kept.record, R1)).toBe(true);

      clock.ms = t0 + DAY * 1000;
      const after = await r.lookupManagementRecord('down.test');
      expect(after.source).toBe('dns');
      expect(after.dnssec).toBe('insecure');
      expect(same(after.record, R2)).toBe(true);
    } finally {
      h.resumeResolver();
    }

    // an insecure copy is replaced by a secure answer at the next refetch (keeping its hard limit)
    const hard = r.cache.peek('down.test')!.hardLimit;
    clock.advance(301);
    const up = await r.lookupManagementRecord('down.test');
    expect(up.source).toBe('dns');
    expect(up.dnssec).toBe('secure');
    expect(up.hardLimit).toBe(hard);
  });
});

describe('static records and sharing', () => {
  it('a static record never expires and needs no DNS', async () => {
    const clock = new ManualClock();
    const r = new DimeResolver({
      servers: ['127.0.0.1:9'],
      clock: clock.now,
      staticRecords: { 'Static.Test.': PLAIN1 },
    });
    const a = await r.lookupManagementRecord('static.test');
    expect(a.source).toBe('static');
    expect(recordToJson(a.record)).toEqual(recordToJson(parseRecord([PLAIN1])));
    clock.advance(3650 * DAY);
    expect((await r.lookupManagementRecord('static.test')).source).toBe('static');
  });

  it('concurrent lookups of one domain share one fetch', async () => {
    const clock = new ManualClock();
    const r = resolverWith(clock);
    const all = await Promise.all(Array.from({ length: 5 }, () => r.lookupManagementRecord('many.test')));
    for (const x of all) expect(x).toBe(all[0]);
    expect(all[0]!.source).toBe('dns');
    r.cache.clear();
    expect(r.cache.peek('many.test')).toBeUndefined();
  });
});
