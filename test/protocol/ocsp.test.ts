/**
 * OCSP (src/protocol/tls/ocsp.ts) against real responders: `openssl ocsp` (Debian's CLI) serving an
 * index.txt for a test CA made with the same CLI, plus small HTTP servers written here for what
 * openssl will not do (HTTP 500, tryLater, silence). Each DX leaf names its responder in its AIA.
 */

import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { OCSPResponse, OCSPResponseStatus } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOcspRequest,
  certIdSource,
  checkOcsp,
  OcspCache,
  type OcspCheckResult,
  OcspError,
  ocspUrls,
  parseOcspResponse,
  postOcspRequest,
  verifyOcspResponse,
} from '../../src/protocol/tls/ocsp.js';
import { closedPort } from '../resolver/helpers.js';
import { type Authority, type Issued, OcspPki, type Responder } from './ocsp-pki.js';

let pki: OcspPki;
let ca: Authority;
let stranger: Authority;
let impostor: Authority;
const leaf: Record<string, Issued> = {};
const responders: Responder[] = [];
const httpServers: net.Server[] = [];
const sockets = new Set<net.Socket>();

const url = (port: number) => `http://127.0.0.1:${port}/`;

async function serveHttp(port: number, handler: http.RequestListener | null): Promise<void> {
  const server = handler
    ? http.createServer(handler)
    : net.createServer((s) => {
        sockets.add(s);
        s.on('error', () => {});
      }); // accepts and never answers
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  httpServers.push(server);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
}

beforeAll(async () => {
  pki = new OcspPki();
  ca = pki.authority('DIME OCSP Test CA', 'ca');
  stranger = pki.authority('Stranger CA', 'stranger');
  impostor = pki.authority('DIME OCSP Test CA', 'impostor'); // the CA's name, another key

  const ports = {
    main: await closedPort(),
    delegated: await closedPort(),
    noEku: await closedPort(),
    impostor: await closedPort(),
    rogue: await closedPort(),
    down: await closedPort(),
    http500: await closedPort(),
    tryLater: await closedPort(),
    silent: await closedPort(),
  };
  const dx = (name: string, port: number | null) =>
    (leaf[name] = pki.dxLeaf(ca, `leaf-${name}`, `dx.${name}.ocsp.test`, port === null ? null : url(port)));
  dx('good', ports.main);
  dx('revoked', ports.main);
  dx('unknown', ports.main);
  dx('delegated', ports.delegated);
  dx('noeku', ports.noEku);
  dx('impostor', ports.impostor);
  dx('rogue', ports.rogue);
  dx('down', ports.down);
  dx('http500', ports.http500);
  dx('trylater', ports.tryLater);
  dx('silent', ports.silent);
  dx('nourl', null);
  leaf.https = pki.dxLeaf(ca, 'leaf-https', 'dx.https.ocsp.test', 'https://127.0.0.1:1/');

  const index = pki.leafIndex(
    'index.txt',
    leaf,
    (n) => `dx.${n}.ocsp.test`,
    (n) => (n === 'revoked' ? { at: '240101000000Z', reason: 'keyCompromise' } : undefined),
  );
  const delegatedCert = pki.responderCert(ca, 'responder-delegated', true, 'ec');
  const noEkuCert = pki.responderCert(ca, 'responder-noeku', false, 'rsa');
  const rogueCert = pki.responderCert(stranger, 'responder-rogue', true, 'rsa');
  const start = (port: number, signerCert: string, signerKey: string, args: string[] = []) =>
    pki.responder({ index, ca, signerCert, signerKey, port, args: ['-ndays', '1', ...args] });
  responders.push(
    await start(ports.main, ca.certFile, ca.keyFile),
    // delegated EC responder, named by key hash
    await start(ports.delegated, delegatedCert.certFile, delegatedCert.keyFile, ['-resp_key_id']),
    await start(ports.noEku, noEkuCert.certFile, noEkuCert.keyFile),
    await start(ports.impostor, impostor.certFile, impostor.keyFile, ['-resp_no_certs']),
    await start(ports.rogue, rogueCert.certFile, rogueCert.keyFile),
  );
  await serveHttp(ports.http500, (_req, res) => {
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end('internal error\n');
  });
  const tryLater = new Uint8Array(
    AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus.tryLater })),
  );
  await serveHttp(ports.tryLater, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/ocsp-response' });
      res.end(Buffer.from(tryLater));
    });
  });
  await serveHttp(ports.silent, null);
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(httpServers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  await Promise.all(responders.map((r) => r.stop()));
  await pki?.close();
});

