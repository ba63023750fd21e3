/**
 * The DMTP client against raw servers written here that misbehave (real TCP, real TLS, no DNS):
 * every broken reply, oversize line, silence, early close, injection or refusal must end in a
 * typed DimeError quickly, never a hang, and the connection must be closed afterwards.
 */

import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Unpadded } from '../../src/encoding/base64.js';
import { generateKeys } from '../../src/keys/index.js';
import {
  createSelfSignedCertificate,
  type DmtpClientOptions,
  DmtpConnection,
  type DmtpTarget,
  isTemporaryFailure,
  MAX_REPLY_LINE,
  type SelfSignedCertificate,
} from '../../src/protocol/index.js';
import { tlsCertificateSignature } from '../../src/record/index.js';
import { expectDimeError } from '../resolver/helpers.js';

let cert: SelfSignedCertificate;
let context: tls.SecureContext;
let record: DmtpTarget['record'];

beforeAll(async () => {
  cert = await createSelfSignedCertificate({ hostnames: ['dx.fake.test'], keyType: 'rsa' });
  context = tls.createSecureContext({ key: cert.keyPem, cert: cert.certPem, minVersion: 'TLSv1.2' });
  const org = generateKeys('org');
  record = { pok: [org.signingPublic], tls: [tlsCertificateSignature(cert.certDer, org.signingSeed)] };
});

// ------------------------------------------------------------------ a scriptable raw server

class FakeConn {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  closed = false;
  /** Every byte the client sent (after TLS: the plaintext inside). */
  received = Buffer.alloc(0);

  constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  private listen(s: net.Socket): void {
    s.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.received = Buffer.concat([this.received, d]);
      this.wake?.();
    });
    s.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    s.on('error', () => {});
  }

  send(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** The next line from the client (without CRLF); null when it closed. */
  async line(): Promise<string | null> {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0) {
        const l = this.buf.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        this.buf = this.buf.subarray(nl + 1);
        return l;
      }
      if (this.closed) return null;
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = null;
    }
  }

  /** Server-side TLS on the same connection (STARTTLS). */
  async upgrade(): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    this.buf = Buffer.alloc(0);
    const s = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
    await new Promise<void>((resolve, reject) => {
      s.once('secure', () => resolve());
      s.once('error', reject);
    });
    this.socket = s;
    this.listen(s);
  }

  /** Waits until the client closes (or `ms` pass). */
  async gone(ms = 3000): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }
}

interface Fake {
  port: number;
  conns: FakeConn[];
  /** Resolves with the script's end (or its error). */
  done: Promise<void>[];
}

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();

async function fake(mode: 'tls' | 'plain', script: (c: FakeConn) => Promise<void>): Promise<Fake> {
  const f: Fake = { port: 0, conns: [], done: [] };
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    raw.on('error', () => {});
    const start = async () => {
      let sock: net.Socket = raw;
      if (mode === 'tls') {
        const s = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
        s.on('error', () => {});
        await new Promise<void>((resolve, reject) => {
          s.once('secure', () => resolve());
          s.once('close', () => reject(new Error('closed in handshake')));
        });
        sock = s;
      }
      const c = new FakeConn(sock);
      f.conns.push(c);
      await script(c);
    };
    f.done.push(start().catch(() => {}));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  f.port = (server.address() as net.AddressInfo).port;
  return f;
}

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

const quick = { connectMs: 2000, tlsMs: 2000, commandMs: 1500, dataMs: 3000 };

function target(mode: 'dmtp' | 'dual', dnssec: 'secure' | 'insecure' = 'secure'): DmtpTarget {
  return {
    domain: 'fake.test',
    record,
    dnssec,
    host: 'dx.fake.test',
    port: mode === 'dmtp' ? 26 : 25,
    mode,
    address: '127.0.0.1',
  };
}

function opts(port: number, extra: Partial<DmtpClientOptions> = {}): DmtpClientOptions {
  return { portOverrides: { 26: port, 25: port }, timeouts: quick, ...extra };
}

/** A well-behaved start: banner, EHLO; then `rest`. */
function greeting(rest: (c: FakeConn) => Promise<void>) {
  return async (c: FakeConn) => {
    c.send('220 dx.fake.test DMTPv1\r\n');
    const ehlo = await c.line();
    if (ehlo === null) return;
    c.send('250-dx.fake.test\r\n250-SIZE 1000\r\n250 DMTPv1\r\n');
    await rest(c);
  };
}

function open(port: number, extra: Partial<DmtpClientOptions> = {}) {
  return DmtpConnection.open(target('dmtp'), opts(port, extra));
}

