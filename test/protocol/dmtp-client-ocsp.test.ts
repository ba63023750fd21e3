/**
 * The DMTP client's OCSP step (record.md §5: a record without `tls` pins → self-signed refused, host
 * name, chain, then OCSP) end to end: our own DMTP listeners serve DX leaves that a test CA (Debian's
 * `openssl`) issued with an AIA OCSP URL, and `openssl ocsp` answers for them from an index.txt. A
 * small node TLS server staples responses for the stapling cases. Real TCP, TLS and HTTP; no mocks.
 */

import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys } from '../../src/keys/index.js';
import {
  createMailListener,
  createServerSecureContext,
  type DmtpClientOptions,
  DmtpConnection,
  type DmtpTarget,
  isTemporaryFailure,
  listen,
  MailSession,
} from '../../src/protocol/index.js';
import { tlsCertificateSignature } from '../../src/record/index.js';
import { closedPort, expectDimeError } from '../resolver/helpers.js';
import { TestHooks } from './helpers.js';
import { type Authority, type Issued, OcspPki, type Responder } from './ocsp-pki.js';
import { openAndQuit, unpinnedTarget } from './ocsp-targets.js';

let pki: OcspPki;
let ca: Authority;
let main: Responder;
let impostorResponder: Responder;
const leaf: Record<string, Issued> = {};
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const ports = { dmtp: 0, dual: 0, staple: 0 };
const org = generateKeys('org');
/** Stapled responses by leaf (the staple server's OCSPRequest handler). */
const staples = new Map<string, Uint8Array>();

const host = (name: string) => `dx.${name}.ocsp.test`;

function track(server: net.Server): void {
  servers.push(server);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
}

/** A TLS server that staples and speaks just enough DMTP: banner, EHLO, QUIT. */
async function stapleServer(
  contexts: Map<string, tls.SecureContext>,
  byCert: Map<string, Issued>,
): Promise<number> {
  const first = [...contexts.values()][0]!;
  const server = tls.createServer({
    secureContext: first,
    SNICallback: (name, cb) => cb(null, contexts.get(name) ?? first),
    minVersion: 'TLSv1.2',
  });
  server.on(
    'OCSPRequest',
    (certificate: Buffer, _issuer: Buffer, cb: (err: Error | null, resp?: Buffer) => void) => {
      const l = byCert.get(certificate.toString('base64'));
      const s = l ? staples.get(l.serial) : undefined;
      cb(null, s ? Buffer.from(s) : undefined);
    },
  );
  server.on('secureConnection', (s) => {
    s.on('error', () => {});
    const name = (s as tls.TLSSocket & { servername?: string }).servername || 'dx.staple.test';
    s.write(`220 ${name} DMTPv1\r\n`);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (/^EHLO/i.test(line)) s.write(`250-${name}\r\n250 DMTPv1\r\n`);
        else if (/^QUIT/i.test(line)) s.end('221 bye\r\n');
        else s.write('502 not here\r\n');
      }
    });
  });
  track(server);
  return listen(server, 0);
}

