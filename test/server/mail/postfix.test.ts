/**
 * The Postfix harness (test/helpers/postfix-harness.ts) with real clients: nodemailer and swaks
 * submit into the Maildir sink, the smuggling setting is in force, Postfix relays to our own SMTP
 * sink over STARTTLS, and deliverSmtp delivers to Postfix over STARTTLS. swaks also talks to our
 * MailSession sink.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../../src/protocol/index.js';
import { DimeResolver } from '../../../src/resolver/index.js';
import { deliverSmtp } from '../../../src/server/mail/smtp-delivery.js';
import { type PostfixInstance, postfixVersion, startPostfix } from '../../helpers/postfix-harness.js';
import { startSmtpSink } from './smtp-sink.js';

const run = promisify(execFile);

let sink: PostfixInstance;

beforeAll(async () => {
  const cert = await createSelfSignedCertificate({ hostnames: ['postfix.test', '127.0.0.1'], keyType: 'ec' });
  sink = await startPostfix({
    mode: 'sink-maildir',
    smtpdForbidBareNewline: true,
    tls: { certPem: cert.certPem, keyPem: cert.keyPem },
  });
}, 60_000);

afterAll(async () => {
  await sink?.stop();
});

/** Sends raw bytes, collecting replies until `until` matches (or the server closes). */
async function rawSession(port: number, steps: string[], wait = 150): Promise<string> {
  const s = connect({ host: '127.0.0.1', port });
  let out = '';
  s.on('data', (b) => {
    out += b.toString('latin1');
  });
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.on('error', () => {});
  await new Promise((r) => setTimeout(r, wait));
  for (const step of steps) {
    s.write(step);
    await new Promise((r) => setTimeout(r, wait));
  }
  s.end();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  s.destroy();
  return out;
}

const ENVELOPE = [
  'EHLO smuggler.test\r\n',
  'MAIL FROM:<a@smuggler.test>\r\n',
  'RCPT TO:<b@x.test>\r\n',
  'DATA\r\n',
];
const SMUGGLED =
  'MAIL FROM:<evil@smuggler.test>\r\nRCPT TO:<victim@x.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n';
/** End-of-data look-alikes of the SMTP smuggling attacks (2023). */
const VARIANTS = ['\n.\n', '\n.\r\n', '\r\n.\n', '\r.\r\n'];

