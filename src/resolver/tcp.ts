import { connect } from 'node:net';
import { DimeError } from '../errors/index.js';
import { type DnsServer, formatServer } from './server-address.js';

/**
 * One query over TCP (RFC 1035 §4.2.2, RFC 7766): a 2-byte length, then the message; reads one
 * length-prefixed message back and closes the connection. Rejects with DNS_TEMPFAIL (`context.reason`
 * 'timeout', 'network' or 'closed') and always destroys the socket.
 */
export function tcpExchange(server: DnsServer, wire: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const where = formatServer(server);
    const fail = (reason: string, message: string, extra: Record<string, unknown> = {}) =>
      new DimeError('DNS_TEMPFAIL', message, { reason, server: where, transport: 'tcp', ...extra });
    const socket = connect({ host: server.address, port: server.port, family: server.family });
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.on('error', () => {});
      socket.destroy();
      f();
    };
    const timer = setTimeout(() => {
      finish(() => reject(fail('timeout', `no TCP answer from ${where} within ${timeoutMs} ms`)));
    }, timeoutMs);
    socket.on('connect', () => {
      const framed = Buffer.alloc(2 + wire.length);
      framed.writeUInt16BE(wire.length, 0);
      wire.copy(framed, 2);
      socket.write(framed);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 2) return;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks.length = 0;
      chunks.push(all);
      const length = all.readUInt16BE(0);
      if (received >= 2 + length) {
        const message = Buffer.from(all.subarray(2, 2 + length));
        finish(() => resolve(message));
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          fail('network', `TCP error talking to ${where}: ${e.code ?? e.message}`, { errno: e.code ?? null }),
        ),
      );
    });
    socket.on('close', () => {
      finish(() => reject(fail('closed', `${where} closed the TCP connection before a whole answer`)));
    });
  });
}