describe('banner and greeting', () => {
  it('a banner without the DMTPv1 token: DMTP_PROTOCOL (banner)', async () => {
    const f = await fake('tls', async (c) => c.send('220 dx.fake.test ESMTP Postfix\r\n'));
    const e = await expectDimeError(open(f.port), 'DMTP_PROTOCOL');
    expect(e.context.reason).toBe('banner');
    expect(await f.conns[0]!.gone()).toBe(true);
  });

  it('421 banner: DMTP_REFUSED with the code, temporary', async () => {
    const f = await fake('tls', async (c) => c.send('421 dx.fake.test DMTPv1 busy\r\n'));
    const e = await expectDimeError(open(f.port), 'DMTP_REFUSED');
    expect(e.context.code).toBe(421);
    expect(isTemporaryFailure(e)).toBe(true);
  });

  it('binary garbage: DMTP_PROTOCOL (malformed-reply)', async () => {
    const f = await fake('tls', async (c) => c.send(Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x0d, 0x0a])));
    const e = await expectDimeError(open(f.port), 'DMTP_PROTOCOL');
    expect(e.context.reason).toBe('malformed-reply');
  });

  it('text that is not a reply: DMTP_PROTOCOL', async () => {
    const f = await fake('tls', async (c) => c.send('HELLO THERE\r\n'));
    expect((await expectDimeError(open(f.port), 'DMTP_PROTOCOL')).context.reason).toBe('malformed-reply');
  });

  it('a reply line of exactly 4096 bytes is read; 4097 is DMTP_PROTOCOL (line-too-long)', async () => {
    const head = '220 dx.fake.test DMTPv1 ';
    const exact = await fake('tls', async (c) => {
      c.send(`${head}${'x'.repeat(MAX_REPLY_LINE - head.length - 2)}\r\n`);
      if ((await c.line()) !== null) c.send('250 dx.fake.test\r\n');
      await c.line();
    });
    const conn = await open(exact.port);
    expect(conn.banner.lines[0]!.length).toBe(MAX_REPLY_LINE - 6);
    conn.close();
    const over = await fake('tls', async (c) =>
      c.send(`${head}${'x'.repeat(MAX_REPLY_LINE - head.length - 1)}\r\n`),
    );
    expect((await expectDimeError(open(over.port), 'DMTP_PROTOCOL')).context.reason).toBe('line-too-long');
  });

  it('an endless line without a newline: DMTP_PROTOCOL (line-too-long), no waiting for more', async () => {
    const f = await fake('tls', async (c) => c.send(`220 ${'y'.repeat(100_000)}`));
    const t = Date.now();
    expect((await expectDimeError(open(f.port), 'DMTP_PROTOCOL')).context.reason).toBe('line-too-long');
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('a silent server: DMTP_TIMEOUT after the command time limit, connection closed', async () => {
    const f = await fake('tls', async () => {});
    const t = Date.now();
    const e = await expectDimeError(open(f.port, { timeouts: { ...quick, commandMs: 300 } }), 'DMTP_TIMEOUT');
    expect(Date.now() - t).toBeLessThan(2000);
    expect(e.context.temporary).toBe(true);
    expect(await f.conns[0]!.gone()).toBe(true);
  });

  it('a close in the middle of a multi-line reply: CONNECT_FAILED (closed)', async () => {
    const f = await fake('tls', async (c) => {
      c.send('220 dx.fake.test DMTPv1\r\n');
      await c.line();
      c.send('250-dx.fake.test\r\n250-SIZE');
      c.socket.end();
    });
    const e = await expectDimeError(open(f.port), 'CONNECT_FAILED');
    expect(e.context.reason).toBe('closed');
  });

  it('a multi-line reply that changes its code: DMTP_PROTOCOL', async () => {
    const f = await fake('tls', async (c) => {
      c.send('220 dx.fake.test DMTPv1\r\n');
      await c.line();
      c.send('250-dx.fake.test\r\n251 SIZE 5\r\n');
    });
    expect((await expectDimeError(open(f.port), 'DMTP_PROTOCOL')).context.reason).toBe('malformed-reply');
  });

  it('an endless multi-line reply: DMTP_PROTOCOL (reply-too-large)', async () => {
    const f = await fake('tls', async (c) => {
      c.send('220 dx.fake.test DMTPv1\r\n');
      await c.line();
      const chunk = '250-abcdefghijklmnopqrstuvwxyz\r\n'.repeat(200);
      for (let i = 0; i < 200 && !c.closed; i++) {
        c.send(chunk);
        await new Promise((r) => setImmediate(r));
      }
    });
    const e = await expectDimeError(open(f.port, { maxReplyBytes: 64 * 1024 }), 'DMTP_PROTOCOL');
    expect(e.context.reason).toBe('reply-too-large');
  });

  it('a server that is not TLS on the dedicated port: TLS_FAILED', async () => {
    const f = await fake('plain', async (c) => c.send('220 dx.fake.test DMTPv1\r\n'));
    const e = await expectDimeError(open(f.port), 'TLS_FAILED');
    expect(isTemporaryFailure(e)).toBe(true);
  });

  it('the certificate is checked before the banner is read (pin mismatch: nothing read)', async () => {
    const f = await fake('tls', async (c) => c.send('220 dx.fake.test DMTPv1\r\n'));
    const other = generateKeys('org');
    const e = await expectDimeError(
      DmtpConnection.open(
        { ...target('dmtp'), record: { pok: [other.signingPublic], tls: record.tls } },
        opts(f.port),
      ),
      'TLS_UNTRUSTED',
    );
    expect(e.context.reason).toBe('pin-mismatch');
    // a pinned self-signed certificate on an insecure record: host name and chain needed, chain fails
    const e2 = await expectDimeError(
      DmtpConnection.open(target('dmtp', 'insecure'), opts(f.port)),
      'TLS_UNTRUSTED',
    );
    expect(e2.context.reason).toBe('chain');
    // a name the certificate does not carry: fine with a pin on a secure record (no x509 check) …
    const g = await fake(
      'tls',
      greeting(async (c) => void (await c.line())),
    );
    const elsewhere = { ...target('dmtp'), host: 'dx.elsewhere.test' };
    const ok = await DmtpConnection.open(elsewhere, opts(g.port, { portOverrides: () => g.port }));
    expect(ok.tls.certificate).toMatchObject({ check: 'pin', hostname: 'skipped' });
    ok.close();
    // … but the host-name check fails first on an insecure record
    const e3 = await expectDimeError(
      DmtpConnection.open(
        { ...elsewhere, dnssec: 'insecure' },
        opts(g.port, { portOverrides: () => g.port }),
      ),
      'TLS_UNTRUSTED',
    );
    expect(e3.context.reason).toBe('hostname');
  });
});

