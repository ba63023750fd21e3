/**
 * RspamdClient against the real rspamd of Debian 12 (test/helpers/rspamd-harness.ts): GTUBE is
 * rejected, clean mail gets no action, envelope headers reach the filter; a filter that is down,
 * silent or answering garbage is 'unavailable' (mail flows on).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RspamdClient } from '../../../src/server/mail/spam-filter.js';
import { freeLoopbackPort, type RspamdInstance, startRspamd } from '../../helpers/rspamd-harness.js';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

let rspamd: RspamdInstance;

beforeAll(async () => {
  rspamd = await startRspamd();
}, 120_000);

afterAll(async () => {
  await rspamd?.stop();
});

function message(body: string, to = 'Bob <bob@receiver.test>'): Uint8Array {
  return new TextEncoder().encode(
    `From: Alice <alice@sender.test>\r\nTo: ${to}\r\nSubject: Lunch tomorrow\r\n` +
      `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@sender.test>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`,
  );
}

const CLEAN =
  'Hi Bob,\r\n\r\nshall we have lunch tomorrow at noon? The usual place is fine.\r\n\r\nAlice\r\n';
const envelope = {
  ip: '198.18.0.10',
  helo: 'mail.sender.test',
  hostname: 'mail.sender.test',
  mailFrom: 'alice@sender.test',
  rcpt: ['bob@receiver.test'],
};

describe('RspamdClient with a real rspamd', () => {
  it('GTUBE: reject', async () => {
    const c = new RspamdClient({ url: rspamd.url });
    const v = await c.check(message(`${GTUBE}\r\n`), envelope);
    expect(v.status, JSON.stringify(v)).toBe('ok');
    if (v.status !== 'ok') return;
    expect(v.action).toBe('reject');
    expect(v.symbols).toHaveProperty('GTUBE');
    expect(v.score).toBeGreaterThanOrEqual(v.required);
    expect(v.messages.smtp_message).toMatch(/gtube/i);
    expect(v.headerText).toMatch(/^X-Spam: Yes\r\nX-Spam-Action: reject\r\nX-Spam-Score: /);
  });

  it('a clean message: no action, and the envelope headers reached rspamd', async () => {
    const c = new RspamdClient({ url: `${rspamd.url}/` });
    const v = await c.check(message(CLEAN), envelope);
    expect(v.status, JSON.stringify(v)).toBe('ok');
    if (v.status !== 'ok') return;
    expect(v.action).toBe('no action');
    expect(v.score).toBeLessThan(6);
    expect(v.required).toBe(15);
    expect(v.skipped).toBe(false);
    // From and Rcpt headers were read as the envelope
    expect(v.symbols).toHaveProperty('FROM_EQ_ENVFROM');
    expect(v.symbols).toHaveProperty('TO_MATCH_ENVRCPT_ALL');
    expect(v.symbols).toHaveProperty('RCPT_COUNT_ONE');
    // Hostname given: rspamd did not need a reverse lookup
    expect(v.symbols).not.toHaveProperty('RDNS_NONE');
    expect(v.headerText).toMatch(/^X-Spam: No\r\nX-Spam-Action: no action\r\n/);
    for (const line of v.headerText.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
  });

  it('several recipients are several Rcpt headers; Settings and User are honoured', async () => {
    const c = new RspamdClient({ url: rspamd.url });
    const three = await c.check(message(CLEAN, 'bob@receiver.test, carol@receiver.test, dan@receiver.test'), {
      ...envelope,
      rcpt: ['bob@receiver.test', 'carol@receiver.test', 'dan@receiver.test'],
    });
    expect(three.status).toBe('ok');
    if (three.status !== 'ok') return;
    expect(three.symbols).toHaveProperty('RCPT_COUNT_THREE');
    expect(three.symbols).toHaveProperty('TO_MATCH_ENVRCPT_ALL');

    const disabled = await c.check(message(CLEAN), {
      ...envelope,
      settings: { symbols_disabled: ['RCPT_COUNT_ONE'] },
    });
    expect(disabled.status).toBe('ok');
    if (disabled.status !== 'ok') return;
    expect(disabled.symbols).not.toHaveProperty('RCPT_COUNT_ONE');
    expect(disabled.symbols).toHaveProperty('FROM_EQ_ENVFROM');

    // no Hostname: rspamd's own reverse lookup fails (its resolver is a dead loopback port)…
    const { hostname: _h, ...noHostname } = envelope;
    const anonymous = await c.check(message(CLEAN), noHostname);
    expect(anonymous.status).toBe('ok');
    if (anonymous.status !== 'ok') return;
    expect(anonymous.symbols).toHaveProperty('HFILTER_HOSTNAME_UNKNOWN');
    // …but an authenticated user's mail skips the host checks
    const submitted = await c.check(message(CLEAN), { ...noHostname, user: 'alice' });
    expect(submitted.status).toBe('ok');
    if (submitted.status !== 'ok') return;
    expect(submitted.symbols).not.toHaveProperty('HFILTER_HOSTNAME_UNKNOWN');
  });

  it('our Authentication-Results travel with the message (the null sender has no From header)', async () => {
    const c = new RspamdClient({ url: rspamd.url });
    const authResults =
      'Authentication-Results: mx.receiver.test;\r\n spf=temperror smtp.mailfrom=postmaster@mail.sender.test;\r\n dkim=none\r\n';
    const v = await c.check(message(CLEAN), { ...envelope, mailFrom: '', authResults });
    expect(v.status, JSON.stringify(v)).toBe('ok');
    if (v.status !== 'ok') return;
    expect(v.action).toBe('no action');
    expect(v.symbols).not.toHaveProperty('FROM_EQ_ENVFROM');
  });
});

describe('rspamd unavailable: mail flows on', () => {
  it('nothing listening: unavailable at once', async () => {
    const port = await freeLoopbackPort();
    const c = new RspamdClient({ url: `http://127.0.0.1:${port}` });
    const v = await c.check(message(CLEAN), envelope);
    expect(v).toMatchObject({ status: 'unavailable' });
    if (v.status !== 'unavailable') return;
    expect(v.error).toMatch(/ECONNREFUSED/);
    expect(v.elapsedMs).toBeLessThan(1000);
  });

  it('a server that accepts and never answers: unavailable after timeoutMs', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const c = new RspamdClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 400 });
      const t = performance.now();
      const v = await c.check(message(CLEAN), envelope);
      const ms = performance.now() - t;
      expect(v).toMatchObject({ status: 'unavailable' });
      expect(ms).toBeGreaterThanOrEqual(390);
      expect(ms).toBeLessThan(1500);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('an HTTP server that is not rspamd: unavailable with the reason', async () => {
    const garbage: Server = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
      });
    });
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    const port = (garbage.address() as { port: number }).port;
    try {
      const v = await new RspamdClient({ url: `http://127.0.0.1:${port}` }).check(message(CLEAN), envelope);
      expect(v).toMatchObject({ status: 'unavailable', error: expect.stringMatching(/not JSON/) });
    } finally {
      await new Promise<void>((r) => garbage.close(() => r()));
    }
  });

  it('rspamd stopped: unavailable', async () => {
    const own = await startRspamd();
    const c = new RspamdClient({ url: own.url });
    expect((await c.check(message(CLEAN), envelope)).status).toBe('ok');
    await own.stop();
    expect((await c.check(message(CLEAN), envelope)).status).toBe('unavailable');
  });

  it('a bad URL is BAD_INPUT at construction', () => {
    expect(() => new RspamdClient({ url: 'not a url' })).toThrow(/URL/);
    expect(() => new RspamdClient({ url: 'ftp://127.0.0.1' })).toThrow(/http/);
  });
});