describe('Postfix harness', () => {
  it('is Debian Postfix ≥ 3.7.10 with the smuggling fix in force for loopback clients', async () => {
    expect(sink.version).toMatch(/^3\.\d+\.\d+/);
    expect(await postfixVersion()).toBe(sink.version);
    expect(await sink.postconf('smtpd_forbid_bare_newline')).toBe('normalize');
    expect(await sink.postconf('smtpd_forbid_bare_newline_exclusions')).toBe('');
    expect(await sink.postconf('mynetworks')).toBe('127.0.0.0/8');
  });

  it('nodemailer submits a message; it appears in the Maildir', async () => {
    const before = sink.messageFiles().length;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: sink.port,
      secure: false,
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({
      from: 'alice@sender.test',
      to: 'bob@anywhere.test',
      subject: 'via nodemailer',
      text: 'hello from nodemailer',
    });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    const all = await sink.waitForMessages(before + 1);
    const got = all[before]!.toString('utf8');
    expect(got).toContain('Subject: via nodemailer');
    expect(got).toContain('hello from nodemailer');
    expect(got).toMatch(/^Return-Path: <alice@sender\.test>/);
    expect(got).toMatch(/with ESMTPS id/); // nodemailer took STARTTLS
  });

  it("bare-LF end-of-data variants never end the message ('normalize'): one message, queued whole", async () => {
    const before = sink.messageFiles().length;
    for (const variant of VARIANTS) {
      const out = await rawSession(sink.port, [
        ...ENVELOPE,
        `Subject: carrier\r\n\r\nbody${variant}${SMUGGLED}QUIT\r\n`,
      ]);
      // one 354 and one 250 for the data: the smuggled MAIL/RCPT/DATA were never commands
      expect(out.match(/^354 /gm), `${JSON.stringify(variant)}: ${out}`).toHaveLength(1);
      expect(out.match(/^250 2\.0\.0 Ok: queued as /gm), JSON.stringify(variant)).toHaveLength(1);
    }
    const stored = (await sink.waitForMessages(before + VARIANTS.length))
      .slice(before)
      .map((b) => b.toString('utf8'));
    expect(stored).toHaveLength(VARIANTS.length);
    for (const m of stored) {
      expect(m).toMatch(/^Return-Path: <a@smuggler\.test>/);
      expect(m).toContain('Subject: carrier');
      expect(m).toContain('Subject: smuggled'); // inside the carrier's body
    }
  });

  it("'reject' refuses bare LF with 550 5.5.2 and stores nothing", async () => {
    const strict = await startPostfix({ mode: 'sink-maildir', smtpdForbidBareNewline: 'reject' });
    try {
      expect(await strict.postconf('smtpd_forbid_bare_newline')).toBe('reject');
      for (const variant of VARIANTS.filter((v) => v.includes('\n.'))) {
        const out = await rawSession(strict.port, [
          ...ENVELOPE,
          `Subject: carrier\r\n\r\nbody${variant}${SMUGGLED}QUIT\r\n`,
        ]);
        expect(out.match(/^354 /gm), JSON.stringify(variant)).toHaveLength(1);
        expect(out, JSON.stringify(variant)).toMatch(/^550 5\.5\.2 postfix\.test Error: bare <LF> received/m);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(strict.messageFiles()).toEqual([]);
    } finally {
      await strict.stop();
    }
  });

  it('swaks (Debian package) sends to Postfix over STARTTLS', async () => {
    const before = sink.messageFiles().length;
    const { stdout } = await run('swaks', [
      '--server',
      `127.0.0.1:${sink.port}`,
      '--helo',
      'swaks.test',
      '--from',
      'carol@sender.test',
      '--to',
      'dave@anywhere.test',
      '--header',
      'Subject: via swaks',
      '--body',
      'hello from swaks',
      '--tls',
      '--timeout',
      '10',
    ]);
    expect(stdout).toMatch(/<~ {2}250 2\.0\.0 Ok: queued as /);
    const all = await sink.waitForMessages(before + 1);
    expect(all[before]!.toString('utf8')).toContain('hello from swaks');
  });

  it('deliverSmtp delivers to Postfix over STARTTLS (hostOverride, portOverride)', async () => {
    const before = sink.messageFiles().length;
    const message = new TextEncoder().encode(
      'From: alice@dime.test\r\nTo: erin@anywhere.test\r\nSubject: via deliverSmtp\r\nMessage-ID: <d1@dime.test>\r\n\r\n.leading dot\r\nbye\r\n',
    );
    const r = await deliverSmtp({
      from: 'alice@dime.test',
      to: ['erin@anywhere.test', 'frank@anywhere.test'],
      message,
      domain: 'anywhere.test',
      resolver: new DimeResolver({ servers: ['127.0.0.1:9'] }), // not asked: hostOverride
      heloName: 'mx.dime.test',
      hostOverride: '127.0.0.1',
      portOverride: sink.port,
    });
    expect(r).toMatchObject({ host: '127.0.0.1', tls: true });
    expect(r.recipients.map((x) => [x.address, x.ok, x.code])).toEqual([
      ['erin@anywhere.test', true, 250],
      ['frank@anywhere.test', true, 250],
    ]);
    // Postfix's virtual agent stores one copy per recipient
    const all = await sink.waitForMessages(before + 2);
    const got = all.slice(before).map((b) => b.toString('utf8'));
    for (const g of got) {
      expect(g).toContain('Subject: via deliverSmtp');
      expect(g).toContain('\n.leading dot\n'); // Maildir files use LF; the dot was unstuffed
    }
  });
});

describe('Postfix relay mode and swaks against our own SMTP state machine', () => {
  it('Postfix relays to our STARTTLS sink; swaks reaches the same sink directly', async () => {
    const ours = await startSmtpSink({ hostname: 'sink.dime.test' });
    const relay = await startPostfix({
      mode: 'relay',
      smtpdForbidBareNewline: true,
      relayTo: { host: '127.0.0.1', port: ours.port },
    });
    try {
      expect(await relay.postconf('relayhost')).toBe(`[127.0.0.1]:${ours.port}`);
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false });
      await transport.sendMail({
        from: 'alice@sender.test',
        to: 'bob@elsewhere.test',
        subject: 'relayed',
        text: 'through postfix',
      });
      transport.close();
      const until = Date.now() + 15_000;
      while (ours.messages.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(ours.messages, relay.logs()).toHaveLength(1);
      const m = ours.messages[0]!;
      expect(m.from).toBe('alice@sender.test');
      expect(m.to).toEqual(['bob@elsewhere.test']);
      expect(m.secure).toBe(true); // Postfix's smtp client took our STARTTLS
      expect(m.helo).toBe('postfix.test');
      expect(new TextDecoder().decode(m.bytes)).toContain('through postfix');

      const { stdout } = await run('swaks', [
        '--server',
        `127.0.0.1:${ours.port}`,
        '--helo',
        'swaks.test',
        '--from',
        'carol@sender.test',
        '--to',
        'dan@elsewhere.test',
        '--body',
        'swaks to MailSession',
        '--tls',
        '--timeout',
        '10',
      ]);
      expect(stdout).toMatch(/<~ {2}250 /);
      expect(ours.messages).toHaveLength(2);
      expect(ours.messages[1]).toMatchObject({
        from: 'carol@sender.test',
        to: ['dan@elsewhere.test'],
        secure: true,
      });
      expect(new TextDecoder().decode(ours.messages[1]!.bytes)).toContain('swaks to MailSession');
    } finally {
      await relay.stop();
      await ours.close();
    }
  });
});
