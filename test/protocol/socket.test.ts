/**
 * Over real TCP and TLS on ephemeral loopback ports: the dedicated DMTP port (TLS from the first
 * byte), dual mode on the SMTP port, STARTTLS and implicit-TLS submission (nodemailer), STARTTLS
 * injection and DATA smuggling on the wire.
 */

import type tls from 'node:tls';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/encoding/base64.js';
import { splitSignet } from '../../src/signet/index.js';
import { fp, makeOrg, makeUser, type OrgFixture, sha512b64, TestHooks, type UserFixture } from './helpers.js';
import { LineClient } from './line-client.js';
import { DX, startServers, type TestServers } from './servers.js';

let beta: OrgFixture;
let alpha: OrgFixture;
let bob: UserFixture;
let hooks: TestHooks;
let srv: TestServers;

beforeAll(async () => {
  beta = makeOrg('beta.test');
  alpha = makeOrg('alpha.test');
  bob = makeUser(beta, 'bob');
  hooks = new TestHooks().addOrg(beta).addOrg(alpha).addUser(bob);
  srv = await startServers(hooks);
});

afterAll(async () => {
  await srv?.close();
});

const served = (s: Parameters<typeof splitSignet>[0]) => toBase64(splitSignet(s, 'full').bytes);

describe('dedicated DMTP port (TLS from the first byte)', () => {
  it('banner, EHLO, SGNT, MAIL/RCPT/DATA with the hash, QUIT', async () => {
    const c = await LineClient.connectTls(srv.ports.dmtp, { servername: DX });
    const s = c.socket as tls.TLSSocket;
    expect(['TLSv1.2', 'TLSv1.3']).toContain(s.getProtocol());
    expect(await c.reply()).toBe(`220 ${DX} DMTPv1`);
    expect(await c.command('EHLO <alpha.test>')).toBe(`250-${DX}\r\n250-SIZE 10485760\r\n250 DMTPv1`);
    expect(await c.command('SGNT <bob@beta.test>')).toBe(`250 OK [${served(bob.chain[0]!)}]`);
    const msg = new Uint8Array(3000).map((_, i) => (i * 31 + 7) & 0xff);
    expect(await c.command(`MAIL FROM: <alpha.test> [${fp(alpha.chain[0]!)}] SIZE=${msg.length}`)).toBe(
      '250 OK',
    );
    expect(await c.command(`RCPT TO: <beta.test> [${fp(beta.chain[0]!)}]`)).toBe('250 OK');
    const hash = sha512b64(msg);
    expect(await c.command(`DATA [${hash}]`)).toBe(`354 CONTINUE [${hash}]`);
    const before = hooks.messages.length;
    c.write(msg);
    c.write('\r\n');
    expect(await c.reply()).toMatch(/^250 OK \[[\x21-\x5c\x5e-\x7e]+\]$/);
    expect(hooks.messages[before]!.bytes).toEqual(msg);
    expect(await c.command('QUIT')).toBe('221 BYE');
    await c.closed();
  });

  it("offers libdime's TLS 1.2 suite with the RSA certificate, and refuses TLS 1.1", async () => {
    const c = await LineClient.connectTls(srv.ports.dmtp, {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES256-GCM-SHA384',
    });
    const s = c.socket as tls.TLSSocket;
    expect(s.getProtocol()).toBe('TLSv1.2');
    expect(s.getCipher().name).toBe('ECDHE-RSA-AES256-GCM-SHA384');
    expect(await c.reply()).toBe(`220 ${DX} DMTPv1`);
    c.end();
    await expect(
      LineClient.connectTls(srv.ports.dmtp, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }),
    ).rejects.toThrow();
  });
});