beforeAll(async () => {
  pki = new OcspPki();
  ca = pki.authority('DIME DX Test CA', 'ca');
  const impostor = pki.authority('DIME DX Test CA', 'impostor');
  const p = {
    main: await closedPort(),
    impostor: await closedPort(),
    down: await closedPort(),
    silent: await closedPort(),
  };
  const url = (port: number) => `http://127.0.0.1:${port}/`;
  const dx = (name: string, port: number | null) =>
    (leaf[name] = pki.dxLeaf(ca, `leaf-${name}`, host(name), port === null ? null : url(port)));
  dx('good', p.main);
  dx('revoked', p.main);
  dx('unknown', p.main);
  dx('down', p.down);
  dx('silent', p.silent);
  dx('nourl', null);
  dx('impostor', p.impostor);
  dx('staple-good', p.down); // the staple must do: its responder is down
  dx('staple-revoked', p.main);
  dx('staple-garbage', p.main);
  const index = pki.leafIndex('index.txt', leaf, host, (n) =>
    n.endsWith('revoked') ? { at: '250601120000Z', reason: 'superseded' } : undefined,
  );
  main = await pki.caResponder(index, ca, p.main);
  impostorResponder = await pki.responder({
    index,
    ca,
    signerCert: impostor.certFile,
    signerKey: impostor.keyFile,
    port: p.impostor,
    args: ['-resp_no_certs'],
  });
  const silent = net.createServer((s) => s.on('error', () => {})); // accepts, never answers
  track(silent);
  await new Promise<void>((r) => silent.listen(p.silent, '127.0.0.1', () => r()));

  // our listeners (port-26 mode and dual mode), one certificate per SNI name
  const contexts = new Map<string, tls.SecureContext>();
  for (const [n, l] of Object.entries(leaf)) {
    contexts.set(host(n), createServerSecureContext({ key: l.keyPem, cert: l.chainPem }, 'dmtp'));
  }
  const fallback = contexts.get(host('good'))!;
  const hooks = new TestHooks();
  for (const n of Object.keys(leaf)) hooks.localHostnames.add(host(n)); // STARTTLS <host> names
  const serve = async (protocol: 'dmtp' | 'smtp') => {
    const server = createMailListener({
      tls: {
        smtp: fallback,
        dmtp: fallback,
        SNICallback: (name, cb) => cb(null, contexts.get(name) ?? fallback),
      },
      createSession: () => new MailSession({ hostname: 'dx.ocsp.test', protocol, errorDelayMs: 0 }, hooks),
    });
    track(server);
    return listen(server, 0);
  };
  ports.dmtp = await serve('dmtp');
  ports.dual = await serve('smtp');

  const byCert = new Map<string, Issued>();
  for (const n of ['staple-good', 'staple-revoked', 'staple-garbage']) {
    byCert.set(Buffer.from(leaf[n]!.certDer).toString('base64'), leaf[n]!);
  }
  staples.set(leaf['staple-good']!.serial, pki.fetchResponse(ca, leaf['staple-good']!, main.url));
  staples.set(leaf['staple-revoked']!.serial, pki.fetchResponse(ca, leaf['staple-revoked']!, main.url));
  staples.set(leaf['staple-garbage']!.serial, new Uint8Array(Buffer.from('not an OCSP response')));
  const stapleContexts = new Map(
    ['staple-good', 'staple-revoked', 'staple-garbage'].map((n) => [host(n), contexts.get(host(n))!]),
  );
  ports.staple = await stapleServer(stapleContexts, byCert);
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  await main?.stop();
  await impostorResponder?.stop();
  await pki?.close();
});

const target = (name: string, extra: Partial<DmtpTarget> = {}): DmtpTarget =>
  unpinnedTarget('ocsp.test', host(name), org.signingPublic, extra);

function options(port = ports.dmtp, extra: Partial<DmtpClientOptions> = {}): DmtpClientOptions {
  return {
    portOverrides: { 26: port, 25: ports.dual },
    ca: ca.certPem,
    timeouts: { connectMs: 3000, tlsMs: 3000, commandMs: 3000, ocspMs: 3000 },
    ...extra,
  };
}

