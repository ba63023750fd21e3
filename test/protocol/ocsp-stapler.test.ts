/**
 * OCSP stapling by our listeners (OcspStapler + serveConnection): a test CA (Debian's `openssl`)
 * issues leaves whose AIA names an OCSP URL, `openssl ocsp` answers for them (some through a
 * counting HTTP front), and our DMTP/SMTP listeners staple. Checked with `openssl s_client -status`,
 * node's TLS client and our own DMTP client. Real TCP, TLS and HTTP; no mocks.
 */

import { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys } from '../../src/keys/index.js';
import {
  createMailListener,
  type DmtpClientOptions,
  DmtpConnection,
  type DmtpTarget,
  listen,
  MailSession,
} from '../../src/protocol/index.js';
import { serverTlsOptions } from '../../src/protocol/net/tls-context.js';
import { parseOcspResponse } from '../../src/protocol/tls/ocsp.js';
import { type OcspStapleReport, OcspStapler } from '../../src/protocol/tls/ocsp-stapler.js';
import { closedPort, expectDimeError } from '../resolver/helpers.js';
import { TestHooks } from './helpers.js';
import { type Authority, type Issued, OcspPki, type Responder } from './ocsp-pki.js';
import { openAndQuit, unpinnedTarget } from './ocsp-targets.js';
import { CountingFront, handshake, sClient } from './staple-clients.js';

let pki: OcspPki;
let ca: Authority;
let index: string;
let main: Responder;
let late: Responder | null = null;
const fronts: Record<'good' | 'silent' | 'life', CountingFront> = {
  good: null as unknown as CountingFront,
  silent: null as unknown as CountingFront,
  life: null as unknown as CountingFront,
};
const leaf: Record<string, Issued> = {};
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const staplers: OcspStapler[] = [];
let downPort = 0;
const org = generateKeys('org');
const hooks = new TestHooks();

const host = (name: string) => `dx.${name}.staple.test`;

function stapler(
  name: string,
  o: Partial<ConstructorParameters<typeof OcspStapler>[0]> = {},
): { stapler: OcspStapler; reports: OcspStapleReport[] } {
  const reports: OcspStapleReport[] = [];
  const s = OcspStapler.fromChain(leaf[name]!.chainPem, {
    handshakeWaitMs: 2000,
    fetchTimeoutMs: 3000,
    onReport: (r) => reports.push(r),
    ...o,
  });
  staplers.push(s);
  return { stapler: s, reports };
}

/** A listener serving `name`'s leaf and chain, stapling with `s`. */
async function serve(
  name: string,
  s: OcspStapler | null,
  protocol: 'dmtp' | 'smtp' = 'dmtp',
): Promise<number> {
  const l = leaf[name]!;
  const server = createMailListener({
    tls: { ...serverTlsOptions({ key: l.keyPem, cert: l.chainPem }), ...(s ? { ocsp: s } : {}) },
    createSession: () => new MailSession({ hostname: host(name), protocol, errorDelayMs: 0 }, hooks),
  });
  servers.push(server);
  server.on('connection', (c: net.Socket) => {
    sockets.add(c);
    c.once('close', () => sockets.delete(c));
  });
  return listen(server, 0);
}

beforeAll(async () => {
  pki = new OcspPki();
  ca = pki.authority('DIME Staple Test CA', 'ca');
  const mainPort = await closedPort();
  const mainUrl = `http://127.0.0.1:${mainPort}/`;
  fronts.good = new CountingFront(mainUrl);
  fronts.silent = new CountingFront(mainUrl);
  fronts.silent.mode = 'hold';
  fronts.life = new CountingFront(mainUrl);
  const goodUrl = await fronts.good.listen();
  const silentUrl = await fronts.silent.listen();
  const lifeUrl = await fronts.life.listen();
  downPort = await closedPort();
  const dx = (name: string, url: string | null) =>
    (leaf[name] = pki.dxLeaf(ca, `leaf-${name}`, host(name), url));
  dx('good', goodUrl);
  dx('revoked', mainUrl);
  dx('unknown', mainUrl);
  dx('down', `http://127.0.0.1:${downPort}/`);
  dx('silent', silentUrl);
  dx('life', lifeUrl);
  dx('nourl', null);
  index = pki.leafIndex('index.txt', leaf, host, (n) =>
    n === 'revoked' ? { at: '250601120000Z', reason: 'keyCompromise' } : undefined,
  );
  main = await pki.caResponder(index, ca, mainPort);
  for (const n of Object.keys(leaf)) hooks.localHostnames.add(host(n));
}, 60_000);

afterAll(async () => {
  for (const s of staplers) s.stop();
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  await fronts.good?.close();
  await fronts.silent?.close();
  await fronts.life?.close();
  await main?.stop();
  await late?.stop();
  await pki?.close();
});

const target = (name: string, extra: Partial<DmtpTarget> = {}): DmtpTarget =>
  unpinnedTarget('staple.test', host(name), org.signingPublic, extra);

function clientOptions(ports: Record<number, number>): DmtpClientOptions {
  return {
    portOverrides: ports,
    ca: ca.certPem,
    timeouts: { connectMs: 3000, tlsMs: 5000, commandMs: 3000, ocspMs: 3000 },
  };
}

