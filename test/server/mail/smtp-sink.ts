/**
 * A scriptable SMTP sink for the delivery tests: our own SMTP state machine (src/protocol
 * MailSession) on a real loopback listener with STARTTLS and a self-signed certificate; each
 * recipient, sender and message is answered as the test says; everything received is recorded.
 */
import type net from 'node:net';
import {
  createMailListener,
  createSelfSignedCertificate,
  type Decision,
  type Envelope,
  listen,
  MailSession,
  type MessageSink,
  type SelfSignedCertificate,
  type SessionConfig,
  type SessionHooks,
  type SessionInfo,
  serverTlsOptions,
} from '../../../src/protocol/index.js';

export interface SinkMessage {
  from: string;
  to: string[];
  bytes: Uint8Array;
  secure: boolean;
  tlsProtocol: string | null;
  helo: string | null;
  servername: string | null;
}

export interface SinkScript {
  /** Local part or address → reply for RCPT (default: accept). */
  rcpt?: Record<string, [number, string]>;
  /** Reply for MAIL FROM (default: accept). */
  mail?: [number, string];
  /** Reply after the data (default: accept). */
  data?: [number, string];
  /** Never answer the end of data (the client's timeout must end it). */
  hangAfterData?: boolean;
}

export interface SmtpSink {
  port: number;
  host: string;
  cert: SelfSignedCertificate;
  messages: SinkMessage[];
  /** Connections seen (each gets one session). */
  sessions: number;
  script: SinkScript;
  close(): Promise<void>;
}

export async function startSmtpSink(options: {
  host?: string;
  hostname?: string;
  starttls?: boolean;
  certHostnames?: string[];
  script?: SinkScript;
}): Promise<SmtpSink> {
  const host = options.host ?? '127.0.0.1';
  const hostname = options.hostname ?? 'sink.remote.test';
  const cert = await createSelfSignedCertificate({
    hostnames: options.certHostnames ?? [hostname, 'localhost', host],
    keyType: 'ec',
  });
  const tls = options.starttls === false ? null : serverTlsOptions({ key: cert.keyPem, cert: cert.certPem });
  const sockets = new Set<net.Socket>();
  const sink: SmtpSink = {
    port: 0,
    host,
    cert,
    messages: [],
    sessions: 0,
    script: options.script ?? {},
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const reply = (r: [number, string] | undefined): Decision =>
    r === undefined || r[0] < 400 ? undefined : { accept: false, code: r[0], message: r[1] };
  const hooks: SessionHooks = {
    mailFrom: () => reply(sink.script.mail),
    rcptTo: (rcpt) => {
      if (rcpt.protocol !== 'smtp') return { accept: false, code: 550, message: 'no DMTP here' };
      const local = rcpt.address.split('@')[0]!.toLowerCase();
      return reply(sink.script.rcpt?.[rcpt.address.toLowerCase()] ?? sink.script.rcpt?.[local]);
    },
    openMessageSink(envelope: Envelope, info: SessionInfo): MessageSink {
      const pieces: Uint8Array[] = [];
      return {
        write: (chunk) => {
          pieces.push(new Uint8Array(chunk));
        },
        end: async () => {
          if (sink.script.hangAfterData) await new Promise(() => {});
          const d = sink.script.data;
          if (d !== undefined && d[0] >= 400) return { accept: false, code: d[0], message: d[1] };
          sink.messages.push({
            from: envelope.from.protocol === 'smtp' ? envelope.from.address : '',
            to: envelope.to.map((r) => (r.protocol === 'smtp' ? r.address : r.domain)),
            bytes: new Uint8Array(Buffer.concat(pieces)),
            secure: info.secure,
            tlsProtocol: info.tls?.protocol ?? null,
            helo: info.helo,
            servername: info.tls?.servername ?? null,
          });
          return { accept: true, id: `sink-${sink.messages.length}` };
        },
        abort: () => {},
      };
    },
  };
  const config: SessionConfig = {
    hostname,
    protocol: 'smtp',
    dmtpSwitch: false,
    starttls: options.starttls !== false,
  };
  const server = createMailListener({
    tls,
    createSession: () => {
      sink.sessions++;
      return new MailSession(config, hooks);
    },
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  sink.port = await listen(server, 0, host);
  return sink;
}