const issuer = () => new X509Certificate(ca.certPem);
const cert = (name: string) => new X509Certificate(leaf[name]!.certPem);

function check(name: string, extra: Partial<Parameters<typeof checkOcsp>[0]> = {}): Promise<OcspCheckResult> {
  return checkOcsp({ certificate: cert(name), issuer: issuer(), timeoutMs: 3000, ...extra });
}

function failure(r: OcspCheckResult): string | null {
  return r.outcome === 'error' ? r.failure : null;
}

describe('OCSP against openssl ocsp responders', () => {
  it('the AIA OCSP URL is read from the certificate; none without AIA', () => {
    expect(ocspUrls(cert('good'))).toEqual([responders[0]!.url]);
    expect(ocspUrls(leaf.nourl!.certDer)).toEqual([]);
  });

  it('good: signed by the CA itself, our nonce echoed, next update a day ahead', async () => {
    const r = await check('good');
    expect(r).toMatchObject({ outcome: 'good', source: 'responder', signer: 'issuer', nonce: 'matched' });
    if (r.outcome !== 'good') throw new Error('unreachable');
    expect(r.url).toBe(responders[0]!.url);
    expect(r.nextUpdate!.getTime() - r.thisUpdate.getTime()).toBe(86_400_000);
  });

  it("revoked: index.txt 'R' line, with the time and reason", async () => {
    const r = await check('revoked');
    expect(r.outcome).toBe('revoked');
    if (r.outcome !== 'revoked') throw new Error('unreachable');
    expect(r.revocationTime?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(r.revocationReason).toBe('keyCompromise');
  });

  it('unknown: a serial the index does not hold', async () => {
    expect((await check('unknown')).outcome).toBe('unknown');
  });

  it('delegated responder (EC, id-kp-OCSPSigning, responder id by key): good', async () => {
    const r = await check('delegated');
    expect(r).toMatchObject({ outcome: 'good', signer: 'delegated', nonce: 'matched' });
  });

  it('a responder certificate from the CA without id-kp-OCSPSigning: signer refused', async () => {
    const r = await check('noeku');
    expect(failure(r)).toBe('signer');
    expect(r.outcome === 'error' && r.message).toContain('OCSPSigning');
  });

  it("a response signed by another key under the CA's name: signature refused", async () => {
    expect(failure(await check('impostor'))).toBe('signature');
  });

  it('a delegated responder certificate from another CA: signer refused', async () => {
    const r = await check('rogue');
    expect(failure(r)).toBe('signer');
    expect(r.outcome === 'error' && r.message).toContain('not issued by');
  });

  it('responder down: unreachable (refused, as libdime)', async () => {
    const t = Date.now();
    const r = await check('down');
    expect(failure(r)).toBe('unreachable');
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('a responder that never answers: unreachable after the time limit', async () => {
    const t = Date.now();
    const r = await check('silent', { timeoutMs: 400 });
    expect(failure(r)).toBe('unreachable');
    expect(r.outcome === 'error' && r.message).toContain('400 ms');
    expect(Date.now() - t).toBeGreaterThanOrEqual(350);
  });

  it('HTTP 500 from the responder: refused; a tryLater answer: declined (accepted, as libdime)', async () => {
    expect(failure(await check('http500'))).toBe('http');
    const r = await check('trylater');
    expect(r).toMatchObject({ outcome: 'declined', responseStatus: 'tryLater', source: 'responder' });
  });

  it('no OCSP URL: no-url (accepted, as libdime); an https URL: refused', async () => {
    expect(await check('nourl')).toMatchObject({ outcome: 'no-url', source: null, url: null });
    expect(failure(await check('https'))).toBe('url');
  });

  it('no issuer, or the wrong one: no-issuer', async () => {
    expect(failure(await check('good', { issuer: null }))).toBe('no-issuer');
    expect(failure(await check('good', { issuer: new X509Certificate(stranger.certPem) }))).toBe('no-issuer');
    expect(failure(await check('good', { issuer: new X509Certificate(impostor.certPem) }))).toBe('no-issuer');
  });

  it('freshness: thisUpdate/nextUpdate with 5 minutes of skew; nonce replay is refused', async () => {
    const src = certIdSource(cert('good'), issuer());
    const req = buildOcspRequest(src);
    const parsed = parseOcspResponse(await postOcspRequest(responders[0]!.url, req.der));
    const base = { source: src, issuer: issuer(), nonce: req.nonce };
    const v = verifyOcspResponse(parsed, base);
    const thisUpdate = v.thisUpdate.getTime();
    const nextUpdate = v.nextUpdate!.getTime();
    const at = (now: number) => {
      try {
        return verifyOcspResponse(parsed, { ...base, now }).status;
      } catch (e) {
        if (e instanceof OcspError) return e.failure;
        throw e;
      }
    };
    expect(at(nextUpdate + 4 * 60_000)).toBe('good');
    expect(at(nextUpdate + 6 * 60_000)).toBe('stale');
    expect(at(nextUpdate + 3 * 86_400_000)).toBe('stale');
    expect(at(thisUpdate - 4 * 60_000)).toBe('good');
    expect(at(thisUpdate - 6 * 60_000)).toBe('not-yet-valid');
    // the same answer presented for another request (another nonce)
    const other = buildOcspRequest(src);
    expect(() => verifyOcspResponse(parsed, { ...base, nonce: other.nonce })).toThrow(
      expect.objectContaining({ failure: 'nonce', code: 'TLS_UNTRUSTED' }),
    );
    // a request without nonce: the answer has none, accepted (libdime only warns)
    const plain = buildOcspRequest(src, { nonce: false });
    const p2 = parseOcspResponse(await postOcspRequest(responders[0]!.url, plain.der));
    expect(verifyOcspResponse(p2, { ...base, nonce: other.nonce }).nonce).toBe('absent');
    // an answer about another certificate
    const revokedSrc = certIdSource(cert('revoked'), issuer());
    expect(() => verifyOcspResponse(parsed, { ...base, source: revokedSrc })).toThrow(
      expect.objectContaining({ failure: 'cert-id' }),
    );
  });
});

describe('stapled responses', () => {
  it('a good staple answers without the network (the URL is dead)', async () => {
    const staple = pki.fetchResponse(ca, leaf.good!, responders[0]!.url);
    // the same response checked for the "down" leaf would be about another certificate; so staple the
    // down leaf's own answer, fetched from the main responder
    const downStaple = pki.fetchResponse(ca, leaf.down!, responders[0]!.url);
    const r = await check('down', { stapled: downStaple });
    expect(r).toMatchObject({ outcome: 'good', source: 'stapled', url: null, nonce: 'not-sent' });
    expect((await check('good', { stapled: staple })).source).toBe('stapled');
  });

  it('a revoked staple is revoked', async () => {
    const staple = pki.fetchResponse(ca, leaf.revoked!, responders[0]!.url);
    expect(await check('revoked', { stapled: staple })).toMatchObject({
      outcome: 'revoked',
      source: 'stapled',
    });
  });

  it('a staple that is not an OCSPResponse refuses the connection (libdime aborts the handshake)', async () => {
    const r = await check('good', { stapled: new Uint8Array([0x30, 0x03, 0x01, 0x02]) });
    expect(r).toMatchObject({ outcome: 'error', failure: 'malformed', source: 'stapled' });
  });

  it('a staple for another certificate, or a stale one, is set aside: the responder decides', async () => {
    const other = pki.fetchResponse(ca, leaf.revoked!, responders[0]!.url);
    const r = await check('good', { stapled: other });
    expect(r).toMatchObject({ outcome: 'good', source: 'responder', nonce: 'matched' });
    expect(r.notes.join(' ')).toContain('stapled response set aside (cert-id)');
    const own = pki.fetchResponse(ca, leaf.down!, responders[0]!.url);
    const stale = await check('down', { stapled: own, now: Date.now() + 3 * 86_400_000 });
    expect(failure(stale)).toBe('unreachable'); // the staple was stale, and the down leaf's responder is down
    expect(stale.notes.join(' ')).toContain('(stale)');
  });

  it('a tryLater staple is set aside too', async () => {
    const tryLater = new Uint8Array(
      AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus.tryLater })),
    );
    const r = await check('good', { stapled: tryLater });
    expect(r).toMatchObject({ outcome: 'good', source: 'responder' });
    expect(r.notes).toEqual(['stapled response set aside: responseStatus tryLater']);
  });
});

