/**
 * Socket adapter: wires a net.Socket to a MailSession, performs the TLS upgrade the session asks
 * for (STARTTLS, or implicit TLS from the first byte) with `new tls.TLSSocket(socket, { isServer })`,
 * and maps idle timeouts and closes onto the session. With `ocsp` in the TLS options, every upgrade
 * staples an OCSP response when the client asks for one (ocspServer below).
 */

import { EventEmitter } from 'node:events';
import type net from 'node:net';
import tls from 'node:tls';
import type { MailSession } from '../session/session.js';
import type { ConnectionInfo, SessionTransport, TlsInfo } from '../session/types.js';
import type { OcspStapling, ServerTlsOptions } from './tls-context.js';

function tlsInfo(s: tls.TLSSocket): TlsInfo {
  const servername = (s as tls.TLSSocket & { servername?: string | false }).servername;
  return {
    protocol: s.getProtocol() ?? null,
    cipher: s.getCipher()?.name ?? null,
    servername: typeof servername === 'string' && servername.length > 0 ? servername : null,
  };
}

function connectionInfo(s: net.Socket): ConnectionInfo {
  return {
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    localAddress: s.localAddress,
    localPort: s.localPort,
  };
}

/**
 * The `server` of a TLSSocket that staples. Node asks for a staple only through a server object
 * (lib/_tls_wrap.js requestOCSP): when the client sent status_request and `server` has an
 * 'OCSPRequest' listener, it emits ('OCSPRequest', certificate, issuer, cb) with the certificate of
 * the SNI context, or else of `server._sharedCreds`; `cb(null, der)` staples, `cb(null)` sends none.
 * Nothing else of a tls.Server is used by a TLSSocket without session callbacks.
 */
function ocspServer(context: tls.SecureContext, ocsp: OcspStapling): EventEmitter {
  const server = Object.assign(new EventEmitter(), { _sharedCreds: context });
  server.on(
    'OCSPRequest',
    (certificate: Buffer, _issuer: Buffer | null, cb: (err: Error | null, response?: Buffer) => void) => {
      ocsp.staple(certificate).then(
        (der) => cb(null, der ?? undefined),
        () => cb(null),
      );
    },
  );
  return server;
}

/** Server-side TLS over an accepted socket; resolves once the handshake is done. */
function upgrade(raw: net.Socket, opts: ServerTlsOptions, profile: 'smtp' | 'dmtp'): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secureContext = profile === 'dmtp' ? opts.dmtp : opts.smtp;
    const secureSocket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext,
      ...(opts.SNICallback ? { SNICallback: opts.SNICallback } : {}),
      // node's TLSSocketOptions type wants a tls.Server; only its events and _sharedCreds are read
      ...(opts.ocsp ? { server: ocspServer(secureContext, opts.ocsp) as unknown as tls.Server } : {}),
      requestCert: false,
      rejectUnauthorized: false,
    });
    let settled = false;
    const timer = setTimeout(
      () => fail(new Error('TLS handshake timed out')),
      opts.handshakeTimeoutMs ?? 30_000,
    );
    timer.unref?.();
    function fail(err: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      secureSocket.destroy();
      raw.destroy();
      reject(err);
    }
    secureSocket.once('secure', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(secureSocket);
    });
    secureSocket.on('error', fail);
    secureSocket.once('close', () => fail(new Error('connection closed during the TLS handshake')));
  });
}

export interface ServeOptions {
  /** Called with socket-level errors (they also end the session). */
  onError?: (error: Error) => void;
}

/**
 * Runs `session` over `socket`. With `session.config.implicitTls` the TLS handshake comes first
 * (port 26, port 465); STARTTLS upgrades happen when the session asks. `tlsOptions` null: no TLS
 * at all (STARTTLS answered 454 by the session if it offers it; implicit TLS impossible).
 */
export function serveConnection(
  socket: net.Socket,
  session: MailSession,
  tlsOptions: ServerTlsOptions | null,
  options: ServeOptions = {},
): void {
  let current: net.Socket = socket;
  let closed = false;
  const info = connectionInfo(socket);
  const idleMs = session.config.idleTimeoutMs;

  const onData = (chunk: Buffer) => session.feed(chunk);
  const onEnd = () => session.inputEnded();
  const onClose = () => session.remoteClosed();
  const onError = (err: Error) => {
    options.onError?.(err);
    session.remoteClosed();
    current.destroy();
  };
  const onTimeout = () => session.timeout();

  function listen(s: net.Socket): void {
    current = s;
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('close', onClose);
    s.on('error', onError);
    s.on('timeout', onTimeout);
    if (idleMs > 0) s.setTimeout(idleMs);
  }

  function unlisten(s: net.Socket): void {
    s.pause();
    s.removeListener('data', onData);
    s.removeListener('end', onEnd);
    s.removeListener('close', onClose);
    s.removeListener('timeout', onTimeout);
    s.setTimeout(0);
    // keep an error listener so a failing raw socket never throws
    s.removeListener('error', onError);
    s.on('error', () => {});
  }

  const transport: SessionTransport = {
    send(bytes) {
      if (!closed && !current.destroyed && current.writable) current.write(bytes);
    },
    startTls(profile) {
      const raw = current;
      // Synchronous: no plaintext 'data' event can reach the session after this point.
      unlisten(raw);
      if (!tlsOptions) {
        session.tlsFailed(new Error('TLS is not configured'));
        return;
      }
      // Let the 220 reach the wire in plaintext before TLS takes over the handle.
      raw.write(new Uint8Array(0), () => {
        upgrade(raw, tlsOptions, profile).then(
          (secureSocket) => {
            listen(secureSocket);
            session.tlsEstablished(tlsInfo(secureSocket));
          },
          (err: Error) => {
            options.onError?.(err);
            session.tlsFailed(err);
          },
        );
      });
    },
    close() {
      if (closed) return;
      closed = true;
      const s = current;
      s.end();
      const t = setTimeout(() => s.destroy(), 5_000);
      t.unref?.();
      s.once('close', () => clearTimeout(t));
    },
    pause() {
      current.pause();
    },
    resume() {
      current.resume();
    },
  };

  if (session.config.implicitTls) {
    if (!tlsOptions) {
      socket.destroy();
      session.remoteClosed();
      return;
    }
    socket.on('error', () => {});
    if (idleMs > 0) {
      socket.setTimeout(idleMs, () => socket.destroy());
    }
    upgrade(socket, tlsOptions, session.config.protocol === 'dmtp' ? 'dmtp' : 'smtp').then(
      (secureSocket) => {
        socket.setTimeout(0);
        session.attach(transport, info, tlsInfo(secureSocket));
        listen(secureSocket);
        session.start();
      },
      (err: Error) => {
        options.onError?.(err);
        session.remoteClosed();
      },
    );
    return;
  }
  session.attach(transport, info);
  listen(socket);
  session.start();
}
