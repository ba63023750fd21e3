/**
 * Temporary failures with real servers: a resolver that stops answering, a resolver address where
 * nothing listens, an authoritative server that is down. Each must end as DNS_TEMPFAIL within 2 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimeResolver, DnsClient, deliveryPolicy, recordOutcome } from '../../src/resolver/index.js';
import { aRecord, type DnsHarness, startDnsHarness, txt } from '../helpers/dns-harness.js';
import { closedPort, expectDimeError, recordText } from './helpers.js';

let h: DnsHarness;

beforeAll(async () => {
  h = await startDnsHarness({
    zones: {
      'alpha.test': [txt('_dx', recordText(1)), aRecord('@')],
      'beta.test': [txt('_dx', recordText(2))],
    },
  });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

async function timed<T>(p: Promise<T>): Promise<[T | unknown, number]> {
  const t = performance.now();
  try {
    return [await p, performance.now() - t];
  } catch (e) {
    return [e, performance.now() - t];
  }
}

describe('DNS_TEMPFAIL within 2 s', () => {
  it('resolver not answering (stopped process): timeouts and retries inside the budget', async () => {
    const r = new DimeResolver({ servers: [h.resolverAddress] });
    h.suspendResolver();
    let e: unknown;
    let ms: number;
    try {
      [e, ms] = await timed(r.lookupManagementRecord('alpha.test'));
    } finally {
      h.resumeResolver();
    }
    const err = await expectDimeError(Promise.reject(e), 'DNS_TEMPFAIL');
    expect(ms).toBeLessThan(2000);
    expect(ms).toBeGreaterThan(1500); // it did wait for the resolver, with a retry
    const problems = err.context.problems as { reason: string }[];
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems.every((p) => p.reason === 'timeout')).toBe(true);
    // policy: a temporary failure means retry, never a fallback
    expect(deliveryPolicy(recordOutcome(err), { plaintextAllowed: true }).action).toBe('retry');
    // and the resolver answers again once it is back
    const ok = await r.lookupManagementRecord('alpha.test');
    expect(ok.dnssec).toBe('secure');
  });

  it('nothing listening at the resolver address: fails at once (ICMP port unreachable)', async () => {
    const port = await closedPort();
    const c = new DnsClient({ servers: [`127.0.0.1:${port}`] });
    const [e, ms] = await timed(c.lookup('_dx.alpha.test', 'TXT'));
    const err = await expectDimeError(Promise.reject(e), 'DNS_TEMPFAIL');
    expect(ms).toBeLessThan(1000);
    const problems = err.context.problems as { reason: string; detail: string }[];
    expect(problems).toHaveLength(3); // three rounds
    expect(problems[0]!.reason).toBe('network');
    expect(problems[0]!.detail).toMatch(/ECONNREFUSED/);
  });

  it('authoritative server down: the resolver cannot answer, the lookup is DNS_TEMPFAIL (not bogus)', async () => {
    const c = new DnsClient({ servers: [h.resolverAddress] });
    await h.stopAuthority();
    try {
      const [e, ms] = await timed(c.lookup('_dx.beta.test', 'TXT'));
      await expectDimeError(Promise.reject(e), 'DNS_TEMPFAIL');
      expect(ms).toBeLessThan(2000);
    } finally {
      await h.startAuthority();
    }
    const a = await c.lookup('_dx.beta.test', 'TXT');
    expect(a).toMatchObject({ status: 'data', dnssec: 'secure' });
  });

  it('a smaller budget is honoured across several resolvers', async () => {
    const port = await closedPort();
    const c = new DnsClient({ servers: [h.resolverAddress, `127.0.0.1:${port}`], timeoutMs: 300 });
    h.suspendResolver();
    try {
      const [e, ms] = await timed(c.lookup('_dx.alpha.test', 'TXT'));
      await expectDimeError(Promise.reject(e), 'DNS_TEMPFAIL');
      expect(ms).toBeLessThan(450);
    } finally {
      h.resumeResolver();
    }
  });
});
