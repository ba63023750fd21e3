/**
 * SMTP state machine without sockets: RFC 5321 sequences, PIPELINING, SIZE, CHUNKING, STARTTLS,
 * AUTH, limits, and the smuggling-safe end of DATA.
 */

import { describe, expect, it } from 'vitest';
import { encodeSaslBase64 } from '../../src/protocol/index.js';
import { codes, harness, lines, TestHooks } from './helpers.js';

const MX = { hostname: 'mx.beta.test', protocol: 'smtp' as const, dmtpSwitch: false };
const SUBMISSION = {
  hostname: 'mx.beta.test',
  protocol: 'smtp' as const,
  auth: 'required' as const,
  requireTls: true,
};

async function mx(extra: Partial<typeof MX> & Record<string, unknown> = {}, hooks = new TestHooks()) {
  const h = await harness({ ...MX, ...extra }, hooks);
  h.transport.take();
  return h;
}

const ENVELOPE = 'EHLO client.alpha.test\r\nMAIL FROM:<alice@alpha.test>\r\nRCPT TO:<bob@beta.test>\r\n';

describe('greeting and simple commands', () => {
  it('banner and EHLO keywords (no DMTP on a plain SMTP listener)', async () => {
    const h = await harness(MX, new TestHooks());
    expect(h.transport.take()).toBe('220 mx.beta.test ESMTP\r\n');
    expect(lines(await h.send('EHLO client.alpha.test\r\n'))).toEqual([
      '250-mx.beta.test',
      '250-PIPELINING',
      '250-SIZE 10485760',
      '250-8BITMIME',
      '250-CHUNKING',
      '250 STARTTLS',
    ]);
    expect(await h.send('HELO client.alpha.test\r\n')).toBe('250 mx.beta.test\r\n');
    expect(codes(await h.send('EHLO [127.0.0.1]\r\n'))).toEqual([250]);
    expect(codes(await h.send('EHLO [IPv6:::1]\r\n'))).toEqual([250]);
  });

  it('NOOP, RSET, VRFY 252, EXPN 502, HELP 214, MODE `250 OK SMTP`, QUIT 221', async () => {
    const h = await mx();
    expect(await h.send('NOOP\r\n')).toBe('250 OK\r\n');
    expect(await h.send('RSET\r\n')).toBe('250 OK\r\n');
    expect(codes(await h.send('VRFY bob\r\n'))).toEqual([252]);
    expect(codes(await h.send('VRFY\r\n'))).toEqual([501]);
    expect(codes(await h.send('EXPN staff\r\n'))).toEqual([502]);
    expect(codes(await h.send('HELP\r\n'))).toEqual([214]);
    expect(await h.send('MODE\r\n')).toBe('250 OK SMTP\r\n');
    expect(codes(await h.send('QUIT\r\n'))).toEqual([221]);
    expect(h.transport.closed).toBe(true);
  });

  it('syntax and sequence errors', async () => {
    const h = await mx({ maxErrors: 100 });
    expect(codes(await h.send('FOO\r\n'))).toEqual([500]);
    expect(codes(await h.send('EHLO\r\n'))).toEqual([501]);
    expect(codes(await h.send('EHLO bad_host\r\n'))).toEqual([501]);
    expect(codes(await h.send('HELO [127.0.0.1]\r\n'))).toEqual([501]);
    expect(codes(await h.send('MAIL FROM:<a@b.test>\r\n'))).toEqual([503]);
    expect(codes(await h.send('RCPT TO:<bob@beta.test>\r\n'))).toEqual([503]);
    expect(codes(await h.send('DATA\r\n'))).toEqual([503]);
    await h.send('EHLO c.test\r\n');
    expect(codes(await h.send('MAIL FROM:a@b.test\r\n'))).toEqual([501]);
    expect(codes(await h.send('MAIL FROM:<a@@b.test>\r\n'))).toEqual([501]);
    expect(codes(await h.send('MAIL FROM:<a@b.test> FOO=BAR\r\n'))).toEqual([555]);
    expect(codes(await h.send('MAIL FROM:<a@b.test> SIZE=abc\r\n'))).toEqual([501]);
    expect(codes(await h.send('MAIL FROM:<a@b.test> SIZE=1 SIZE=2\r\n'))).toEqual([501]);
    expect(codes(await h.send('MAIL FROM:<a@b.test> BODY=BINARYMIME\r\n'))).toEqual([555]);
    expect(codes(await h.send('MAIL FROM:<a@b.test> SIZE=99999999999\r\n'))).toEqual([552]);
    expect(codes(await h.send('MAIL FROM:<> BODY=8BITMIME SIZE=10 AUTH=<>\r\n'))).toEqual([250]);
    expect(codes(await h.send('MAIL FROM:<a@b.test>\r\n'))).toEqual([503]);
    expect(codes(await h.send('RCPT TO:<>\r\n'))).toEqual([501]);
    expect(codes(await h.send('RCPT TO:<bob@beta.test> NOTIFY=NEVER\r\n'))).toEqual([555]);
    expect(codes(await h.send('RCPT TO:<@relay.test,@r2.test:bob@beta.test>\r\n'))).toEqual([250]);
    expect(codes(await h.send('RCPT TO:<Postmaster>\r\n'))).toEqual([550]);
    expect(codes(await h.send('DATA x\r\n'))).toEqual([501]);
  });

  it('unknown recipients are refused; DATA after only refused recipients → 554', async () => {
    const h = await mx();
    expect(
      codes(
        await h.send('EHLO c.test\r\nMAIL FROM:<a@alpha.test>\r\nRCPT TO:<nobody@beta.test>\r\nDATA\r\n'),
      ),
    ).toEqual([250, 250, 550, 554]);
  });

  it('a hook-less server refuses every RCPT (never an open relay)', async () => {
    const hooks = new TestHooks();
    (hooks as { rcptTo?: unknown }).rcptTo = undefined;
    const h = await mx({}, hooks);
    expect(codes(await h.send(ENVELOPE))).toEqual([250, 250, 550]);
  });
});

