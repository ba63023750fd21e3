/**
 * Listeners: a net.Server whose connections each get a fresh MailSession. Implicit TLS (port 26,
 * port 465) is a session setting; the handshake happens in serveConnection, like STARTTLS.
 */

import net from 'node:net';
import type { MailSession } from '../session/session.js';
import type { ConnectionInfo } from '../session/types.js';
import { type ServeOptions, serveConnection } from './serve-connection.js';
import type { ServerTlsOptions } from './tls-context.js';

export interface MailListenerOptions extends ServeOptions {
  tls: ServerTlsOptions | null;
  /** A new session per connection. */
  createSession(connection: ConnectionInfo): MailSession;
}

export function createMailListener(opts: MailListenerOptions): net.Server {
  // Half-open: a client may send its last commands and FIN; the replies still go out (inputEnded).
  return net.createServer({ allowHalfOpen: true }, (socket) => {
    const session = opts.createSession({
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
    });
    serveConnection(socket, session, opts.tls, opts);
  });
}

/** Listens on `port` (0: an ephemeral port) at `host`; resolves with the bound port. */
export function listen(server: net.Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
