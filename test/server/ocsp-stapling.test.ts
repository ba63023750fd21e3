/**
 * The whole mail server with a configured certificate from a test CA whose leaf names an OCSP
 * responder (`openssl ocsp`): every TLS listener staples (SMTP STARTTLS, implicit TLS on
 * submissions, DMTP on its port), and `tls.ocspStapling: false` turns it off.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOcspResponse } from '../../src/protocol/tls/ocsp.js';
import { type Issued, OcspPki, type Responder } from '../protocol/ocsp-pki.js';
import { handshake, sClient } from '../protocol/staple-clients.js';
import { closedPort } from '../resolver/helpers.js';
import { cleanupServers, startTestServer } from './helpers.js';

const HOST = 'mx.dime.test';
let pki: OcspPki;
let responder: Responder;
let leaf: Issued;
let chainFile: string;

beforeAll(async () => {
  pki = new OcspPki();
  const ca = pki.authority('DIME Server Staple CA', 'ca');
  const port = await closedPort();
  leaf = pki.dxLeaf(ca, 'leaf', HOST, `http://127.0.0.1:${port}/`);
  chainFile = join(pki.dir, 'chain.pem');
  writeFileSync(chainFile, leaf.chainPem);
  const index = pki.index('index.txt', [{ serial: leaf.serial, subject: `/CN=${HOST}` }]);
  responder = await pki.caResponder(index, ca, port);
}, 60_000);

afterAll(async () => {
  await cleanupServers();
  await responder?.stop();
  await pki?.close();
});

function good(der: Buffer | null): boolean {
  if (!der) return false;
  return (
    parseOcspResponse(new Uint8Array(der)).basic?.tbsResponseData.responses[0]?.certStatus.good !== undefined
  );
}

describe('server: OCSP stapling with a configured certificate', () => {
  it('every TLS listener staples a good response', async () => {
    const srv = await startTestServer({
      hostname: HOST,
      config: { tls: { key: leaf.keyFile, cert: chainFile } },
    });
    const out = await sClient(srv.ports.smtp, ['-starttls', 'smtp']);
    expect(out).toContain('OCSP Response Status: successful');
    expect(out).toContain('Cert Status: good');
    const submission = await sClient(srv.ports.submission, ['-starttls', 'smtp']);
    expect(submission).toContain('Cert Status: good');
    expect(good((await handshake(srv.ports.submissions)).staple)).toBe(true);
    expect(good((await handshake(srv.ports.dmtp, HOST)).staple)).toBe(true);
    await srv.stop();
  });

  it('tls.ocspStapling false: no staple', async () => {
    const srv = await startTestServer({
      hostname: HOST,
      config: { tls: { key: leaf.keyFile, cert: chainFile, ocspStapling: false } },
    });
    expect(await sClient(srv.ports.smtp, ['-starttls', 'smtp'])).toContain('OCSP response: no response sent');
    expect((await handshake(srv.ports.dmtp, HOST)).staple).toBeNull();
    await srv.stop();
  });
});
