/**
 * A small DIME world on loopback for the DMTP client, signet resolution and `dime resolve` tests:
 * Knot + Unbound with signed zones (test/helpers/dns-harness.ts), and real listeners of
 * src/protocol serving in-memory signets (test/protocol/helpers.ts TestHooks) — a dedicated DMTP
 * listener (port-26 mode) and a dual-mode SMTP listener with one self-signed RSA certificate, and a
 * DMTP listener whose certificate a test CA issued. Every DX name resolves to 127.0.0.1; the
 * standard ports are mapped onto the listeners' ephemeral ports by `portFor` (the client's
 * `portOverrides`). Nothing is mocked.
 *
 * Domains (each `_dx` record publishes the POK of the org the server holds, unless said otherwise):
 * * beta.test — pin on the self-signed certificate, dx=dx.beta.test; users bob (1 link),
 *   carol (2 links), dave (3 links), eve (2 links, the second link's custody signed by a stranger),
 *   mallory (signed by alpha's org key);
 * * alpha.test — same shape, dx=dx.alpha.test;
 * * mx.test — no dx: MX mail.mx.test, whose port 26 and 25 are closed and 587 is the dual listener;
 * * wrongpok.test — the record's POK is another key than the served org signet's (the pin is by it);
 * * bogus.test — the record's RRSIG is corrupted (DNSSEC bogus);
 * * nopin.test — no tls pin (the self-signed certificate must be refused);
 * * wrongcert.test — a pin over another certificate;
 * * down.test — its DX port is closed;
 * * insecure.test — unsigned zone, pin on the self-signed certificate (chain check fails);
 * * ca.test — no pin, DX with the CA-issued certificate; cains.test — unsigned zone, pin on it;
 * * rotate.test — for POK rotation (records replaced by the test);
 * * missing.test — no `_dx` record.
 */

import net from 'node:net';
import { generateKeys } from '../../src/keys/index.js';
import {
  createMailListener,
  createSelfSignedCertificate,
  listen,
  MailSession,
  type SelfSignedCertificate,
  type SessionConfig,
  serverTlsOptions,
} from '../../src/protocol/index.js';
import { buildRecordText, type RecordContent, tlsCertificateSignature } from '../../src/record/index.js';
import { DimeResolver } from '../../src/resolver/index.js';
import { createSsr, signRequest } from '../../src/signet/index.js';
import { aRecord, type DnsHarness, dxRecord, mxRecord, startDnsHarness } from '../helpers/dns-harness.js';
import { createTestCa, type TestCa } from '../protocol/dmtp-client-certs.js';
import { makeOrg, makeUser, type OrgFixture, TestHooks, type UserFixture } from '../protocol/helpers.js';