describe('commands', () => {
  it('a malformed SGNT answer: DMTP_PROTOCOL (bad-answer), then the connection is closed', async () => {
    const f = await fake(
      'tls',
      greeting(async (c) => {
        await c.line();
        c.send('250 OK [not base64!]\r\n');
        await c.line();
      }),
    );
    const conn = await open(f.port);
    expect(conn.ehlo.maxSize).toBe(1000);
    expect((await expectDimeError(conn.sgnt('fake.test'), 'DMTP_PROTOCOL')).context.reason).toBe(
      'bad-answer',
    );
    expect(conn.isOpen).toBe(false);
    await expectDimeError(conn.noop(), 'DMTP_PROTOCOL');
    expect(await f.conns[0]!.gone()).toBe(true);
  });

  it('an SGNT line over 4096 bytes: DMTP_PROTOCOL (line-too-long)', async () => {
    const f = await fake(
      'tls',
      greeting(async (c) => {
        await c.line();
        c.send(`250 OK [${'A'.repeat(5000)}]\r\n`);
      }),
    );
    const conn = await open(f.port);
    expect((await expectDimeError(conn.sgnt('fake.test'), 'DMTP_PROTOCOL')).context.reason).toBe(
      'line-too-long',
    );
  });

  it('SGNT refused: DMTP_REFUSED with the code; the session goes on', async () => {
    const f = await fake(
      'tls',
      greeting(async (c) => {
        await c.line();
        c.send('550 no signet for nobody@fake.test\r\n');
        await c.line();
        c.send('250 OK\r\n');
        await c.line();
      }),
    );
    const conn = await open(f.port);
    const e = await expectDimeError(conn.sgnt('nobody@fake.test'), 'DMTP_REFUSED');
    expect(e.context.code).toBe(550);
    expect(e.context.command).toBe('SGNT');
    expect(isTemporaryFailure(e)).toBe(false);
    await conn.noop();
    conn.close();
  });

  it('replies nobody asked for: DMTP_PROTOCOL (unsolicited) at the next command', async () => {
    const f = await fake('tls', async (c) => {
      c.send('220 dx.fake.test DMTPv1\r\n');
      await c.line();
      c.send('250 dx.fake.test\r\n250 OK [AAAA]\r\n');
      await c.line();
    });
    const conn = await open(f.port);
    await new Promise((r) => setTimeout(r, 50));
    expect((await expectDimeError(conn.noop(), 'DMTP_PROTOCOL')).context.reason).toBe('unsolicited');
  });

  it('a command line over 512 bytes is refused before anything is sent', async () => {
    const f = await fake(
      'tls',
      greeting(async (c) => void (await c.line())),
    );
    const conn = await open(f.port);
    const sent = f.conns[0]!.received.length;
    await expectDimeError(conn.sgnt(`${'a'.repeat(500)}@fake.test`), 'BAD_INPUT');
    await expectDimeError(conn.command('NOOP\r\nQUIT'), 'BAD_INPUT');
    expect(f.conns[0]!.received.length).toBe(sent);
    conn.close();
  });

  it('354 with another hash: DMTP_PROTOCOL (hash-mismatch), no body byte sent', async () => {
    const f = await fake(
      'tls',
      greeting(async (c) => {
        for (let i = 0; i < 2; i++) {
          await c.line();
          c.send('250 OK\r\n');
        }
        await c.line();
        c.send(`354 CONTINUE [${'B'.repeat(85)}A]\r\n`);
        await c.line();
      }),
    );
    const conn = await open(f.port);
    const body = new Uint8Array(300).fill(7);
    const fp = toBase64Unpadded(new Uint8Array(createHash('sha512').update('x').digest()));
    const e = await expectDimeError(
      conn.send(
        { origin: 'a.test', originFingerprint: fp, destination: 'fake.test', destinationFingerprint: fp },
        body,
      ),
      'DMTP_PROTOCOL',
    );
    expect(e.context.reason).toBe('hash-mismatch');
    const c = f.conns[0]!;
    expect(await c.gone()).toBe(true);
    expect(c.received.toString('latin1')).not.toContain('\x07');
  });

  it('a DATA that is never answered: DMTP_TIMEOUT', async () => {
    const f = await fake(
      'tls',
      greeting(async (c) => {
        for (let i = 0; i < 2; i++) {
          await c.line();
          c.send('250 OK\r\n');
        }
        const data = await c.line();
        c.send(`354 CONTINUE [${data!.slice(6, -1)}]\r\n`);
        // swallow the body, never answer
        await c.gone(5000);
      }),
    );
    const conn = await open(f.port, { timeouts: { ...quick, dataMs: 400 } });
    const fp = 'A'.repeat(86);
    const e = await expectDimeError(
      conn.send(
        { origin: 'a.test', originFingerprint: fp, destination: 'fake.test', destinationFingerprint: fp },
        new Uint8Array(10),
      ),
      'DMTP_TIMEOUT',
    );
    expect(e.context.command).toBe('DATA (end)');
  });
});