describe('DATA', () => {
  it('delivers dot-unstuffed content in order, replies 250 with an id, and keeps the session', async () => {
    const h = await mx();
    expect(codes(await h.send(ENVELOPE))).toEqual([250, 250, 250]);
    expect(await h.send('DATA\r\n')).toBe('354 End data with <CR><LF>.<CR><LF>\r\n');
    expect(await h.send('Subject: t\r\n\r\n..leading dot\r\n.\r\n')).toBe('250 OK: queued as tx-1\r\n');
    expect(Buffer.from(h.hooks.messages[0]!.bytes).toString()).toBe('Subject: t\r\n\r\n.leading dot\r\n');
    expect(h.hooks.messages[0]!.envelope).toMatchObject({
      protocol: 'smtp',
      transfer: 'data',
      from: { address: 'alice@alpha.test' },
      to: [{ address: 'bob@beta.test' }],
    });
    expect(
      codes(await h.send('MAIL FROM:<a@alpha.test>\r\nRCPT TO:<carol@beta.test>\r\nDATA\r\n.\r\n')),
    ).toEqual([250, 250, 354, 250]);
    expect(h.hooks.messages[1]!.bytes.length).toBe(0);
  });

  it('content split at every possible byte boundary gives the same message', async () => {
    const body = 'a\r\n..b\r\n.\r\n';
    for (let cut = 0; cut <= body.length; cut++) {
      const h = await mx();
      await h.send(`${ENVELOPE}DATA\r\n`);
      const out = (await h.send(body.slice(0, cut))) + (await h.send(body.slice(cut)));
      expect(out).toBe('250 OK: queued as tx-1\r\n');
      expect(Buffer.from(h.hooks.messages[0]!.bytes).toString()).toBe('a\r\n.b\r\n');
    }
  });

  const SMUGGLED = 'MAIL FROM:<evil@alpha.test>\r\nRCPT TO:<carol@beta.test>\r\nDATA\r\nsmuggled\r\n';
  for (const [name, fake] of [
    ['\\n.\\n', '\n.\n'],
    ['\\r.\\r', '\r.\r'],
    ['\\n.\\r\\n', '\n.\r\n'],
    ['\\r\\n.\\n', '\r\n.\n'],
    ['\\r\\n.\\r', '\r\n.\r'],
    ['\\r\\n.\\r (then a bare LF)', '\r\n.\r\r\n'],
  ] as const) {
    it(`smuggling: ${name} never ends the message; the real end gets 554 and nothing is delivered`, async () => {
      const h = await mx();
      await h.send(`${ENVELOPE}DATA\r\n`);
      expect(await h.send(`Subject: x\r\n\r\nhello${fake}${SMUGGLED}`)).toBe('');
      expect(h.hooks.messages.length).toBe(0);
      const out = await h.send('\r\n.\r\nNOOP\r\n');
      expect(codes(out)).toEqual([554, 250]);
      expect(out).toContain('bare <CR> or <LF>');
      expect(h.hooks.messages.length).toBe(0);
      expect(h.hooks.aborted.length).toBe(1);
    });
  }

  it('a bare LF or CR anywhere in the data refuses the message', async () => {
    for (const bad of ['a\nb\r\n', 'a\rb\r\n', '\n', '.\n', 'x\r']) {
      const h = await mx();
      await h.send(`${ENVELOPE}DATA\r\n`);
      expect(codes(await h.send(`${bad}\r\n.\r\n`)), JSON.stringify(bad)).toEqual([554]);
      expect(h.hooks.messages.length).toBe(0);
    }
  });

  it('the size limit is enforced while streaming (552 at the end, sink aborted early)', async () => {
    const h = await mx({ maxMessageSize: 100 });
    await h.send(`${ENVELOPE}DATA\r\n`);
    for (let i = 0; i < 50; i++) expect(await h.send(`${'z'.repeat(78)}\r\n`)).toBe('');
    expect(h.hooks.aborted.length).toBe(1);
    expect(h.hooks.aborted[0]!.bytes).toBeLessThanOrEqual(100);
    expect(codes(await h.send('.\r\n'))).toEqual([552]);
    expect(h.hooks.messages.length).toBe(0);
  });

  it('the sink refusing the message gives its reply; a failing write gives 451', async () => {
    const hooks = new TestHooks();
    hooks.deliveryVerdict = 'reject';
    const h = await mx({}, hooks);
    expect(codes(await h.send(`${ENVELOPE}DATA\r\nhi\r\n.\r\n`))).toEqual([250, 250, 250, 354, 554]);
    const h2 = await mx({}, new TestHooks());
    const open = h2.hooks.openMessageSink.bind(h2.hooks);
    h2.hooks.openMessageSink = (env) => ({
      ...open(env),
      write: () => {
        throw new Error('disk full');
      },
    });
    expect(codes(await h2.send(`${ENVELOPE}DATA\r\nhi\r\n.\r\nNOOP\r\n`))).toEqual([
      250, 250, 250, 354, 451, 250,
    ]);
  });

  it('backpressure: a slow sink makes the session pause and resume its transport', async () => {
    const hooks = new TestHooks();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const open = hooks.openMessageSink.bind(hooks);
    hooks.openMessageSink = (env) => {
      const sink = open(env);
      return {
        ...sink,
        write: async (c: Uint8Array) => {
          await gate;
          sink.write(c);
        },
      };
    };
    const h = await mx({ inputHighWaterMark: 1000 }, hooks);
    await h.send(`${ENVELOPE}DATA\r\n`);
    const pending = h.send(`${'y'.repeat(3000)}\r\n.\r\n`);
    h.session.feed(new Uint8Array(Buffer.from('NOOP\r\n')));
    expect(h.transport.paused).toBe(true);
    release();
    expect(codes(await pending)).toEqual([250, 250]);
    expect(h.transport.paused).toBe(false);
  });
});

