import { createSocket } from 'node:dgram';
import { DimeError } from '../errors/index.js';
import { malformedReason } from './response.js';
import { type DnsServer, formatServer } from './server-address.js';

/**
 * Sends one UDP datagram to `server` from a fresh socket on a random source port, connected to the
 * server so that only its datagrams arrive (and ICMP port-unreachable reports come back as
 * ECONNREFUSED). Each datagram is given to `accept`: a value ends the exchange; a DNS_MALFORMED
 * throw (wrong ID, wrong question, garbage) skips the datagram and keeps waiting, so a stray or
 * spoofed packet cannot end the lookup. Rejects with DNS_TEMPFAIL (`context.reason` 'timeout' or
 * 'network') and always closes the socket.
 */
export function udpExchange<T>(
  server: DnsServer,
  wire: Buffer,
  timeoutMs: number,
  accept: (message: Buffer) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const socket = createSocket({ type: server.family === 6 ? 'udp6' : 'udp4' });
    const skipped: string[] = [];
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('message');
      socket.on('error', () => {}); // late errors after close are of no interest
      try {
        socket.close();
      } catch {
        // already closed
      }
      f();
    };
    const timer = setTimeout(() => {
      finish(() =>
        reject(
          new DimeError('DNS_TEMPFAIL', `no answer from ${formatServer(server)} within ${timeoutMs} ms`, {
            reason: 'timeout',
            server: formatServer(server),
            transport: 'udp',
            skipped,
          }),
        ),
      );
    }, timeoutMs);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          new DimeError(
            'DNS_TEMPFAIL',
            `UDP error talking to ${formatServer(server)}: ${e.code ?? e.message}`,
            {
              reason: 'network',
              errno: e.code ?? null,
              server: formatServer(server),
              transport: 'udp',
            },
          ),
        ),
      );
    });
    socket.on('message', (message: Buffer) => {
      if (done) return;
      let value: T;
      try {
        value = accept(message);
      } catch (e) {
        const why = malformedReason(e);
        if (why !== null) {
          if (skipped.length < 16) skipped.push(why);
          return;
        }
        finish(() => reject(e));
        return;
      }
      finish(() => resolve(value));
    });
    socket.connect(server.port, server.address, () => {
      if (done) return;
      socket.send(wire, (e) => {
        if (e) socket.emit('error', e);
      });
    });
  });
}
