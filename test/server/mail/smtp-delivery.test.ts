/**
 * deliverSmtp over real DNS (Knot + Unbound harness) to real loopback SMTP sinks (our MailSession
 * with STARTTLS): MX order and failover, null MX, implicit MX, opportunistic and required TLS,
 * per-recipient 2xx/4xx/5xx classification, timeouts, DNS failures.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DimeResolver } from '../../../src/resolver/index.js';
import { deliverSmtp, type SmtpDeliveryInput } from '../../../src/server/mail/smtp-delivery.js';
import { aRecord, type DnsHarness, mxRecord, startDnsHarness } from '../../helpers/dns-harness.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

let h: DnsHarness;
let resolver: DimeResolver;
let sink: SmtpSink;

beforeAll(async () => {
  h = await startDnsHarness({
    zones: {
      'remote.test': [
        mxRecord('@', 10, 'mx1'),
        mxRecord('@', 20, 'mx2'),
        aRecord('mx1', '127.0.0.2'), // nothing listens there: refused
        aRecord('mx2', '127.0.0.1'), // the sink
        mxRecord('nullmx', 0, '.'),
        aRecord('implicit', '127.0.0.1'),
        mxRecord('down', 10, 'mx-down'),
        aRecord('mx-down', '127.0.0.3'),
        mxRecord('noaddr', 10, 'ghost'),
      ],
    },
  });
  resolver = new DimeResolver({ servers: [h.resolverAddress] });
  sink = await startSmtpSink({ hostname: 'mx2.remote.test', certHostnames: ['mx2.remote.test'] });
}, 60_000);

afterAll(async () => {
  await sink?.close();
  await h?.stop();
});

afterEach(() => {
  sink.script = {};
  sink.messages.length = 0;
});

const message = new TextEncoder().encode(
  'From: Alice <alice@dime.test>\r\nTo: bob@remote.test\r\nSubject: hello\r\nMessage-ID: <m1@dime.test>\r\n' +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
    'Grüße.\r\n.a line starting with a dot\r\n..two dots\r\n.\r\nend\r\n',
);

function input(patch: Partial<SmtpDeliveryInput> = {}): SmtpDeliveryInput {
  return {
    from: 'alice@dime.test',
    to: ['bob@remote.test'],
    message,
    domain: 'remote.test',
    resolver,
    heloName: 'mx.dime.test',
    portOverride: sink.port,
    timeouts: { connectMs: 2000, greetingMs: 2000, socketMs: 5000 },
    ...patch,
  };
}

describe('deliverSmtp', () => {
  it('MX order with failover; STARTTLS; the message arrives byte for byte; per-recipient outcomes', async () => {
    sink.script = {
      rcpt: { nobody: [550, '5.1.1 No such user here'], busy: [450, '4.2.1 Mailbox busy, try later'] },
    };
    const r = await deliverSmtp(
      input({ to: ['bob@remote.test', 'nobody@remote.test', 'busy@remote.test', 'carol@remote.test'] }),
    );
    expect(r.host).toBe('mx2.remote.test');
    expect(r.address).toBe('127.0.0.1');
    expect(r.tls).toBe(true);
    expect(r.attempts).toEqual([
      expect.objectContaining({
        host: 'mx1.remote.test',
        address: '127.0.0.2',
        error: expect.stringMatching(/ECONNREFUSED|ECONNECTION/),
      }),
    ]);
    expect(r.recipients).toEqual([
      expect.objectContaining({ address: 'bob@remote.test', ok: true, code: 250, temporary: false }),
      expect.objectContaining({
        address: 'nobody@remote.test',
        ok: false,
        code: 550,
        temporary: false,
        status: '5.1.1',
      }),
      expect.objectContaining({
        address: 'busy@remote.test',
        ok: false,
        code: 450,
        temporary: true,
        status: '4.2.1',
      }),
      expect.objectContaining({ address: 'carol@remote.test', ok: true, code: 250, temporary: false }),
    ]);
    expect(r.recipients[0]!.response).toMatch(/^250 /);
    expect(r.recipients[1]!.response).toMatch(/No such user here/);
    expect(sink.messages).toHaveLength(1);
    const got = sink.messages[0]!;
    expect(got.from).toBe('alice@dime.test');
    expect(got.to).toEqual(['bob@remote.test', 'carol@remote.test']);
    expect(got.secure).toBe(true);
    expect(got.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(got.helo).toBe('mx.dime.test');
    expect(got.servername).toBe('mx2.remote.test');
    expect(Buffer.from(got.bytes).equals(Buffer.from(message))).toBe(true);
  });

  it('the null sender (a bounce) is sent as MAIL FROM:<>', async () => {
    const r = await deliverSmtp(input({ from: '' }));
    expect(r.recipients[0]).toMatchObject({ ok: true });
    expect(sink.messages[0]!.from).toBe('');
  });

  it('null MX: permanent for everyone, no connection', async () => {
    const before = sink.sessions;
    const r = await deliverSmtp(
      input({ domain: 'nullmx.remote.test', to: ['a@nullmx.remote.test', 'b@nullmx.remote.test'] }),
    );
    expect(r.recipients).toEqual([
      expect.objectContaining({
        address: 'a@nullmx.remote.test',
        ok: false,
        temporary: false,
        status: '5.1.10',
        code: 556,
      }),
      expect.objectContaining({
        address: 'b@nullmx.remote.test',
        ok: false,
        temporary: false,
        status: '5.1.10',
      }),
    ]);
    expect(sink.sessions).toBe(before);
  });

  it('no MX: the domain itself (implicit MX)', async () => {
    const r = await deliverSmtp(input({ domain: 'implicit.remote.test', to: ['x@implicit.remote.test'] }));
    expect(r).toMatchObject({ host: 'implicit.remote.test', tls: true });
    expect(r.recipients[0]).toMatchObject({ ok: true, code: 250 });
  });

  it('a domain that does not exist, or whose MX has no address: permanent (5.1.2)', async () => {
    const nx = await deliverSmtp(input({ domain: 'nope.remote.test', to: ['x@nope.remote.test'] }));
    expect(nx.recipients[0]).toMatchObject({ ok: false, temporary: false, status: '5.1.2' });
    const ghost = await deliverSmtp(input({ domain: 'noaddr.remote.test', to: ['x@noaddr.remote.test'] }));
    expect(ghost.recipients[0]).toMatchObject({ ok: false, temporary: false, status: '5.1.2' });
    expect(ghost.recipients[0]!.response).toMatch(/ghost\.remote\.test has no A\/AAAA/);
  });

  it('every MX unreachable: temporary, with each attempt listed', async () => {
    const r = await deliverSmtp(input({ domain: 'down.remote.test', to: ['x@down.remote.test'] }));
    expect(r.recipients[0]).toMatchObject({ ok: false, temporary: true, status: '4.4.1' });
    expect(r.attempts).toEqual([
      expect.objectContaining({ host: 'mx-down.remote.test', address: '127.0.0.3' }),
    ]);
    expect(r.host).toBeUndefined();
  });

  it('DNS down: temporary within ~2 s', async () => {
    h.suspendResolver();
    const t = performance.now();
    let r: Awaited<ReturnType<typeof deliverSmtp>>;
    try {
      r = await deliverSmtp(input({ domain: 'remote.test' }));
    } finally {
      h.resumeResolver();
    }
    expect(performance.now() - t).toBeLessThan(2500);
    expect(r.recipients[0]).toMatchObject({ ok: false, temporary: true, status: '4.4.3' });
    expect(r.recipients[0]!.response).toMatch(/DNS_TEMPFAIL/);
  });

  it('sender refused: 5xx bounces everyone, 4xx is temporary', async () => {
    sink.script = { mail: [553, '5.7.1 Sender not allowed'] };
    const perm = await deliverSmtp(input({ to: ['bob@remote.test', 'carol@remote.test'] }));
    expect(perm.recipients.map((x) => [x.ok, x.temporary, x.code, x.status])).toEqual([
      [false, false, 553, '5.7.1'],
      [false, false, 553, '5.7.1'],
    ]);
    sink.script = { mail: [451, '4.3.0 Try again later'] };
    const temp = await deliverSmtp(input());
    expect(temp.recipients[0]).toMatchObject({ ok: false, temporary: true });
    expect(sink.messages).toHaveLength(0);
  });

  it('every recipient refused: each keeps its own code', async () => {
    sink.script = { rcpt: { bob: [550, '5.1.1 unknown'], carol: [452, '4.2.2 mailbox full'] } };
    const r = await deliverSmtp(input({ to: ['bob@remote.test', 'carol@remote.test'] }));
    expect(r.recipients).toEqual([
      expect.objectContaining({
        address: 'bob@remote.test',
        ok: false,
        code: 550,
        temporary: false,
        status: '5.1.1',
      }),
      expect.objectContaining({
        address: 'carol@remote.test',
        ok: false,
        code: 452,
        temporary: true,
        status: '4.2.2',
      }),
    ]);
  });

  it('the data refused: 5xx permanent, 4xx temporary, for every accepted recipient', async () => {
    sink.script = { data: [554, '5.6.0 Message content rejected'] };
    const perm = await deliverSmtp(input({ to: ['bob@remote.test', 'carol@remote.test'] }));
    expect(perm.recipients.map((x) => [x.ok, x.temporary, x.code, x.status])).toEqual([
      [false, false, 554, '5.6.0'],
      [false, false, 554, '5.6.0'],
    ]);
    sink.script = { data: [451, '4.3.0 Queue full'] };
    const temp = await deliverSmtp(input());
    expect(temp.recipients[0]).toMatchObject({ ok: false, temporary: true, code: 451 });
  });

  it('no answer after the data: temporary after the socket timeout, never another MX', async () => {
    sink.script = { hangAfterData: true };
    const t = performance.now();
    const r = await deliverSmtp(input({ timeouts: { connectMs: 2000, greetingMs: 2000, socketMs: 700 } }));
    expect(performance.now() - t).toBeLessThan(3000);
    expect(r.recipients[0]).toMatchObject({ ok: false, temporary: true, status: '4.4.2' });
  });

  it('requireTls: a server without STARTTLS gets nothing; with it, certificates can be verified', async () => {
    const plain = await startSmtpSink({ hostname: 'plain.remote.test', starttls: false });
    try {
      const opportunistic = await deliverSmtp(input({ hostOverride: '127.0.0.1', portOverride: plain.port }));
      expect(opportunistic).toMatchObject({ tls: false });
      expect(opportunistic.recipients[0]).toMatchObject({ ok: true });
      expect(plain.messages).toHaveLength(1);

      const required = await deliverSmtp(
        input({ hostOverride: '127.0.0.1', portOverride: plain.port, requireTls: true }),
      );
      expect(required.recipients[0]).toMatchObject({ ok: false, temporary: true });
      expect(plain.messages).toHaveLength(1);
    } finally {
      await plain.close();
    }

    // verified against the sink's own certificate as CA, by MX name
    const verified = await deliverSmtp(
      input({ requireTls: true, tls: { rejectUnauthorized: true, ca: sink.cert.certPem } }),
    );
    expect(verified).toMatchObject({ host: 'mx2.remote.test', tls: true });
    expect(verified.recipients[0]).toMatchObject({ ok: true });
    // an unknown CA with verification required: no delivery, temporary
    const unverified = await deliverSmtp(input({ requireTls: true, tls: { rejectUnauthorized: true } }));
    expect(unverified.recipients[0]).toMatchObject({ ok: false, temporary: true });
    expect(unverified.attempts.at(-1)?.error).toMatch(/ETLS|certificate/i);
    // the same without requireTls: Postfix's "may" level, delivered in plaintext
    const fallback = await deliverSmtp(input({ tls: { rejectUnauthorized: true } }));
    expect(fallback).toMatchObject({ host: 'mx2.remote.test', tls: false });
    expect(fallback.recipients[0]).toMatchObject({ ok: true });
  });

  it('bad input is BAD_INPUT', async () => {
    await expect(deliverSmtp(input({ to: [] }))).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(deliverSmtp(input({ portOverride: 0 }))).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
