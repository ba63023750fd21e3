/**
 * A minimal raw client for the socket tests: real TCP, real TLS (node's tls.connect), reading
 * CRLF reply lines; it can upgrade an open plaintext connection to TLS like a STARTTLS client.
 */

import net from 'node:net';
import tls from 'node:tls';

export class LineClient {
  private buffer = '';
  private waiters: (() => void)[] = [];
  ended = false;

  private constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(s: net.Socket): void {
    this.socket = s;
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      this.buffer += d;
      this.wake();
    });
    s.on('end', () => {
      this.ended = true;
      this.wake();
    });
    s.on('close', () => {
      this.ended = true;
      this.wake();
    });
    s.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }

  static connectTls(port: number, opts: tls.ConnectionOptions = {}): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...opts }, () =>
        resolve(new LineClient(s)),
      );
      s.once('error', reject);
    });
  }

  /** STARTTLS on the client side: TLS over the same TCP connection. */
  upgrade(opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('end');
    raw.removeAllListeners('close');
    const leftover = this.buffer;
    this.buffer = '';
    return new Promise((resolve, reject) => {
      const s = tls.connect({ socket: raw, rejectUnauthorized: false, ...opts }, () => {
        this.attach(s);
        resolve(s);
      });
      s.once('error', reject);
      if (leftover.length > 0) reject(new Error(`plaintext left before TLS: ${JSON.stringify(leftover)}`));
    });
  }

  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Next complete reply (all its lines, CRLF-joined, without the last CRLF). */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return m[0].slice(0, -2);
      }
      if (this.ended) throw new Error(`connection closed; buffered ${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`no reply; buffered ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Waits until the server closes the connection. */
  async closed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('still open');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  pending(): string {
    return this.buffer;
  }

  end(): void {
    this.socket.destroy();
  }
}
