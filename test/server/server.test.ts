/**
 * The server over real sockets, on both storage engines: submission with nodemailer on 587
 * (STARTTLS) and 465 (implicit TLS) with AUTH, local delivery sealed for the recipient and a Sent
 * copy for the author; legacy mail to port 25 lands sealed and opens after a login; the refusals
 * of each listener; the admin layer while the server runs.
 */

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSealedBox } from '../../src/crypto/sealed-box.js';
import { LineClient } from '../protocol/line-client.js';
import { cleanupServers, type Engine, readFolder, startTestServer, type TestServer } from './helpers.js';

const ALICE = 'alice@dime.test';
const BOB = 'bob@dime.test';
const PW_A = 'alice password 1';
const PW_B = 'bob password 22';

function submit(port: number, secure: boolean, user = ALICE, pass = PW_A) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure,
    requireTLS: !secure,
    tls: { rejectUnauthorized: false },
    auth: { user, pass },
  });
}

for (const engine of ['sqlite', 'postgres'] as Engine[]) {
  describe(`server (${engine})`, () => {
    let srv: TestServer;

    beforeAll(async () => {
      srv = await startTestServer({ engine, config: { limits: { maxMessageSize: 200_000 } } });
      await srv.addUser(ALICE, PW_A);
      await srv.addUser(BOB, PW_B);
    });
    afterAll(cleanupServers);

    it('lists every listener it really runs', () => {
      expect(Object.keys(srv.ports).sort()).toEqual(['dmtp', 'smtp', 'submission', 'submissions']);
      expect(srv.running.ready).toMatchObject({ ready: true, domain: 'dime.test', hostname: 'mx.dime.test' });
    });

    it('takes a submission on 587 (STARTTLS) and 465 (implicit TLS) with AUTH, for a local user', async () => {
      const a = await submit(srv.ports.submission, false).sendMail({
        from: ALICE,
        to: BOB,
        subject: 'over 587',
        text: 'submitted with STARTTLS',
      });
      expect(a.response).toMatch(/^250 /);
      const b = await submit(srv.ports.submissions, true).sendMail({
        from: ALICE,
        to: BOB,
        subject: 'over 465',
        text: 'submitted with implicit TLS',
      });
      expect(b.response).toMatch(/^250 /);
      const inbox = await readFolder(srv.store, BOB, PW_B);
      const subjects = inbox.map((m) => /^Subject: (.*)$/m.exec(m.text!)?.[1]);
      expect(subjects).toEqual(expect.arrayContaining(['over 587', 'over 465']));
      for (const m of inbox) expect(m.info.metadata.kind).toBe('sealed');
      const sent = await readFolder(srv.store, ALICE, PW_A, 'Sent');
      expect(sent.map((m) => /^Subject: (.*)$/m.exec(m.text!)?.[1])).toEqual(
        expect.arrayContaining(['over 587', 'over 465']),
      );
    });

    it('refuses a wrong password, AUTH before TLS, and a sender the user does not own', async () => {
      await expect(
        submit(srv.ports.submissions, true, ALICE, 'not the password').sendMail({
          from: ALICE,
          to: BOB,
          text: 'x',
        }),
      ).rejects.toThrow(/535/);
      const c = await LineClient.connect(srv.ports.submission);
      expect(await c.reply()).toMatch(/^220 mx\.dime\.test ESMTP DMTPv1/);
      const ehlo = await c.command('EHLO client.test');
      expect(ehlo).toMatch(/STARTTLS/);
      expect(ehlo).not.toMatch(/AUTH/);
      expect(await c.command(`AUTH PLAIN ${Buffer.from(`\0${ALICE}\0${PW_A}`).toString('base64')}`)).toMatch(
        /^5\d\d /,
      );
      expect(await c.command('MAIL FROM:<alice@dime.test>')).toMatch(/^530 /);
      c.end();
      await expect(
        submit(srv.ports.submissions, true).sendMail({ from: BOB, to: ALICE, text: 'x' }),
      ).rejects.toThrow(/553/);
    });

    it('delivers legacy mail from port 25 sealed; it opens after a login', async () => {
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: srv.ports.smtp,
        secure: false,
        tls: { rejectUnauthorized: false },
      });
      const r = await t.sendMail({
        from: 'sender@example.org',
        to: BOB,
        subject: 'from the internet',
        text: 'legacy body',
      });
      expect(r.response).toMatch(/^250 /);
      const inbox = await readFolder(srv.store, BOB, PW_B);
      const m = inbox.find((x) => x.text?.includes('from the internet'));
      expect(m).toBeDefined();
      expect(m!.text).toContain('legacy body');
      // the DNS is down (DEAD_RESOLVER): a temperror, recorded, never a rejection
      expect(m!.text).toMatch(/^Received-SPF: temperror/m);
      expect(m!.text).toMatch(/^Authentication-Results: mx\.dime\.test;/m);
      const blob = await srv.store.readBlob(m!.info.folderId, m!.info.uid);
      expect(isSealedBox(blob!)).toBe(true);
      expect(Buffer.from(blob!).includes('legacy body')).toBe(false);
    });

    it('port 25 refuses relaying and unknown local users', async () => {
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: srv.ports.smtp,
        secure: false,
        tls: { rejectUnauthorized: false },
      });
      await expect(t.sendMail({ from: 'a@example.org', to: 'x@example.net', text: 'relay' })).rejects.toThrow(
        /554 5\.7\.1/,
      );
      await expect(t.sendMail({ from: 'a@example.org', to: 'nobody@dime.test', text: 'x' })).rejects.toThrow(
        /550 5\.1\.1/,
      );
    });

    it('admin works while the server runs: user show counts the delivered mail', async () => {
      const admin = await srv.admin();
      try {
        const show = await admin.showUser(BOB);
        expect(show.address).toBe(BOB);
        expect(show.mode).toBe('trustful');
        const inbox = show.folders.find((f) => f.name === 'INBOX')!;
        expect(inbox.messages).toBeGreaterThanOrEqual(3);
        expect(inbox.bytes).toBeGreaterThan(0);
        await admin.addUser('carol@dime.test', new Uint8Array(Buffer.from('carol password 3')), {
          mode: 'cautious',
        });
      } finally {
        await admin.close();
      }
      // the running server sees the new user at once
      const r = await submit(srv.ports.submission, false).sendMail({
        from: ALICE,
        to: 'carol@dime.test',
        text: 'hi carol',
      });
      expect(r.response).toMatch(/^250 /);
    });

    it('limits: SIZE above the maximum is 552, a full mailbox 452 on port 25 and a bounce for a submission', async () => {
      const admin = await srv.admin();
      try {
        await admin.addUser('dave@dime.test', new Uint8Array(Buffer.from('dave password 44')), {
          quotaMessages: 1,
        });
      } finally {
        await admin.close();
      }
      const mx = nodemailer.createTransport({
        host: '127.0.0.1',
        port: srv.ports.smtp,
        secure: false,
        tls: { rejectUnauthorized: false },
      });
      await expect(
        mx.sendMail({ from: 'a@example.org', to: BOB, text: 'x'.repeat(250_000) }),
      ).rejects.toThrow(/552/);
      expect(
        (await mx.sendMail({ from: 'a@example.org', to: 'dave@dime.test', text: 'fits' })).response,
      ).toMatch(/^250 /);
      await expect(
        mx.sendMail({ from: 'a@example.org', to: 'dave@dime.test', text: 'does not fit' }),
      ).rejects.toThrow(/452 4\.2\.2/);
      // a submission to the full mailbox is accepted and bounced to the author with the reason
      const r = await submit(srv.ports.submission, false).sendMail({
        from: ALICE,
        to: 'dave@dime.test',
        subject: 'for a full mailbox',
        text: 'x',
      });
      expect(r.response).toMatch(/^250 /);
      const inbox = await readFolder(srv.store, ALICE, PW_A);
      const bounce = inbox.find(
        (m) => m.text?.includes('multipart/report') && m.text.includes('for a full mailbox'),
      );
      expect(bounce?.text).toMatch(/mailbox full/);
      expect(bounce?.text).toMatch(/Status: 5\.2\.2/);
    });

    it('DMTP on every listener that speaks it: port 26, and the mode switch on 25 and 587', async () => {
      const { DmtpConnection } = await import('../../src/protocol/dmtp/client.js');
      const { parseOrgSignet } = await import('../../src/signet/index.js');
      const { tlsCertificateSignature } = await import('../../src/record/index.js');
      const domain = (await srv.store.getDomain('dime.test'))!;
      const org = parseOrgSignet(domain.orgSignet!);
      const local = (await srv.running.ctx.domains.get('dime.test'))!;
      // the record `dime admin dns` publishes: the certificate pinned by the POK
      const record = {
        pok: [org.signingKey],
        tls: [tlsCertificateSignature(srv.running.ctx.tls.certDer, local.orgKeys.signingSeed)],
      };
      for (const [port, mode] of [
        [srv.ports.dmtp, 'dmtp'],
        [srv.ports.smtp, 'dual'],
        [srv.ports.submission, 'dual'],
      ] as const) {
        const c = await DmtpConnection.open(
          {
            domain: 'dime.test',
            record,
            dnssec: 'secure',
            host: 'mx.dime.test',
            port,
            mode,
            address: '127.0.0.1',
          },
          {},
        );
        try {
          const signet = await c.sgnt('bob@dime.test');
          expect(signet.length).toBeGreaterThan(100);
          expect(Buffer.from(await c.sgnt('dime.test'))).toEqual(
            Buffer.from((await import('../../src/signet/index.js')).splitSignet(org, 'full').bytes),
          );
        } finally {
          await c.quit();
        }
      }
    });
  });
}
