/**
 * Signet resolution end to end (flow.md §1–§2, record.md §5–§6, signets.md §4–§5): real Knot +
 * Unbound with signed zones, real TLS listeners serving in-memory signets (signets-world.ts). No
 * mocks of DNS, TLS or sockets.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTemporaryFailure } from '../../src/protocol/index.js';
import { SignetResolver, type SignetResolverOptions, staticSignetSource } from '../../src/resolver/index.js';
import { cryptoFingerprintB64 } from '../../src/signet/index.js';
import { fp } from '../protocol/helpers.js';
import { expectDimeError, ManualClock } from './helpers.js';
import { startWorld, type World } from './signets-world.js';

let w: World;

beforeAll(async () => {
  w = await startWorld();
});

afterAll(async () => {
  await w?.stop();
});

const quick = { connectMs: 2000, tlsMs: 3000, commandMs: 3000, dataMs: 5000 };

function signets(extra: Partial<SignetResolverOptions> = {}, clock?: ManualClock): SignetResolver {
  return new SignetResolver({
    resolver: w.resolver(clock ? { clock: clock.now } : {}),
    portOverrides: (host, port) => w.portFor(host, port),
    ca: w.ca.certPem,
    timeouts: quick,
    ...(clock ? { clock: clock.now } : {}),
    ...extra,
  });
}

describe('org signets', () => {
  it('secure record + pinned certificate: the org signet, POK-checked and verified', async () => {
    const r = await signets().resolveOrg('Beta.Test.');
    expect(r.domain).toBe('beta.test');
    expect(r.source).toBe('dmtp');
    expect(r.dnssec).toBe('secure');
    expect(Buffer.from(r.signet.signingKey)).toEqual(Buffer.from(w.orgs['beta.test'].keys.signingPublic));
    expect(r.signet.stage).toBe('full'); // SGNT serves the full split (README "SGNT signet form")
    expect(r.verification.complete).toBe(true);
    expect(r.server?.host).toBe('dx.beta.test');
    expect(r.server?.mode).toBe('dmtp');
    expect(r.server?.tls.certificate.check).toBe('pin');
    expect(r.server?.tls.certificate.ocsp).toBe('skipped');
    expect(r.record?.record.pok).toHaveLength(1);
  });

  it('a signet whose POK is not in the record: POK_MISMATCH', async () => {
    const e = await expectDimeError(signets().resolveOrg('wrongpok.test'), 'POK_MISMATCH');
    expect(e.context.temporary).toBe(false);
  });

  it('DNSSEC bogus record: DNS_BOGUS and no connection at all', async () => {
    const before = w.connections();
    await expectDimeError(signets().resolveOrg('bogus.test'), 'DNS_BOGUS');
    await expectDimeError(signets().resolveUser('x@bogus.test'), 'DNS_BOGUS');
    expect(w.connections()).toBe(before);
  });

  it('no record: RECORD_MISSING, no connection', async () => {
    const before = w.connections();
    await expectDimeError(signets().resolveOrg('missing.test'), 'RECORD_MISSING');
    expect(w.connections()).toBe(before);
  });

  it('no pin and a self-signed certificate: TLS_UNTRUSTED', async () => {
    const e = await expectDimeError(signets().resolveOrg('nopin.test'), 'TLS_UNTRUSTED');
    expect(e.context.reason).toBe('self-signed');
  });

  it('a pin over another certificate: TLS_UNTRUSTED', async () => {
    const e = await expectDimeError(signets().resolveOrg('wrongcert.test'), 'TLS_UNTRUSTED');
    expect(e.context.reason).toBe('pin-mismatch');
  });

  it('DX unreachable: CONNECT_FAILED, temporary', async () => {
    const e = await expectDimeError(signets().resolveOrg('down.test'), 'CONNECT_FAILED');
    expect(e.context.temporary).toBe(true);
    expect(isTemporaryFailure(e)).toBe(true);
    expect(e.context.attempts).toHaveLength(1);
  });

  it('MX hosts in dual mode: 26 and 25 closed, 587 with STARTTLS MODE=DMTPv1', async () => {
    const r = await signets().resolveOrg('mx.test');
    expect(r.server?.mode).toBe('dual');
    expect(r.server?.port).toBe(587);
    expect(r.server?.host).toBe('mail.mx.test');
  });

  it('insecure record with a pin: host name and chain needed too (self-signed fails, CA-issued passes)', async () => {
    const e = await expectDimeError(signets().resolveOrg('insecure.test'), 'TLS_UNTRUSTED');
    expect(e.context.reason).toBe('chain');
    const r = await signets().resolveOrg('cains.test');
    expect(r.dnssec).toBe('insecure');
    expect(r.server?.tls.certificate.check).toBe('pin+x509');
    // the same DX without the test CA in the trust store
    const e2 = await expectDimeError(signets({ ca: undefined }).resolveOrg('cains.test'), 'TLS_UNTRUSTED');
    expect(e2.context.reason).toBe('chain');
  });

  it('no pin, CA-issued certificate: x509 checks; OCSP accepted without an OCSP URL (no-url)', async () => {
    const r = await signets().resolveOrg('ca.test');
    expect(r.server?.tls.certificate).toMatchObject({
      check: 'x509',
      hostname: 'ok',
      chain: 'ok',
      ocsp: 'no-url',
      ocspDetail: { source: null, url: null, notes: [] },
    });
  });

  it('cache: served from memory until the TTL, refetched after', async () => {
    const clock = new ManualClock(Date.now());
    const s = signets({ orgTtlSeconds: 120 }, clock);
    await s.resolveOrg('alpha.test');
    const before = w.connections();
    expect((await s.resolveOrg('alpha.test')).source).toBe('cache');
    expect(w.connections()).toBe(before);
    clock.advance(121);
    expect((await s.resolveOrg('alpha.test')).source).toBe('dmtp');
    expect(w.connections()).toBe(before + 1);
  });

  it('POK rotation: a record whose POKs changed makes the cached signet refetched', async () => {
    const clock = new ManualClock(Date.now());
    const s = signets({ orgTtlSeconds: 3600 }, clock);
    const first = await s.resolveOrg('rotate.test');
    const fresh = await w.rotate();
    clock.advance(400); // past the record's soft limit (TTL 300 s), well inside the signet TTL
    const second = await s.resolveOrg('rotate.test');
    expect(second.source).toBe('dmtp');
    expect(Buffer.from(second.signet.signingKey)).toEqual(Buffer.from(fresh.keys.signingPublic));
    expect(cryptoFingerprintB64(second.signet)).not.toBe(cryptoFingerprintB64(first.signet));
  });

  it('a local source answers for its own domains without DNS or DMTP', async () => {
    const org = w.orgs['alpha.test'];
    const s = signets({
      local: staticSignetSource({ orgs: { 'own.example': org.chain }, users: {} }),
    });
    // own.example is in no DNS zone at all
    const before = w.connections();
    const e = await expectDimeError(s.resolveOrg('own.example'), 'SIGNET_MISMATCH'); // the signet names alpha.test
    expect(e.message).toContain('alpha.test');
    const ok = signets({
      local: staticSignetSource({
        orgs: { 'beta.test': w.orgs['beta.test'].chain },
        users: { 'carol@beta.test': w.users.carol.chain },
      }),
    });
    const r = await ok.resolveOrg('beta.test');
    expect(r.source).toBe('local');
    expect(r.dnssec).toBe('local');
    const u = await ok.resolveUser('carol@beta.test', { fingerprint: fp(w.users.carol.chain[0]!) });
    expect(u.status).toBe('superseded');
    expect(u.chain.map((l) => l.custody)).toEqual(['none', 'valid']);
    expect(w.connections()).toBe(before);
  });
});

describe('user signets', () => {
  it('one link: verified with the org signet, on one connection', async () => {
    const before = w.connections();
    const r = await signets().resolveUser('bob@beta.test');
    expect(w.connections()).toBe(before + 1);
    expect(r.status).toBe('current');
    expect(cryptoFingerprintB64(r.signet)).toBe(fp(w.users.bob.chain[0]!));
    expect(r.verification.complete).toBe(true);
    expect(r.chain).toHaveLength(1);
    expect(r.chain[0]!.custody).toBe('none');
    expect(r.org.domain).toBe('beta.test');
  });

  it('forgetUser drops that user from the cache (every fingerprint), and nobody else', async () => {
    const s = signets();
    await s.resolveUser('bob@beta.test');
    await s.resolveUser('carol@beta.test');
    expect((await s.resolveUser('bob@beta.test')).source).toBe('cache');
    s.forgetUser('Bob@Beta.Test');
    const before = w.connections();
    expect((await s.resolveUser('bob@beta.test')).source).toBe('dmtp');
    expect(w.connections()).toBe(before + 1);
    expect((await s.resolveUser('carol@beta.test')).source).toBe('cache');
  });

  it('chain of custody via HIST: every link checked, the last one current', async () => {
    const r = await signets().resolveUser('dave@beta.test');
    expect(r.status).toBe('current');
    expect(r.chain.map((l) => l.fingerprint)).toEqual(w.users.dave.chain.map((s) => fp(s)));
    expect(r.chain.map((l) => l.custody)).toEqual(['none', 'valid', 'valid']);
    expect(r.chain.every((l) => l.org === 'valid')).toBe(true);
  });

  it('revoked = superseded: VRFY UPDATE, chain from the old signet to the current one', async () => {
    // an ID fingerprint cannot be checked against the full split SGNT serves: SIGNET_MISMATCH
    await expectDimeError(
      signets().resolveUser('dave@beta.test', { fingerprint: fp(w.users.dave.chain[0]!, 'id') }),
      'SIGNET_MISMATCH',
    );
    const old = w.users.dave.chain[0]!;
    const s = signets();
    const r = await s.resolveUser('dave@beta.test', { fingerprint: fp(old, 'full') });
    expect(r.status).toBe('superseded');
    expect(cryptoFingerprintB64(r.signet)).toBe(fp(old));
    expect(cryptoFingerprintB64(r.current)).toBe(fp(w.users.dave.chain[2]!));
    expect(r.chain).toHaveLength(3);
    const e = await expectDimeError(
      s.resolveUser('dave@beta.test', { fingerprint: fp(old), requireCurrent: true }),
      'SIGNET_REVOKED',
    );
    expect(e.context.current).toBe(fp(w.users.dave.chain[2]!));
    // the current one by fingerprint: VRFY CURRENT
    const cur = await s.resolveUser('carol@beta.test', {
      fingerprint: fp(w.users.carol.chain[1]!),
      requireCurrent: true,
    });
    expect(cur.status).toBe('current');
    expect(cur.chain.map((l) => l.custody)).toEqual(['none', 'valid']);
  });

  it('a custody signature by the wrong key: BAD_SIGNATURE', async () => {
    const e = await expectDimeError(signets().resolveUser('eve@beta.test'), 'BAD_SIGNATURE');
    expect(e.message).toContain('link 2');
  });

  it('a user signet signed by another org: BAD_SIGNATURE', async () => {
    await expectDimeError(signets().resolveUser('mallory@beta.test'), 'BAD_SIGNATURE');
  });

  it('unknown user: SIGNET_NOT_FOUND (550), remembered in the negative cache', async () => {
    const clock = new ManualClock(Date.now());
    const s = signets({ negativeTtlSeconds: 60 }, clock);
    const e = await expectDimeError(s.resolveUser('nobody@beta.test'), 'SIGNET_NOT_FOUND');
    expect(e.context.code).toBe(550);
    expect(isTemporaryFailure(e)).toBe(false);
    const before = w.connections();
    await expectDimeError(s.resolveUser('nobody@beta.test'), 'SIGNET_NOT_FOUND');
    expect(w.connections()).toBe(before);
    clock.advance(61);
    await expectDimeError(s.resolveUser('nobody@beta.test'), 'SIGNET_NOT_FOUND');
    expect(w.connections()).toBe(before + 1);
    // a fingerprint not in the chain: 551
    const e2 = await expectDimeError(
      s.resolveUser('bob@beta.test', { fingerprint: fp(w.users.carol.chain[0]!) }),
      'SIGNET_NOT_FOUND',
    );
    expect(e2.context.code).toBe(551);
  });

  it('user cache: a second lookup needs no connection; concurrent lookups share one', async () => {
    const s = signets();
    const [a, b] = await Promise.all([s.resolveUser('bob@beta.test'), s.resolveUser('BOB@beta.test')]);
    expect(a).toBe(b);
    const before = w.connections();
    const c = await s.resolveUser('bob@beta.test');
    expect(c.source).toBe('cache');
    expect(w.connections()).toBe(before);
  });
});
