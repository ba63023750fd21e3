/**
 * Real TLS clients that ask for a stapled OCSP response (status_request): node's tls.connect with
 * requestOCSP, and Debian's `openssl s_client -status` (plain TLS or `-starttls smtp`), run as a
 * child process without blocking the event loop (the servers under test live in this process).
 * Also a counting HTTP front for an OCSP responder.
 */

import { spawn } from 'node:child_process';
import http from 'node:http';
import tls from 'node:tls';

export interface Handshake {
  /** The stapled DER OCSPResponse, null when the server sent none. */
  readonly staple: Buffer | null;
  /** Milliseconds from connect to the end of the handshake. */
  readonly ms: number;
}

/** One TLS handshake asking for a staple (TLS from the first byte). */
export function handshake(port: number, servername?: string): Promise<Handshake> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let staple: Buffer | null = null;
    // requestOCSP is a TLSSocket option that tls.connect passes on; @types/node leaves it out there
    const options: tls.ConnectionOptions & Pick<tls.TLSSocketOptions, 'requestOCSP'> = {
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      requestOCSP: true,
      ...(servername ? { servername } : {}),
    };
    const s = tls.connect(options);
    // emitted with null when the server sent no staple
    s.on('OCSPResponse', (r: Buffer | null) => {
      staple = r && r.length > 0 ? r : null;
    });
    s.once('secureConnect', () => {
      const ms = Date.now() - started;
      s.destroy();
      resolve({ staple, ms });
    });
    s.once('error', reject);
  });
}

/** `openssl s_client -status` against 127.0.0.1:port; resolves with its standard output. */
export function sClient(port: number, extra: readonly string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-status', ...extra], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (!out.includes('SSL handshake has read')) {
        reject(new Error(`openssl s_client did not complete a handshake (${code}): ${err}${out}`));
      } else resolve(out);
    });
    child.stdin.end();
  });
}

/**
 * An HTTP front for an OCSP responder: counts requests and forwards them (`forward`), holds them
 * without an answer (`hold`), or drops the connection (`refuse`).
 */
export class CountingFront {
  requests = 0;
  mode: 'forward' | 'hold' | 'refuse' = 'forward';
  private readonly server: http.Server;
  private readonly held = new Set<http.ServerResponse>();

  constructor(private readonly target: string) {
    this.server = http.createServer((req, res) => {
      this.requests++;
      if (this.mode === 'refuse') {
        req.socket.destroy();
        return;
      }
      if (this.mode === 'hold') {
        this.held.add(res);
        res.once('close', () => this.held.delete(res));
        req.resume();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const up = http.request(
          this.target,
          { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, agent: false },
          (r) => {
            res.writeHead(r.statusCode ?? 502, { 'Content-Type': 'application/ocsp-response' });
            r.pipe(res);
          },
        );
        up.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        up.end(Buffer.concat(chunks));
      });
    });
  }

  listen(port = 0): Promise<string> {
    return new Promise((resolve) =>
      this.server.listen(port, '127.0.0.1', () => {
        const a = this.server.address();
        resolve(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : port}/`);
      }),
    );
  }

  close(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