/** A loopback port where nothing listens right now (no vitest import: the world also runs outside tests). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
  });
}

export const DOMAINS = [
  'alpha.test',
  'beta.test',
  'mx.test',
  'wrongpok.test',
  'bogus.test',
  'nopin.test',
  'wrongcert.test',
  'down.test',
  'insecure.test',
  'ca.test',
  'cains.test',
  'rotate.test',
  'missing.test',
] as const;
export type Domain = (typeof DOMAINS)[number];

export interface World {
  readonly dns: DnsHarness;
  readonly hooks: TestHooks;
  readonly cert: SelfSignedCertificate;
  readonly ca: TestCa;
  readonly ports: {
    readonly dmtp: number;
    readonly dual: number;
    readonly caDmtp: number;
    readonly closed: number;
  };
  readonly orgs: Record<Exclude<Domain, 'missing.test'>, OrgFixture>;
  readonly users: Record<'bob' | 'carol' | 'dave' | 'eve' | 'mallory', UserFixture>;
  /** The standard port → the listener port, per DX host (the client's portOverrides). */
  portFor(host: string, port: number): number;
  /** A resolver on the harness's Unbound (loopback, so its AD bit is trusted). */
  resolver(options?: { clock?: () => number }): DimeResolver;
  /** TCP connections accepted by the listeners so far. */
  connections(): number;
  /** The `_dx` text of `domain` as published. */
  recordText(domain: Domain): string;
  /** Replaces rotate.test's org (new keys, new record with its POK and pin). */
  rotate(): Promise<OrgFixture>;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const cert = await createSelfSignedCertificate({
    hostnames: ['dx.beta.test', ...DOMAINS.map((d) => `dx.${d}`), 'mail.mx.test', 'localhost', '127.0.0.1'],
    keyType: 'rsa',
  });
  const other = await createSelfSignedCertificate({
    hostnames: ['dx.wrongcert.test'],
    keyType: 'rsa',
    rsaBits: 2048,
  });
  const ca = await createTestCa();
  const caLeaf = await ca.issue(['dx.ca.test', 'dx.cains.test']);

  const orgs = Object.fromEntries(
    DOMAINS.filter((d) => d !== 'missing.test').map((d) => [d, makeOrg(d)]),
  ) as World['orgs'];
  const beta = orgs['beta.test'];
  const stranger = generateKeys('user');
  const eve1 = makeUser(beta, 'eve', 1);
  const eve2keys = generateKeys('user');
  // custody signed by a stranger's key instead of eve's previous one
  const eve2 = signRequest(createSsr(eve2keys, { signingSeed: stranger.signingSeed }), beta.keys, {
    stage: 'id',
    address: 'eve@beta.test',
  });
  const users = {
    bob: makeUser(beta, 'bob'),
    carol: makeUser(beta, 'carol', 2),
    dave: makeUser(beta, 'dave', 3),
    eve: { address: 'eve@beta.test', chain: [...eve1.chain, eve2] },
    mallory: makeUser({ ...orgs['alpha.test'], domain: 'beta.test' }, 'mallory'),
  };
  const hooks = new TestHooks();
  for (const o of Object.values(orgs)) hooks.addOrg(o);
  for (const u of Object.values(users)) hooks.addUser(u);
  hooks.localHostnames.add('mail.mx.test');
  const otherOrg = generateKeys('org');

  const pin = (der: Uint8Array, seed: Uint8Array) => tlsCertificateSignature(der, seed);
  const texts = {} as Record<Domain, string>;
  const make = (
    d: Domain,
    content: Partial<RecordContent> & { pokSeed?: Uint8Array; pokPublic?: Uint8Array },
  ) => {
    const o = orgs[d as Exclude<Domain, 'missing.test'>];
    const seed = content.pokSeed ?? o.keys.signingSeed;
    const pub = content.pokPublic ?? o.keys.signingPublic;
    const { pokSeed: _s, pokPublic: _p, ...rest } = content;
    texts[d] = buildRecordText({
      pok: [pub],
      tls: [pin(cert.certDer, seed)],
      dx: [`dx.${d}`],
      ...rest,
    });
    return texts[d];
  };
  make('alpha.test', {});
  make('beta.test', { policy: 'mixed' });
  make('mx.test', { dx: [] });
  make('wrongpok.test', { pokSeed: otherOrg.signingSeed, pokPublic: otherOrg.signingPublic });
  make('bogus.test', {});
  make('nopin.test', { tls: [] });
  make('wrongcert.test', { tls: [pin(other.certDer, orgs['wrongcert.test'].keys.signingSeed)] });
  make('down.test', {});
  make('insecure.test', {});
  make('ca.test', { tls: [] });
  make('cains.test', { tls: [pin(caLeaf.certDer, orgs['cains.test'].keys.signingSeed)] });
  make('rotate.test', {});

  const zone = (d: Domain, extra: Parameters<typeof aRecord>[0][] = []) => [
    ...(d === 'missing.test' ? [] : [dxRecord(texts[d])]),
    aRecord(`dx.${d}.`),
    aRecord('@'),
    ...extra.map((n) => aRecord(n)),
  ];
  const zones: Record<string, ReturnType<typeof zone>> = {};
  for (const d of DOMAINS) zones[d] = zone(d);
  zones['mx.test'] = [dxRecord(texts['mx.test']), mxRecord('@', 10, 'mail'), aRecord('mail'), aRecord('@')];

  const dns = await startDnsHarness({
    zones,
    bogus: ['_dx.bogus.test.'],
    unsigned: ['insecure.test', 'cains.test'],
  });

  // listeners
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const serve = async (config: SessionConfig, material: { key: string; cert: string }) => {
    const server = createMailListener({
      tls: serverTlsOptions(material),
      createSession: () => new MailSession({ errorDelayMs: 0, ...config }, hooks),
    });
    server.on('connection', (s) => {
      accepted++;
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    servers.push(server);
    return listen(server, 0);
  };
  let ports: World['ports'];
  try {
    const main = { key: cert.keyPem, cert: cert.certPem };
    ports = {
      dmtp: await serve({ hostname: 'dx.beta.test', protocol: 'dmtp' }, main),
      dual: await serve({ hostname: 'mail.mx.test', protocol: 'smtp' }, main),
      caDmtp: await serve(
        { hostname: 'dx.ca.test', protocol: 'dmtp' },
        { key: caLeaf.keyPem, cert: caLeaf.chainPem },
      ),
      closed: await closedPort(),
    };
  } catch (e) {
    await dns.stop();
    throw e;
  }

  const special: Record<string, Record<number, number>> = {
    'mail.mx.test': { 26: ports.closed, 25: ports.closed, 587: ports.dual },
    'dx.down.test': { 26: ports.closed },
    'dx.ca.test': { 26: ports.caDmtp },
    'dx.cains.test': { 26: ports.caDmtp },
  };

  return {
    dns,
    hooks,
    cert,
    ca,
    ports,
    orgs,
    users,
    portFor(host, port) {
      const s = special[host]?.[port];
      if (s !== undefined) return s;
      if (port === 26) return ports.dmtp;
      if (port === 25 || port === 587) return ports.dual;
      return port;
    },
    resolver(options = {}) {
      return new DimeResolver({
        servers: [dns.resolverAddress],
        ...(options.clock ? { clock: options.clock } : {}),
      });
    },
    connections: () => accepted,
    recordText: (d) => texts[d],
    async rotate() {
      const fresh = makeOrg('rotate.test');
      hooks.addOrg(fresh);
      orgs['rotate.test'] = fresh;
      texts['rotate.test'] = buildRecordText({
        pok: [fresh.keys.signingPublic],
        tls: [pin(cert.certDer, fresh.keys.signingSeed)],
        dx: ['dx.rotate.test'],
      });
      await dns.setRecords('rotate.test', zone('rotate.test'));
      return fresh;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      await dns.stop();
    },
  };
}
