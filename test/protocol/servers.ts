/**
 * Real listeners on ephemeral loopback ports for the socket tests: the dedicated DMTP port (TLS
 * from the first byte), a dual-mode SMTP port, STARTTLS submission and implicit-TLS submission,
 * all with one self-signed RSA certificate (libdime needs RSA, dmtp.md §8 D16).
 */

import type net from 'node:net';
import {
  createMailListener,
  createSelfSignedCertificate,
  listen,
  MailSession,
  type SelfSignedCertificate,
  type ServerTlsOptions,
  type SessionConfig,
  serverTlsOptions,
} from '../../src/protocol/index.js';
import type { TestHooks } from './helpers.js';

export const DX = 'dx.beta.test';

export interface TestServers {
  cert: SelfSignedCertificate;
  tls: ServerTlsOptions;
  ports: { dmtp: number; dual: number; submission: number; submissions: number };
  sessions: MailSession[];
  close(): Promise<void>;
}

export async function startServers(
  hooks: TestHooks,
  extra: Partial<SessionConfig> = {},
): Promise<TestServers> {
  const cert = await createSelfSignedCertificate({
    hostnames: [DX, 'localhost', '127.0.0.1'],
    keyType: 'rsa',
  });
  const tls = serverTlsOptions({ key: cert.keyPem, cert: cert.certPem });
  const sessions: MailSession[] = [];
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const make = async (config: SessionConfig) => {
    const server = createMailListener({
      tls,
      createSession: () => {
        const s = new MailSession({ ...config, ...extra }, hooks);
        sessions.push(s);
        return s;
      },
    });
    servers.push(server);
    server.on('connection', (sock) => {
      sockets.add(sock);
      sock.once('close', () => sockets.delete(sock));
    });
    return listen(server, 0);
  };
  const ports = {
    dmtp: await make({ hostname: DX, protocol: 'dmtp' }),
    dual: await make({ hostname: DX, protocol: 'smtp' }),
    submission: await make({ hostname: DX, protocol: 'smtp', auth: 'required', requireTls: true }),
    submissions: await make({ hostname: DX, protocol: 'smtp', auth: 'required', implicitTls: true }),
  };
  return {
    cert,
    tls,
    ports,
    sessions,
    close: async () => {
      for (const sock of sockets) sock.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