describe('PIPELINING (RFC 2920)', () => {
  it('a pipelined group is answered in order; DATA content can follow in the same packet', async () => {
    const h = await mx();
    const out = await h.send(
      'EHLO c.test\r\nMAIL FROM:<a@alpha.test>\r\nRCPT TO:<bob@beta.test>\r\nRCPT TO:<nobody@beta.test>\r\n' +
        'RCPT TO:<carol@beta.test>\r\nDATA\r\nbody\r\n.\r\nMAIL FROM:<b@alpha.test>\r\nRSET\r\nQUIT\r\n',
    );
    expect(codes(out)).toEqual([250, 250, 250, 550, 250, 354, 250, 250, 250, 221]);
    expect(h.hooks.messages[0]!.envelope.to.length).toBe(2);
  });

  it('the recipient limit answers 452', async () => {
    const h = await mx({ maxRecipients: 2 });
    const out = await h.send(`${ENVELOPE}RCPT TO:<carol@beta.test>\r\nRCPT TO:<bob@beta.test>\r\n`);
    expect(codes(out)).toEqual([250, 250, 250, 250, 452]);
  });
});

describe('command lines', () => {
  it('512 bytes with CRLF is accepted; longer lines get one 500 and the session goes on', async () => {
    const h = await mx();
    const ok = `NOOP ${'a'.repeat(505)}\r\n`;
    expect(ok.length).toBe(512);
    expect(await h.send(ok)).toBe('250 OK\r\n');
    expect(await h.send(`NOOP ${'a'.repeat(506)}\r\nNOOP\r\n`)).toBe(
      '500 Error: line too long\r\n250 OK\r\n',
    );
    expect(await h.send(`${'b'.repeat(100_000)}\r\nNOOP\r\n`)).toBe('500 Error: line too long\r\n250 OK\r\n');
  });

  it('NUL, control characters and empty lines are refused; bare-LF command lines are read', async () => {
    const h = await mx();
    expect(codes(await h.send('NO\0OP\r\n'))).toEqual([500]);
    expect(codes(await h.send('EHLO a\0.test\r\n'))).toEqual([500]);
    expect(codes(await h.send('EHLO a\x01.test\r\n'))).toEqual([501]);
    expect(codes(await h.send('\r\n'))).toEqual([500]);
    expect(codes(await h.send('NOOP\n'))).toEqual([250]);
  });

  it('too many errors → 421 and close; later input is ignored', async () => {
    const h = await mx({ maxErrors: 3 });
    expect(codes(await h.send('A\r\nB\r\nC\r\nNOOP\r\n'))).toEqual([500, 500, 500, 421]);
    expect(h.transport.closed).toBe(true);
    expect(await h.send('NOOP\r\n')).toBe('');
  });

  it('errorDelayMs slows error replies down (magma pattern) without changing them', async () => {
    const h = await mx({ errorDelayMs: 20 });
    const t0 = Date.now();
    expect(codes(await h.send('A\r\nB\r\nNOOP\r\n'))).toEqual([500, 500, 250]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it('idle timeout → 421 and close', async () => {
    const h = await mx();
    h.session.timeout();
    expect(h.transport.take()).toBe('421 mx.beta.test Error: timeout exceeded\r\n');
    expect(h.transport.closed).toBe(true);
  });

  it('the onConnect hook can refuse the connection', async () => {
    const hooks = new TestHooks();
    Object.assign(hooks, {
      onConnect: () => ({ accept: false, code: 554, message: 'No SMTP service here' }),
    });
    const h = await harness(MX, hooks);
    expect(h.transport.take()).toBe('554 No SMTP service here\r\n');
    expect(h.transport.closed).toBe(true);
  });
});

describe('STARTTLS (RFC 3207)', () => {
  it('220, discards pipelined plaintext, then forgets the greeting; no second STARTTLS', async () => {
    const h = await mx();
    await h.send('EHLO c.test\r\n');
    expect(await h.send('STARTTLS\r\nMAIL FROM:<evil@alpha.test>\r\n')).toBe('220 Ready to start TLS\r\n');
    expect(h.transport.tlsRequests).toEqual(['smtp']);
    expect(await h.tls()).toBe('');
    expect(codes(await h.send('MAIL FROM:<a@alpha.test>\r\n'))).toEqual([503]);
    const ehlo = lines(await h.send('EHLO c.test\r\n'));
    expect(ehlo).not.toContain('250-STARTTLS');
    expect(ehlo).not.toContain('250 STARTTLS');
    expect(codes(await h.send('STARTTLS\r\n'))).toEqual([503]);
    expect(h.session.isSecure).toBe(true);
  });

  it('STARTTLS with parameters on a listener without dual mode is 501', async () => {
    const h = await mx();
    expect(codes(await h.send('STARTTLS <mx.beta.test> MODE=DMTPv1\r\n'))).toEqual([501]);
    expect(codes(await h.send('STARTTLS x\r\n'))).toEqual([501]);
  });
});

describe('AUTH (RFC 4954) and submission', () => {
  const plain = (u: string, p: string) => Buffer.from(`\0${u}\0${p}`).toString('base64');

  it('submission: AUTH only over TLS (538), MAIL needs STARTTLS then AUTH (530)', async () => {
    const h = await harness(SUBMISSION, new TestHooks());
    expect(h.transport.take()).toBe('220 mx.beta.test ESMTP DMTPv1\r\n');
    const ehlo = lines(await h.send('EHLO c.test\r\n'));
    expect(ehlo.some((l) => l.includes('AUTH'))).toBe(false);
    expect(codes(await h.send(`AUTH PLAIN ${plain('alice', 'correct horse')}\r\n`))).toEqual([538]);
    expect(codes(await h.send('MAIL FROM:<alice@beta.test>\r\n'))).toEqual([530]);
    await h.send('STARTTLS\r\n');
    await h.tls();
    expect(lines(await h.send('EHLO c.test\r\n'))).toContain('250 AUTH PLAIN LOGIN');
    expect(codes(await h.send('MAIL FROM:<alice@beta.test>\r\n'))).toEqual([530]);
    expect(codes(await h.send(`AUTH PLAIN ${plain('alice', 'wrong')}\r\n`))).toEqual([535]);
    expect(await h.send(`AUTH PLAIN ${plain('alice', 'correct horse')}\r\n`)).toBe(
      '235 Authentication successful\r\n',
    );
    expect(h.session.info.user).toBe('alice');
    expect(codes(await h.send(`AUTH PLAIN ${plain('alice', 'correct horse')}\r\n`))).toEqual([503]);
    expect(codes(await h.send('MAIL FROM:<alice@beta.test>\r\nRCPT TO:<bob@beta.test>\r\n'))).toEqual([
      250, 250,
    ]);
  });

  it('PLAIN with an empty challenge, LOGIN, LOGIN with an initial response, cancel, malformed', async () => {
    const h = await harness({ ...SUBMISSION, implicitTls: true }, new TestHooks());
    expect(h.transport.take()).toBe('220 mx.beta.test ESMTP\r\n');
    await h.send('EHLO c.test\r\n');
    expect(await h.send('AUTH PLAIN\r\n')).toBe('334 \r\n');
    expect(codes(await h.send('*\r\n'))).toEqual([501]);
    expect(await h.send('AUTH PLAIN\r\n')).toBe('334 \r\n');
    expect(codes(await h.send('not base64!\r\n'))).toEqual([501]);
    expect(await h.send('AUTH LOGIN\r\n')).toBe('334 VXNlcm5hbWU6\r\n');
    expect(await h.send(`${encodeSaslBase64('alice')}\r\n`)).toBe('334 UGFzc3dvcmQ6\r\n');
    expect(codes(await h.send(`${encodeSaslBase64('nope')}\r\n`))).toEqual([535]);
    expect(await h.send(`AUTH LOGIN ${encodeSaslBase64('alice')}\r\n`)).toBe('334 UGFzc3dvcmQ6\r\n');
    expect(codes(await h.send(`${encodeSaslBase64('correct horse')}\r\n`))).toEqual([235]);
  });

  it('AUTH refused when off (502), unknown mechanism (504), before EHLO (503), during a transaction (503)', async () => {
    const h = await mx();
    await h.send('EHLO c.test\r\n');
    expect(codes(await h.send('AUTH PLAIN\r\n'))).toEqual([502]);
    const h2 = await harness({ ...MX, auth: 'optional', implicitTls: true }, new TestHooks());
    h2.transport.take();
    expect(codes(await h2.send('AUTH PLAIN\r\n'))).toEqual([503]);
    await h2.send('EHLO c.test\r\n');
    expect(codes(await h2.send('AUTH CRAM-MD5\r\n'))).toEqual([504]);
    await h2.send('MAIL FROM:<x@alpha.test>\r\n');
    expect(codes(await h2.send('AUTH PLAIN\r\n'))).toEqual([503]);
  });

  it('a long AUTH initial response (over 512 bytes) is accepted; other long lines are not', async () => {
    const h = await harness({ ...SUBMISSION, implicitTls: true }, new TestHooks());
    h.transport.take();
    await h.send('EHLO c.test\r\n');
    const long = plain('alice', 'p'.repeat(250));
    expect(codes(await h.send(`AUTH PLAIN ${long}${' '.repeat(0)}\r\n`))).toEqual([535]);
    expect(codes(await h.send(`NOOP ${'x'.repeat(600)}\r\n`))).toEqual([500]);
  });
});

describe('CHUNKING (RFC 3030)', () => {
  it('BDAT chunks, LAST, exact byte counts (CRLF.CRLF inside a chunk is just data)', async () => {
    const h = await mx();
    await h.send(ENVELOPE);
    expect(await h.send('BDAT 7\r\nab\r\n.\r\n')).toBe('250 7 octets received\r\n');
    expect(await h.send('BDAT 3 LAST\r\nxyz')).toBe('250 OK: queued as tx-1\r\n');
    expect(Buffer.from(h.hooks.messages[0]!.bytes).toString()).toBe('ab\r\n.\r\nxyz');
    expect(h.hooks.messages[0]!.envelope.transfer).toBe('bdat');
    expect(
      codes(await h.send('MAIL FROM:<a@alpha.test>\r\nRCPT TO:<bob@beta.test>\r\nBDAT 0 LAST\r\n')),
    ).toEqual([250, 250, 250]);
  });

  it('a refused BDAT still consumes its chunk; DATA during BDAT is 503; the size limit applies', async () => {
    const h = await mx({ maxMessageSize: 10 });
    expect(await h.send('EHLO c.test\r\nBDAT 6\r\nQUIT\r\n')).toContain('503');
    expect(h.transport.closed).toBe(false);
    await h.send('MAIL FROM:<a@alpha.test>\r\nRCPT TO:<bob@beta.test>\r\n');
    expect(await h.send('BDAT 4\r\nabcd')).toBe('250 4 octets received\r\n');
    expect(codes(await h.send('DATA\r\n'))).toEqual([503]);
    expect(codes(await h.send('BDAT 8\r\n12345678'))).toEqual([552]);
    expect(codes(await h.send('BDAT 1 LAST\r\nx'))).toEqual([503]);
    expect(h.hooks.messages.length).toBe(0);
    expect(codes(await h.send('BDAT x\r\n'))).toEqual([501]);
  });
});

describe('end of input', () => {
  it('commands sent before the FIN are still answered in order, then the session closes', async () => {
    const h = await mx();
    h.session.feed(new Uint8Array(Buffer.from(`${ENVELOPE}DATA\r\nhello\r\n.\r\nQUIT\r\n`)));
    h.session.inputEnded();
    await h.session.idle();
    expect(codes(h.transport.take())).toEqual([250, 250, 250, 354, 250, 221]);
    expect(h.hooks.messages.length).toBe(1);
    expect(h.transport.closed).toBe(true);
  });

  it('a FIN in the middle of DATA aborts the message', async () => {
    const h = await mx();
    await h.send(`${ENVELOPE}DATA\r\npartial`);
    h.session.inputEnded();
    await h.session.idle();
    expect(h.hooks.messages.length).toBe(0);
    expect(h.hooks.aborted.length).toBe(1);
    expect(h.transport.closed).toBe(true);
    expect(h.hooks.closed).toBe(1);
  });
});