describe('DMTP client: OCSP when the record pins no certificate', () => {
  it('good: the connection comes up; the verdict names the responder', async () => {
    const v = await openAndQuit(target('good'), options());
    expect(v).toMatchObject({ check: 'x509', pinned: false, hostname: 'ok', chain: 'ok', ocsp: 'good' });
    expect(v.ocspDetail).toMatchObject({
      source: 'responder',
      url: main.url,
      signer: 'issuer',
      nonce: 'matched',
    });
    expect(Date.parse(v.ocspDetail!.nextUpdate!)).toBeGreaterThan(Date.now());
  });

  it('revoked: TLS_UNTRUSTED (ocsp-revoked), retried later', async () => {
    const e = await expectDimeError(DmtpConnection.open(target('revoked'), options()), 'TLS_UNTRUSTED');
    expect(e.context).toMatchObject({
      reason: 'ocsp-revoked',
      ocsp: 'revoked',
      ocspSource: 'responder',
      revocationTime: '2025-06-01T12:00:00.000Z',
      revocationReason: 'superseded',
    });
    expect(isTemporaryFailure(e)).toBe(true);
  });

  it('unknown: accepted and reported (libdime never reads the status)', async () => {
    expect((await openAndQuit(target('unknown'), options())).ocsp).toBe('unknown');
  });

  it('no OCSP URL in the certificate: accepted and reported as no-url (libdime)', async () => {
    const v = await openAndQuit(target('nourl'), options());
    expect(v.ocsp).toBe('no-url');
    expect(v.ocspDetail).toEqual({ source: null, url: null, notes: [] });
  });

  it('responder down: TLS_UNTRUSTED (ocsp-failed, unreachable), as libdime', async () => {
    const e = await expectDimeError(DmtpConnection.open(target('down'), options()), 'TLS_UNTRUSTED');
    expect(e.context).toMatchObject({ reason: 'ocsp-failed', ocsp: 'unreachable' });
  });

  it('a responder that never answers: refused after timeouts.ocspMs', async () => {
    const t = Date.now();
    const e = await expectDimeError(
      DmtpConnection.open(target('silent'), options(ports.dmtp, { timeouts: { ocspMs: 300 } })),
      'TLS_UNTRUSTED',
    );
    expect(e.context).toMatchObject({ reason: 'ocsp-failed', ocsp: 'unreachable' });
    expect(Date.now() - t).toBeLessThan(2500);
  });

  it("an answer signed by another key under the CA's name: TLS_UNTRUSTED (ocsp-failed, signature)", async () => {
    const e = await expectDimeError(DmtpConnection.open(target('impostor'), options()), 'TLS_UNTRUSTED');
    expect(e.context).toMatchObject({ reason: 'ocsp-failed', ocsp: 'signature' });
  });

  it('dual mode (STARTTLS MODE=DMTPv1): the same check after the handshake', async () => {
    const good = await openAndQuit(target('good', { mode: 'dual', port: 25 }), options());
    expect(good.ocsp).toBe('good');
    const e = await expectDimeError(
      DmtpConnection.open(target('revoked', { mode: 'dual', port: 25 }), options()),
      'TLS_UNTRUSTED',
    );
    expect(e.context.reason).toBe('ocsp-revoked');
  });

  it('the chain and host name still come first: no trust store → chain, not OCSP', async () => {
    const { ca: _trusted, ...bundledRootsOnly } = options();
    const e = await expectDimeError(
      DmtpConnection.open(target('revoked'), bundledRootsOnly),
      'TLS_UNTRUSTED',
    );
    expect(e.context.reason).toBe('chain');
  });

  it('a pin skips OCSP (record.md §5): a revoked certificate pinned by an insecure record connects', async () => {
    const pinned = {
      pok: [org.signingPublic],
      tls: [tlsCertificateSignature(leaf.revoked!.certDer, org.signingSeed)],
    };
    const v = await openAndQuit(target('revoked', { record: pinned, dnssec: 'insecure' }), options());
    expect(v).toMatchObject({ check: 'pin+x509', pinned: true, ocsp: 'skipped', ocspDetail: null });
    const secure = await openAndQuit(target('revoked', { record: pinned }), options());
    expect(secure).toMatchObject({ check: 'pin', ocsp: 'skipped' });
  });
});

describe('DMTP client: stapled OCSP responses', () => {
  it('a good staple is used; the dead responder is never asked', async () => {
    const v = await openAndQuit(target('staple-good'), options(ports.staple));
    expect(v.ocsp).toBe('good');
    expect(v.ocspDetail).toMatchObject({ source: 'stapled', url: null, nonce: 'not-sent' });
  });

  it('a revoked staple: TLS_UNTRUSTED (ocsp-revoked)', async () => {
    const e = await expectDimeError(
      DmtpConnection.open(target('staple-revoked'), options(ports.staple)),
      'TLS_UNTRUSTED',
    );
    expect(e.context).toMatchObject({ reason: 'ocsp-revoked', ocspSource: 'stapled' });
  });

  it('a staple that is not an OCSP response: TLS_UNTRUSTED (ocsp-failed, malformed)', async () => {
    const e = await expectDimeError(
      DmtpConnection.open(target('staple-garbage'), options(ports.staple)),
      'TLS_UNTRUSTED',
    );
    expect(e.context).toMatchObject({ reason: 'ocsp-failed', ocsp: 'malformed', ocspSource: 'stapled' });
  });
});