function stapledStatus(der: Buffer | null): string | null {
  if (!der) return null;
  const p = parseOcspResponse(new Uint8Array(der));
  const single = p.basic?.tbsResponseData.responses[0];
  return single?.certStatus.good !== undefined ? 'good' : 'other';
}

describe('OCSP stapling by our listeners', () => {
  it('a leaf with an OCSP URL: port 26 and SMTP STARTTLS staple a good response (openssl s_client, our DMTP client)', async () => {
    const { stapler: s, reports } = stapler('good');
    s.start();
    const dmtp = await serve('good', s, 'dmtp');
    const smtp = await serve('good', s, 'smtp');

    const out = await sClient(dmtp);
    expect(out).toContain('OCSP Response Status: successful');
    expect(out).toContain('Cert Status: good');
    const starttls = await sClient(smtp, ['-starttls', 'smtp']);
    expect(starttls).toContain('OCSP Response Status: successful');
    expect(starttls).toContain('Cert Status: good');

    // our DMTP client uses the staple: port 26, and STARTTLS MODE=DMTPv1 on the SMTP port
    const v = await openAndQuit(target('good'), clientOptions({ 26: dmtp }));
    expect(v.ocsp).toBe('good');
    expect(v.ocspDetail).toMatchObject({ source: 'stapled', url: null, nonce: 'not-sent', signer: 'issuer' });
    const dual = await openAndQuit(target('good', { mode: 'dual', port: 25 }), clientOptions({ 25: smtp }));
    expect(dual.ocspDetail).toMatchObject({ source: 'stapled' });

    expect(s.fetches).toBe(1);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ event: 'stapling', url: s.url, signer: 'issuer' });
    const r = reports[0] as Extract<OcspStapleReport, { event: 'stapling' }>;
    // -ndays 1: refreshed at about half of the remaining day
    expect(r.refreshAt.getTime() - Date.now()).toBeGreaterThan(11 * 3_600_000);
    expect(r.refreshAt.getTime()).toBeLessThan(r.nextUpdate!.getTime());
    expect(s.current?.status).toBe('good');
  });

  it('many handshakes, concurrent and after: the responder is asked once', async () => {
    const { stapler: s } = stapler('good'); // not started: the first handshakes make it fetch
    const port = await serve('good', s);
    const before = fronts.good.requests;
    const first = await Promise.all(Array.from({ length: 12 }, () => handshake(port)));
    for (const h of first) expect(stapledStatus(h.staple)).toBe('good');
    for (let i = 0; i < 8; i++) expect(stapledStatus((await handshake(port)).staple)).toBe('good');
    expect(fronts.good.requests - before).toBe(1);
    expect(s.fetches).toBe(1);
  });

  it('a revoked leaf: no staple (refused, reported); our client asks the responder itself and refuses', async () => {
    const { stapler: s, reports } = stapler('revoked');
    s.start();
    const port = await serve('revoked', s);
    const h = await handshake(port);
    expect(h.staple).toBeNull();
    expect(reports).toEqual([expect.objectContaining({ event: 'refused', status: 'revoked' })]);
    expect(await sClient(port)).toContain('OCSP response: no response sent');

    const e = await expectDimeError(
      DmtpConnection.open(target('revoked'), clientOptions({ 26: port })),
      'TLS_UNTRUSTED',
    );
    expect(e.context).toMatchObject({ reason: 'ocsp-revoked', ocsp: 'revoked', ocspSource: 'responder' });
    expect(s.current).toBeNull();
  });

  it('a leaf the responder does not know: no staple', async () => {
    const { stapler: s, reports } = stapler('unknown');
    const port = await serve('unknown', s);
    expect((await handshake(port)).staple).toBeNull();
    expect(reports).toEqual([expect.objectContaining({ event: 'refused', status: 'unknown' })]);
    // backing off: the next handshakes do not ask again
    await handshake(port);
    expect(s.fetches).toBe(1);
  });

  it('responder down at start: handshakes go on promptly without a staple; once it is up, a later one gets it', async () => {
    const { stapler: s, reports } = stapler('down', { retryMs: 300 });
    s.start();
    const port = await serve('down', s);
    const h = await handshake(port);
    expect(h.staple).toBeNull();
    expect(h.ms).toBeLessThan(1500);
    expect(reports[0]).toMatchObject({ event: 'failed', failure: 'unreachable', consecutive: 1 });

    late = await pki.caResponder(index, ca, downPort);
    const until = Date.now() + 5000;
    let staple: Buffer | null = null;
    while (!staple && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      staple = (await handshake(port)).staple;
    }
    expect(stapledStatus(staple)).toBe('good');
    expect(reports.at(-1)).toMatchObject({ event: 'stapling' });
  });

  it("a response's later life (an injected clock): kept until half its validity, served while a refresh fails, replaced by a refresh, gone once it expires", async () => {
    let clock = Date.now();
    const { stapler: s, reports } = stapler('life', { now: () => clock, retryMs: 1000 });
    const stapled = () =>
      reports.filter((r) => r.event === 'stapling') as Extract<OcspStapleReport, { event: 'stapling' }>[];
    const settled = async (n: number) => {
      for (let i = 0; i < 100 && reports.length < n; i++) await new Promise((r) => setTimeout(r, 20));
      expect(reports).toHaveLength(n);
    };
    const first = await s.staple();
    expect(stapledStatus(first)).toBe('good');
    expect(fronts.life.requests).toBe(1);
    const one = stapled()[0]!;
    const nextUpdate = one.nextUpdate!.getTime();
    // half of the remaining validity (`openssl ocsp -ndays 1`: about 12 hours)
    expect(one.refreshAt.getTime() - clock).toBeGreaterThan(11 * 3600_000);
    expect(one.refreshAt.getTime()).toBeLessThan(nextUpdate);

    // until refreshAt the held response is served from memory
    clock = one.refreshAt.getTime() - 1000;
    expect((await s.staple())?.equals(first!)).toBe(true);
    expect(fronts.life.requests).toBe(1);

    // past refreshAt, the responder failing: the previous response is still served, once per back-off
    fronts.life.mode = 'refuse';
    clock = one.refreshAt.getTime() + 1000;
    expect((await s.staple())?.equals(first!)).toBe(true);
    await settled(2);
    expect(reports[1]).toMatchObject({ event: 'failed', servingPrevious: true, consecutive: 1 });
    expect((await s.staple())?.equals(first!)).toBe(true);
    expect(fronts.life.requests).toBe(2);

    // after the back-off, the responder answers again: a fresh response replaces the held one
    fronts.life.mode = 'forward';
    clock += 2000;
    expect((await s.staple())?.equals(first!)).toBe(true); // the refresh runs for the next handshakes
    await settled(3);
    expect(fronts.life.requests).toBe(3);
    const two = stapled()[1]!;
    expect(two.refreshAt.getTime()).toBeGreaterThan(clock);
    expect(stapledStatus(await s.staple())).toBe('good');
    expect(s.current?.thisUpdate.getTime()).toBe(two.thisUpdate.getTime());

    // past its nextUpdate, the responder failing: nothing is stapled any more
    fronts.life.mode = 'refuse';
    clock = two.nextUpdate!.getTime() + 1000;
    expect(await s.staple()).toBeNull();
    expect(s.current).toBeNull();
    await settled(4);
    expect(reports[3]).toMatchObject({ event: 'failed', servingPrevious: false });
  });

  it('a responder that does not answer: a handshake waits at most handshakeWaitMs; one fetch serves them all', async () => {
    const { stapler: s, reports } = stapler('silent', {
      // far apart, so that a loaded machine's slow handshake is not taken for a wait, or the reverse
      handshakeWaitMs: 800,
      fetchTimeoutMs: 2500,
      retryMs: 60_000,
    });
    const port = await serve('silent', s);
    const hs = await Promise.all([handshake(port), handshake(port), handshake(port)]);
    for (const h of hs) {
      expect(h.staple).toBeNull();
      expect(h.ms).toBeGreaterThanOrEqual(750);
      expect(h.ms).toBeLessThan(2400);
    }
    const after = await handshake(port); // the fetch still runs: waits again, within the bound
    expect(after.staple).toBeNull();
    expect(fronts.silent.requests).toBe(1);
    // the fetch times out in the background; then the stapler backs off without a wait
    const until = Date.now() + 6000;
    while (reports.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(reports[0]).toMatchObject({ event: 'failed', failure: 'unreachable', servingPrevious: false });
    const backedOff = await handshake(port);
    expect(backedOff.staple).toBeNull();
    expect(backedOff.ms).toBeLessThan(600);
    expect(fronts.silent.requests).toBe(1);
    expect(s.fetches).toBe(1);
  });

  it('no OCSP URL in the leaf: the stapler is off, no staple, no network', async () => {
    const { stapler: s, reports } = stapler('nourl');
    expect(s.disabled).toBe('no-url');
    expect(s.url).toBeNull();
    s.start();
    const port = await serve('nourl', s);
    expect((await handshake(port)).staple).toBeNull();
    expect(await sClient(port)).toContain('OCSP response: no response sent');
    expect(await s.staple()).toBeNull();
    expect(s.fetches).toBe(0);
    expect(reports).toEqual([]);
  });

  it('another certificate (an SNI context), no issuer, a stopped stapler: no staple', async () => {
    const { stapler: s } = stapler('good');
    s.start();
    const good = await s.staple(leaf.good!.certDer);
    expect(stapledStatus(good)).toBe('good');
    expect(await s.staple(leaf.revoked!.certDer)).toBeNull();
    s.stop();
    expect(await s.staple()).toBeNull();

    const lone = new OcspStapler({ certificate: new X509Certificate(leaf.good!.certPem), issuer: null });
    expect(lone.disabled).toBe('no-issuer');
    const wrongIssuer = new OcspStapler({ certificate: leaf.good!.certDer, issuer: leaf.revoked!.certPem });
    expect(wrongIssuer.disabled).toBe('no-issuer');
    expect(await wrongIssuer.staple()).toBeNull();
  });
});