describe('fuzz: the response parser and verifier never crash', () => {
  it('garbage and mutated DER end in OcspError (or, when the signed part is intact, the true answer)', async () => {
    const src = certIdSource(cert('good'), issuer());
    const req = buildOcspRequest(src, { nonce: false });
    const genuine = await postOcspRequest(responders[0]!.url, req.der);
    const revoked = pki.fetchResponse(ca, leaf.revoked!, responders[0]!.url);
    const input = { source: src, issuer: issuer(), nonce: null };
    const run = (d: Uint8Array): string => {
      try {
        return verifyOcspResponse(parseOcspResponse(d), input).status;
      } catch (e) {
        if (e instanceof OcspError) return `error:${e.failure}`;
        throw e;
      }
    };
    expect(run(genuine)).toBe('good');
    expect(run(revoked)).toBe('error:cert-id');

    type Mut =
      | { kind: 'set'; at: number; value: number }
      | { kind: 'cut'; at: number }
      | { kind: 'insert'; at: number; bytes: Uint8Array }
      | { kind: 'drop'; at: number; n: number };
    const mutation: fc.Arbitrary<Mut> = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ maxLength: 8 }),
      }),
      fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
    );
    const mutate = (base: Uint8Array, ms: readonly Mut[]) => {
      let d = Buffer.from(base);
      for (const m of ms) {
        const at = d.length === 0 ? 0 : m.at % d.length;
        if (m.kind === 'set') d[at] = m.value;
        else if (m.kind === 'cut') d = d.subarray(0, at);
        else if (m.kind === 'insert')
          d = Buffer.concat([d.subarray(0, at), Buffer.from(m.bytes), d.subarray(at)]);
        else d = Buffer.concat([d.subarray(0, at), d.subarray(at + m.n)]);
      }
      return new Uint8Array(d);
    };
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }) },
          {
            weight: 4,
            arbitrary: fc
              .tuple(fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 4 }))
              .map(([g, ms]) => mutate(g ? genuine : revoked, ms)),
          },
        ),
        (d) => {
          const out = run(d);
          outcomes.set(out, (outcomes.get(out) ?? 0) + 1);
          // a response that still verifies is about our certificate and says what the responder said
          expect(out.startsWith('error:') || out === 'good', out).toBe(true);
        },
      ),
      { numRuns: 10_000 },
    );
    // most inputs do not parse; mutations inside the signed data are caught by the signature
    expect(outcomes.get('error:malformed') ?? 0).toBeGreaterThan(1000);
    expect(outcomes.get('error:signature') ?? 0).toBeGreaterThan(10);
  }, 120_000);
});