describe('dual mode', () => {
  function dual(afterStarttls: (c: FakeConn) => Promise<void>, starttlsReply = '220 READY\r\n') {
    return async (c: FakeConn) => {
      c.send('220 dx.fake.test ESMTP DMTPv1\r\n');
      const ehlo = await c.line();
      if (!ehlo?.startsWith('EHLO ')) return;
      c.send('250-dx.fake.test\r\n250-STARTTLS\r\n250 DMTPv1\r\n');
      const st = await c.line();
      if (st !== 'STARTTLS <dx.fake.test> MODE=DMTPv1') {
        c.send('501 unexpected\r\n');
        return;
      }
      c.send(starttlsReply);
      if (!starttlsReply.startsWith('2')) return;
      await c.upgrade();
      await afterStarttls(c);
    };
  }

  it('plaintext injected after the STARTTLS reply is discarded, then DMTP inside TLS', async () => {
    const f = await fake(
      'plain',
      dual(async (c) => {
        c.send('250 OK DMTPv1\r\n');
        const ehlo = await c.line();
        expect(ehlo).toBe('EHLO <localhost>');
        c.send('250-dx.fake.test\r\n250 DMTPv1\r\n');
        await c.line();
        c.send('250 OK\r\n');
        if ((await c.line()) === 'QUIT') c.send('221 BYE\r\n');
      }, '220 READY\r\n250 OK DMTPv1\r\n250 injected\r\n'),
    );
    const conn = await DmtpConnection.open(target('dual'), opts(f.port));
    expect(conn.discardedPlaintext).toBeGreaterThan(0);
    expect(conn.tls.certificate.check).toBe('pin');
    await conn.noop();
    await conn.quit();
  });

  it('STARTTLS refused (454): TLS_FAILED', async () => {
    const f = await fake(
      'plain',
      dual(async () => {}, '454 TLS not available\r\n'),
    );
    const e = await expectDimeError(DmtpConnection.open(target('dual'), opts(f.port)), 'TLS_FAILED');
    expect(e.context.code).toBe(454);
  });

  it('no switch to DMTPv1 after the handshake: DMTP_PROTOCOL (mode)', async () => {
    const f = await fake(
      'plain',
      dual(async (c) => {
        c.send('250 OK SMTP\r\n');
        await c.line();
      }),
    );
    const e = await expectDimeError(DmtpConnection.open(target('dual'), opts(f.port)), 'DMTP_PROTOCOL');
    expect(e.context.reason).toBe('mode');
  });
});