describe('dual mode on the SMTP port', () => {
  it('STARTTLS <dx> MODE=DMTPv1 with injected plaintext: 220, handshake, `250 OK DMTPv1` first, injection dropped', async () => {
    const c = await LineClient.connect(srv.ports.dual);
    expect(await c.reply()).toBe(`220 ${DX} ESMTP DMTPv1`);
    c.write(`STARTTLS <${DX}> MODE=DMTPv1\r\nSGNT <beta.test>\r\nQUIT\r\n`);
    expect(await c.reply()).toBe('220 READY');
    const s = await c.upgrade({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' });
    expect(s.getCipher().name).toBe('ECDHE-RSA-AES256-GCM-SHA384');
    expect(await c.reply()).toBe('250 OK DMTPv1');
    // nothing else: the injected SGNT and QUIT were never run
    expect(await c.command('MODE')).toBe('250 OK DMTPv1');
    expect(await c.command('SGNT <beta.test>')).toBe(`250 OK [${served(beta.chain[0]!)}]`);
    expect(await c.command('EHLO <alpha.test>')).toBe(`250-${DX}\r\n250-SIZE 10485760\r\n250 DMTPv1`);
    c.end();
  });

  it('plain STARTTLS stays SMTP; EHLO before and after', async () => {
    const c = await LineClient.connect(srv.ports.dual);
    await c.reply();
    const ehlo = await c.command('EHLO client.alpha.test');
    expect(ehlo).toContain('250-STARTTLS');
    expect(ehlo.endsWith('250 DMTPv1')).toBe(true);
    expect(await c.command('STARTTLS')).toBe('220 Ready to start TLS');
    await c.upgrade();
    const after = await c.command('EHLO client.alpha.test');
    expect(after).not.toContain('STARTTLS');
    expect(await c.command('MODE')).toBe('250 OK SMTP');
    expect(await c.command('SGNT <beta.test>')).toMatch(/^503 /);
    c.end();
  });

  it('SMTP smuggling on the wire: `\\n.\\n` and `\\r\\n.\\r` do not end DATA; one 554 at the real end', async () => {
    const c = await LineClient.connect(srv.ports.dual);
    await c.reply();
    await c.command('EHLO client.alpha.test');
    const before = hooks.messages.length;
    c.write('MAIL FROM:<alice@alpha.test>\r\nRCPT TO:<bob@beta.test>\r\nDATA\r\n');
    expect(await c.reply()).toBe('250 OK');
    expect(await c.reply()).toBe('250 OK');
    expect(await c.reply()).toMatch(/^354 /);
    c.write(
      'Subject: hi\r\n\r\nbody\n.\nMAIL FROM:<evil@alpha.test>\r\nRCPT TO:<carol@beta.test>\r\nDATA\r\nx\r\n.\r',
    );
    c.write('XRSET\r\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.pending()).toBe('');
    c.write('\r\n.\r\n');
    expect(await c.reply()).toMatch(/^554 /);
    expect(await c.command('NOOP')).toBe('250 OK');
    expect(hooks.messages.length).toBe(before);
    c.end();
  });
});

describe('submission with nodemailer', () => {
  const message = {
    from: 'alice@beta.test',
    to: 'bob@beta.test',
    subject: 'submission test',
    text: 'Hello Bob.\n.\nA line with a single dot above.\n',
  };

  it('port 587 style: STARTTLS then AUTH PLAIN', async () => {
    const before = hooks.messages.length;
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: srv.ports.submission,
      secure: false,
      requireTLS: true,
      name: 'client.beta.test',
      auth: { user: 'alice', pass: 'correct horse' },
      authMethod: 'PLAIN',
      tls: { rejectUnauthorized: false },
    });
    const info = await t.sendMail(message);
    expect(info.accepted).toEqual(['bob@beta.test']);
    expect(info.response).toMatch(/^250 OK: queued as /);
    const rec = hooks.messages[before]!;
    expect(rec.envelope.from).toMatchObject({ protocol: 'smtp', address: 'alice@beta.test' });
    const text = Buffer.from(rec.bytes).toString();
    expect(text).toContain('Subject: submission test');
    expect(text).toContain('\r\n.\r\nA line with a single dot above.');
    t.close();
  });

  it('port 465 style: implicit TLS then AUTH PLAIN; wrong password refused', async () => {
    const before = hooks.messages.length;
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: srv.ports.submissions,
      secure: true,
      name: 'client.beta.test',
      auth: { user: 'alice', pass: 'correct horse' },
      authMethod: 'PLAIN',
      tls: { rejectUnauthorized: false },
    });
    const info = await t.sendMail(message);
    expect(info.accepted).toEqual(['bob@beta.test']);
    expect(hooks.messages.length).toBe(before + 1);
    t.close();
    const bad = nodemailer.createTransport({
      host: '127.0.0.1',
      port: srv.ports.submissions,
      secure: true,
      auth: { user: 'alice', pass: 'nope' },
      authMethod: 'PLAIN',
      tls: { rejectUnauthorized: false },
    });
    await expect(bad.sendMail(message)).rejects.toMatchObject({ responseCode: 535 });
    bad.close();
  });

  it('submission refuses AUTH before STARTTLS (538) and MAIL before AUTH (530)', async () => {
    const c = await LineClient.connect(srv.ports.submission);
    await c.reply();
    await c.command('EHLO client.beta.test');
    expect(await c.command(`AUTH PLAIN ${Buffer.from('\0alice\0correct horse').toString('base64')}`)).toMatch(
      /^538 /,
    );
    expect(await c.command('MAIL FROM:<alice@beta.test>')).toMatch(/^530 /);
    c.end();
  });
});

describe('half-close', () => {
  it('a client that pipelines everything and sends FIN still gets every reply', async () => {
    const c = await LineClient.connect(srv.ports.dual);
    await c.reply();
    const before = hooks.messages.length;
    c.write(
      'EHLO client.alpha.test\r\nMAIL FROM:<a@alpha.test>\r\nRCPT TO:<bob@beta.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n',
    );
    c.socket.end();
    const replies: string[] = [];
    for (let i = 0; i < 6; i++) replies.push(await c.reply());
    expect(replies.map((r) => (r.slice(-7, -4) === '' ? r : r.split('\r\n').pop()!.slice(0, 3)))).toEqual([
      '250',
      '250',
      '250',
      '354',
      '250',
      '221',
    ]);
    await c.closed();
    expect(hooks.messages.length).toBe(before + 1);
  });
});

describe('idle timeout over a socket', () => {
  it('421 then close when the client says nothing', async () => {
    const h = new TestHooks();
    const quick = await startServers(h, { idleTimeoutMs: 200 });
    try {
      const c = await LineClient.connect(quick.ports.dual);
      expect(await c.reply()).toMatch(/^220 /);
      expect(await c.reply()).toMatch(/^421 .*timeout/);
      await c.closed();
      expect(h.closed).toBeGreaterThan(0);
    } finally {
      await quick.close();
    }
  });
});