describe('OcspCache', () => {
  it('a verified answer is reused (re-verified) until its nextUpdate; then the responder is asked again', async () => {
    const port = await closedPort();
    const l = pki.dxLeaf(ca, 'leaf-cached', 'dx.cached.ocsp.test', url(port));
    const index = pki.index('index-cached.txt', [{ serial: l.serial, subject: '/CN=dx.cached.ocsp.test' }]);
    const own = await pki.caResponder(index, ca, port);
    const cache = new OcspCache();
    const certificate = new X509Certificate(l.certPem);
    const first = await checkOcsp({ certificate, issuer: issuer(), timeoutMs: 3000, cache });
    expect(first).toMatchObject({ outcome: 'good', source: 'responder', nonce: 'matched' });
    expect(cache.size).toBe(1);
    await own.stop();
    // the responder is gone: the cached answer decides, checked again
    const second = await checkOcsp({ certificate, issuer: issuer(), timeoutMs: 3000, cache });
    expect(second).toMatchObject({ outcome: 'good', source: 'responder', url: url(port), nonce: 'not-sent' });
    expect(second.notes.join(' ')).toMatch(/answer cached at /);
    // without the cache, or past nextUpdate (a day ahead), the dead responder is asked: refused
    expect(failure(await checkOcsp({ certificate, issuer: issuer(), timeoutMs: 3000 }))).toBe('unreachable');
    const later = Date.now() + 2 * 86_400_000;
    const expired = await checkOcsp({ certificate, issuer: issuer(), timeoutMs: 3000, cache, now: later });
    expect(failure(expired)).toBe('unreachable');
    expect(cache.size).toBe(0);
  });

  it('the cache is bounded (oldest out), keeps revoked answers too, and never skips the issuer check', async () => {
    const cache = new OcspCache(1);
    expect((await check('good', { cache })).outcome).toBe('good');
    expect((await check('revoked', { cache })).outcome).toBe('revoked');
    expect(cache.size).toBe(1);
    // the revoked answer is the one kept, and it is revoked again from the cache
    const again = await check('revoked', { cache });
    expect(again.outcome).toBe('revoked');
    expect(again.notes.join(' ')).toMatch(/answer cached at /);
    // 'good' was evicted: asked afresh (nonce matched)
    expect(await check('good', { cache })).toMatchObject({ outcome: 'good', nonce: 'matched' });
    // a leaf whose issuer is another CA gets no answer from the cache: no-issuer first
    expect(
      failure(
        await checkOcsp({ certificate: cert('good'), issuer: new X509Certificate(stranger.certPem), cache }),
      ),
    ).toBe('no-issuer');
  });
});
