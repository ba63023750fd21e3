/**
 * The reference DMTP client (../shared/tools/libdime-dmtp: libdime's own resolver code) against the
 * real server: the org signet the first start made and a user signet `dime admin user add` made
 * are fetched with SGNT on the dedicated DMTP port and in dual mode on the SMTP and submission
 * ports, and libdime validates them (SS_FULL, POK, user signature chain) and accepts our RSA
 * certificate when the record pins it.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dearmor } from '../../src/encoding/armor.js';
import { buildRecordText, tlsCertificateSignature } from '../../src/record/index.js';
import { parseOrgSignet, parseUserSignet, splitSignet } from '../../src/signet/index.js';
import { libdime } from '../helpers/libdime-dmtp.js';
import { cleanupServers, startTestServer, type TestServer } from './helpers.js';

describe('libdime-dmtp against dime server', () => {
  let srv: TestServer;
  let pokHex: string;
  let record: string;
  beforeAll(async () => {
    srv = await startTestServer({ domain: 'dime.test' });
    await srv.addUser('bob@dime.test', 'bob password for libdime');
    const local = (await srv.running.ctx.domains.get('dime.test'))!;
    pokHex = Buffer.from(local.orgKeys.signingPublic).toString('hex');
    record = buildRecordText({
      pok: [local.orgKeys.signingPublic],
      tls: [tlsCertificateSignature(srv.running.ctx.tls.certDer, local.orgKeys.signingSeed)],
      dx: ['mx.dime.test'],
    });
  });
  afterAll(cleanupServers);

  it('SGNT of the org signet on the dedicated port, as libdime _get_signet() does it (no EHLO, SS_FULL)', async () => {
    const r = await libdime([
      'transcript',
      'sgnt',
      '--host',
      '127.0.0.1',
      '--port',
      String(srv.ports.dmtp),
      '--dx',
      'mx.dime.test',
      '--insecure',
      '--pok',
      pokHex,
      '--strict',
      '--no-ehlo',
      'dime.test',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('S: 220 mx.dime.test DMTPv1');
    expect(r.stderr).toContain('signet-get_signet-rule: accept');
    const org = parseOrgSignet((await srv.store.getDomain('dime.test'))!.orgSignet!);
    expect(dearmor(r.stdout).binary).toEqual(splitSignet(org, 'full').bytes);
  });

  for (const listener of ['smtp', 'submission'] as const) {
    it(`SGNT of a user signet in dual mode on the ${listener} port, certificate pinned by a DNSSEC record`, async () => {
      const r = await libdime([
        'transcript',
        'sgnt',
        '--host',
        '127.0.0.1',
        '--port',
        String(srv.ports[listener]),
        '--dual',
        '--dx',
        'mx.dime.test',
        '--record',
        record,
        '--record-dnssec',
        '--strict',
        '--no-ehlo',
        'bob@dime.test',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('S: 220 mx.dime.test ESMTP DMTPv1');
      expect(r.stderr).toContain('C: STARTTLS <mx.dime.test> MODE=DMTPv1');
      expect(r.stderr).toContain('S: 250 OK DMTPv1');
      expect(r.stderr).toContain('certificate: accepted');
      expect(r.stderr).toMatch(/\nsignet-get_signet-rule: accept/);
      const bob = (await srv.store.findUser((await srv.store.getDomain('dime.test'))!.id, 'bob'))!;
      expect(dearmor(r.stdout).binary).toEqual(splitSignet(parseUserSignet(bob.signet!), 'full').bytes);
    });
  }
});
