/**
 * The DMTP client (dmtp.md §1–§5, record.md §5–§6, flow.md §2–§3).
 *
 * `DmtpConnection.open` talks to one DX host: port-26 mode (TLS from the first byte, SNI = the DX
 * name) or dual mode (plaintext on 25/587: banner with `DMTPv1`, EHLO, `STARTTLS <dx> MODE=DMTPv1`,
 * handshake, `250 OK DMTPv1`). Right after every handshake the certificate is checked against the
 * domain's management record (client-tls.ts) before a byte from the server is believed; then EHLO.
 * Commands: SGNT, HIST, VRFY, STATS, NOOP, RSET, MAIL/RCPT/DATA (the DIME object streamed as raw
 * bytes framed by SIZE), QUIT. Command lines are at most 512 bytes; every reply is read with a time
 * limit, at most 4096 bytes a line (client-reader.ts); every failure is a typed DimeError
 * (client-errors.ts), and after a broken reply or a timeout the connection is closed.
 *
 * `connectDmtp` does the whole client procedure for a domain: record lookup through a DimeResolver
 * (a bogus record throws DNS_BOGUS before any connection; no record is RECORD_MISSING/INVALID),
 * the DX candidates of chooseDxHosts in order, each address of each host, until one connection is up.
 */

import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { toBase64Unpadded } from '../../encoding/base64.js';
import { DimeError } from '../../errors/index.js';
import type { ByteSource } from '../../message/source.js';
import type { ManagementRecord } from '../../record/types.js';
import type { DxCandidate, DxPlan } from '../../resolver/dx-hosts.js';
import type { DimeResolver } from '../../resolver/resolver.js';
import type { UsableDnssecState } from '../../resolver/types.js';
import type { OcspCache } from '../tls/ocsp.js';
import {
  type ConnectFailure,
  connectFailed,
  protocolError,
  refused,
  tlsFailed,
  tlsUntrusted,
} from './client-errors.js';
import { DEFAULT_MAX_REPLY_BYTES, type DmtpReply, ReplyReader } from './client-reader.js';
import {
  bannerHasDmtp,
  type EhloAnswer,
  parseContinue,
  parseDataDone,
  parseEhloAnswer,
  parseHistAnswer,
  parseModeAnswer,
  parseSgntAnswer,
  parseStatsOnce,
  parseVrfyAnswer,
  type VrfyAnswer,
} from './client-replies.js';
import { checkDxCertificate, type DxCertificateVerdict } from './client-tls.js';
import { isFingerprint } from './fingerprint.js';

/** dmtp.md §1: a command line is at most 512 bytes including CRLF. */
export const MAX_COMMAND_LINE = 512;

/**
 * Where the standard ports really are (tests, non-standard deployments): a map from 26/25/587 to
 * another port, or a function of the host and the standard port.
 */
export type PortOverrides = Readonly<Record<number, number>> | ((host: string, port: number) => number);

export interface DmtpTimeouts {
  /** TCP connect, default 10 s. */
  readonly connectMs?: number;
  /** TLS handshake, default 10 s. */
  readonly tlsMs?: number;
  /** The OCSP request of the certificate check (record.md §5, no pin), default 10 s. */
  readonly ocspMs?: number;
  /** Each ordinary reply (banner, EHLO, SGNT, MAIL, …), default 60 s. */
  readonly commandMs?: number;
  /** Writing the DATA body and its final reply, default 10 min. */
  readonly dataMs?: number;
}

const DEFAULT_TIMEOUTS: Required<DmtpTimeouts> = {
  connectMs: 10_000,
  tlsMs: 10_000,
  ocspMs: 10_000,
  commandMs: 60_000,
  dataMs: 600_000,
};

export interface DmtpClientOptions {
  /** EHLO argument: this side's domain or host name. Default 'localhost'. */
  readonly ehlo?: string;
  readonly portOverrides?: PortOverrides;
  /**
   * Trusted CA certificates (PEM) for x509 chain validation, replacing node's bundled roots. Only
   * used where record.md §5 asks for chain validation (no pin, or a pin on an insecure record).
   */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly timeouts?: DmtpTimeouts;
  /** Bound of one multi-line reply (HIST), default 1 MiB. */
  readonly maxReplyBytes?: number;
  /** OCSP answers to reuse across connections (record.md §5, no pin); none: ask every time. */
  readonly ocspCache?: OcspCache;
}

/** One DX to connect to, with the record that vouches for it. */
export interface DmtpTarget {
  /** The domain whose management record names this DX. */
  readonly domain: string;
  readonly record: Pick<ManagementRecord, 'pok' | 'tls'>;
  /** DNSSEC state of that record (a bogus record never gets this far). */
  readonly dnssec: UsableDnssecState;
  /** DX host name: SNI, `STARTTLS <host>`, host-name check. */
  readonly host: string;
  /** Standard port (26, 25 or 587) before overrides. */
  readonly port: number;
  readonly mode: 'dmtp' | 'dual';
  /** IP address to connect to. */
  readonly address: string;
}

export interface DmtpTlsInfo {
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly certificate: DxCertificateVerdict;
}

/** One failed try of connectDmtp. */
export interface ConnectAttempt {
  readonly host: string;
  readonly port: number;
  readonly mode: 'dmtp' | 'dual';
  readonly address: string | null;
  readonly code: string;
  readonly message: string;
}

export interface MessageEnvelope {
  /** Origin domain and the crypto fingerprint of its current org signet (MAIL). */
  readonly origin: string;
  readonly originFingerprint: string;
  /** Destination domain and its org fingerprint (RCPT). */
  readonly destination: string;
  readonly destinationFingerprint: string;
}

export type MessageBody = Uint8Array | ByteSource;

export interface SentMessage {
  /** The server's transaction id from `250 OK [<id>]` (null if it sent none). */
  readonly transactionId: string | null;
  readonly size: number;
  /** Unpadded base64 SHA-512 of the object: the DATA hash. */
  readonly hash: string;
}

const CHUNK = 64 * 1024;

function mapPort(overrides: PortOverrides | undefined, host: string, port: number): number {
  if (!overrides) return port;
  if (typeof overrides === 'function') return overrides(host, port);
  return overrides[port] ?? port;
}

function connectReason(code: string | undefined): ConnectFailure {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'closed';
    default:
      return 'error';
  }
}

function tcpConnect(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(connectFailed('timeout', `no TCP connection to ${address}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      // DATA ends with a small write (the CRLF after the object) behind a large one: with Nagle it
      // would wait for the server's delayed ACK (~40 ms a message)
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      reject(
        connectFailed(connectReason(err.code), `cannot connect to ${address}:${port}: ${err.message}`, {
          errno: err.code,
        }),
      );
    });
  });
}

interface TlsUp {
  readonly socket: tls.TLSSocket;
  readonly info: DmtpTlsInfo;
}

/** Client TLS over a connected socket, then the record.md §5 certificate check. */
function startTls(
  raw: net.Socket,
  target: DmtpTarget,
  options: DmtpClientOptions,
  ms: number,
  ocspTimeoutMs: number,
): Promise<TlsUp> {
  return new Promise((resolve, reject) => {
    const where = `${target.host} (${target.address})`;
    // requestOCSP is a TLSSocket option that tls.connect passes on; @types/node leaves it out there
    const connectOptions: tls.ConnectionOptions & Pick<tls.TLSSocketOptions, 'requestOCSP'> = {
      socket: raw,
      ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: false,
      // the host name is checked by checkDxCertificate, only where record.md §5 asks for it
      checkServerIdentity: () => undefined,
      ...(options.ca !== undefined ? { ca: options.ca as string | Buffer | (string | Buffer)[] } : {}),
      // a stapled OCSP response, checked where record.md §5 asks for OCSP (libdime asks for one too)
      requestOCSP: true,
    };
    const s = tls.connect(connectOptions);
    let stapled: Uint8Array | null = null;
    s.once('OCSPResponse', (r: Buffer | null) => {
      if (r && r.length > 0) stapled = new Uint8Array(r);
    });
    let settled = false;
    const done = (err: DimeError | null, up?: TlsUp) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.removeListener('error', onError);
      s.removeListener('close', onClose);
      if (err) {
        s.destroy();
        raw.destroy();
        reject(err);
      } else resolve(up!);
    };
    const onError = (err: Error) => done(tlsFailed(`TLS handshake with ${where} failed: ${err.message}`));
    const onClose = () => done(tlsFailed(`${where} closed the connection during the TLS handshake`));
    const timer = setTimeout(
      () => done(tlsFailed(`no TLS handshake with ${where} within ${ms} ms`, { reason: 'timeout' })),
      ms,
    );
    s.on('error', onError);
    s.once('close', onClose);
    s.once('secureConnect', () => {
      // the handshake is over; the OCSP step has its own time limit
      clearTimeout(timer);
      void (async () => {
        try {
          const peer = s.getPeerCertificate(true);
          if (!peer?.raw) throw tlsUntrusted('no-certificate', `${where} presented no certificate`);
          const up = peer.issuerCertificate;
          const issuer = up?.raw && up !== peer && !up.raw.equals(peer.raw) ? new Uint8Array(up.raw) : null;
          const certificate = await checkDxCertificate({
            host: target.host,
            record: target.record,
            dnssec: target.dnssec,
            certificate: new Uint8Array(peer.raw),
            authorized: s.authorized,
            authorizationError: s.authorizationError ?? null,
            peer,
            issuer,
            stapledOcsp: stapled,
            ocspTimeoutMs,
            ...(options.ocspCache ? { ocspCache: options.ocspCache } : {}),
          });
          if (settled) return;
          s.on('error', () => {}); // the reader takes over error handling; never an unhandled 'error'
          done(null, {
            socket: s,
            info: { protocol: s.getProtocol() ?? null, cipher: s.getCipher()?.name ?? null, certificate },
          });
        } catch (e) {
          done(e instanceof DimeError ? e : tlsFailed(String(e)));
        }
      })();
    });
  });
}

function checkName(v: string, what: string): string {
  if (v.length === 0 || !/^[\x21-\x7e\u0080-\uffff]+$/u.test(v) || /[<>[\]]/.test(v)) {
    throw new DimeError('BAD_INPUT', `${what} is not usable in a DMTP command: ${JSON.stringify(v)}`);
  }
  return v;
}

function checkFp(v: string, what: string): string {
  if (!isFingerprint(v)) throw new DimeError('BAD_INPUT', `${what} must be 86 unpadded base64 characters`);
  return v;
}

function sha512b64(body: MessageBody): string {
  const h = createHash('sha512');
  if (body instanceof Uint8Array) h.update(body);
  else for (let at = 0; at < body.size; at += CHUNK) h.update(body.read(at, Math.min(CHUNK, body.size - at)));
  return toBase64Unpadded(new Uint8Array(h.digest()));
}

/**
 * One open DMTP session with a DX host, ready for commands (EHLO done). Commands are sequential:
 * await each before the next. A reply that breaks the protocol, a timeout or a lost connection
 * closes it and every later command fails at once.
 */
export class DmtpConnection {
  /** Set by connectDmtp: the hosts that failed before this one. */
  attempts: readonly ConnectAttempt[] = [];
  private broken: DimeError | null = null;
  private closed = false;

  private constructor(
    readonly target: DmtpTarget,
    /** The port really connected to (after overrides). */
    readonly connectedPort: number,
    private socket: net.Socket,
    private readonly reader: ReplyReader,
    readonly banner: DmtpReply,
    readonly ehlo: EhloAnswer,
    readonly tls: DmtpTlsInfo,
    /** Dual mode: plaintext bytes the server sent after its STARTTLS reply, discarded (D4). */
    readonly discardedPlaintext: number,
    private readonly timeouts: Required<DmtpTimeouts>,
  ) {}

  /** Connects to one DX and brings the session to the ready state. */
  static async open(target: DmtpTarget, options: DmtpClientOptions = {}): Promise<DmtpConnection> {
    const t = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const port = mapPort(options.portOverrides, target.host, target.port);
    const helo = checkName(options.ehlo ?? 'localhost', 'EHLO name');
    checkName(target.host, 'DX host name');
    const reader = new ReplyReader(options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES);
    const raw = await tcpConnect(target.address, port, t.connectMs);
    let socket: net.Socket = raw;
    const command = async (line: string, what: string): Promise<DmtpReply> => {
      if (reader.pending() > 0) {
        throw protocolError('unsolicited', `the server sent data before ${what} was asked`);
      }
      socket.write(`${line}\r\n`);
      return reader.read(what, t.commandMs);
    };
    try {
      let tlsInfo: DmtpTlsInfo;
      let banner: DmtpReply;
      let discarded = 0;
      const checkBanner = (r: DmtpReply) => {
        if (r.code !== 220) throw refused('banner', r);
        if (!bannerHasDmtp(r)) {
          throw protocolError('banner', `${target.host} is not a DMTP server (banner without DMTPv1)`, {
            banner: r.lines,
          });
        }
      };
      if (target.mode === 'dmtp') {
        const up = await startTls(raw, target, options, t.tlsMs, t.ocspMs);
        socket = up.socket;
        tlsInfo = up.info;
        reader.attach(socket);
        banner = await reader.read('banner', t.commandMs);
        checkBanner(banner);
      } else {
        reader.attach(raw);
        banner = await reader.read('banner', t.commandMs);
        checkBanner(banner);
        const hello = await command(`EHLO ${helo}`, 'EHLO');
        if (hello.code !== 250) throw refused('EHLO', hello);
        const st = await command(`STARTTLS <${target.host}> MODE=DMTPv1`, 'STARTTLS');
        if (st.code >= 400) {
          throw tlsFailed(`${target.host} refused STARTTLS MODE=DMTPv1: ${st.code} ${st.lines[0] ?? ''}`, {
            code: st.code,
            reply: st.lines,
          });
        }
        if (st.code >= 300) throw protocolError('unexpected-code', `STARTTLS answered ${st.code}`);
        discarded = reader.detach().length;
        const up = await startTls(raw, target, options, t.tlsMs, t.ocspMs);
        socket = up.socket;
        tlsInfo = up.info;
        reader.attach(socket);
        const mode = await reader.read('STARTTLS (after the handshake)', t.commandMs);
        if (mode.code >= 400) throw refused('STARTTLS', mode);
        const m = parseModeAnswer(mode);
        if (mode.code >= 300 || m === null || m.toUpperCase() !== 'DMTPV1') {
          throw protocolError(
            'mode',
            `after STARTTLS the server did not switch to DMTPv1: ${mode.code} ${mode.lines[0] ?? ''}`,
          );
        }
      }
      const greeting = await command(`EHLO <${helo}>`, 'EHLO');
      if (greeting.code !== 250) {
        if (greeting.code >= 400) throw refused('EHLO', greeting);
        throw protocolError('unexpected-code', `EHLO answered ${greeting.code}`);
      }
      return new DmtpConnection(
        target,
        port,
        socket,
        reader,
        banner,
        parseEhloAnswer(greeting),
        tlsInfo,
        discarded,
        t,
      );
    } catch (e) {
      socket.destroy();
      raw.destroy();
      throw e;
    }
  }

  /** Sends one command line and reads its reply (any code). Broken replies close the connection. */
  async command(line: string, timeoutMs = this.timeouts.commandMs): Promise<DmtpReply> {
    const what = line.split(' ')[0]!.toUpperCase();
    if (Buffer.byteLength(line, 'utf8') + 2 > MAX_COMMAND_LINE) {
      throw new DimeError('BAD_INPUT', `${what} command line over ${MAX_COMMAND_LINE} bytes`);
    }
    if (/[\r\n\0]/.test(line)) throw new DimeError('BAD_INPUT', 'a command line cannot hold CR, LF or NUL');
    this.usable();
    if (this.reader.pending() > 0) {
      this.breakWith(protocolError('unsolicited', `the server sent data before ${what} was asked`));
    }
    this.socket.write(`${line}\r\n`);
    try {
      return await this.reader.read(what, timeoutMs);
    } catch (e) {
      this.breakWith(e);
    }
  }

  /** A command that must answer 2xx (4xx/5xx: DMTP_REFUSED; 1xx/3xx: DMTP_PROTOCOL). */
  private async ok(line: string, timeoutMs?: number): Promise<DmtpReply> {
    const r = await this.command(line, timeoutMs);
    return this.require2xx(line.split(' ')[0]!.toUpperCase(), r);
  }

  private require2xx(what: string, r: DmtpReply): DmtpReply {
    if (r.code >= 200 && r.code < 300) return r;
    if (r.code >= 400) throw refused(what, r);
    this.breakWith(protocolError('unexpected-code', `${what} answered ${r.code}`, { code: r.code }));
  }

  private usable(): void {
    if (this.broken) throw this.broken;
    if (this.closed) throw connectFailed('closed', 'the DMTP connection is closed');
  }

  private breakWith(e: unknown): never {
    const err =
      e instanceof DimeError
        ? e
        : connectFailed('closed', `connection failed: ${(e as Error)?.message ?? e}`);
    this.broken ??= err;
    this.socket.destroy();
    throw err;
  }

  /** `SGNT <name> [fp]`: the binary signet the server holds (not parsed or checked here). */
  async sgnt(name: string, fingerprint?: string | null): Promise<Uint8Array> {
    const fp = fingerprint ? ` [${checkFp(fingerprint, 'fingerprint')}]` : '';
    const r = await this.ok(`SGNT <${checkName(name, 'SGNT name')}>${fp}`);
    return this.answer(() => parseSgntAnswer(r));
  }

  /** `HIST <name> [start] [stop]`: binary signets, oldest first. */
  async hist(name: string, start?: string | null, stop?: string | null): Promise<Uint8Array[]> {
    if (stop && !start) throw new DimeError('BAD_INPUT', 'HIST needs a start fingerprint to name a stop');
    const a = start ? ` [${checkFp(start, 'start fingerprint')}]` : '';
    const b = stop ? ` [${checkFp(stop, 'stop fingerprint')}]` : '';
    const r = await this.ok(`HIST <${checkName(name, 'HIST name')}>${a}${b}`);
    return this.answer(() => parseHistAnswer(r));
  }

  /** `VRFY <name> [fp]`: CURRENT, or UPDATE with the crypto fingerprint of the current signet. */
  async vrfy(name: string, fingerprint: string): Promise<VrfyAnswer> {
    const r = await this.ok(
      `VRFY <${checkName(name, 'VRFY name')}> [${checkFp(fingerprint, 'fingerprint')}]`,
    );
    return this.answer(() => parseVrfyAnswer(r));
  }

  /** STATS, repeated with the nonce when the server asks (`ONCE [nonce]`): the stats lines. */
  async stats(): Promise<readonly string[]> {
    const first = await this.ok('STATS');
    const nonce = this.answer(() => parseStatsOnce(first));
    if (nonce === null) return first.lines;
    checkName(nonce, 'STATS nonce');
    const second = await this.ok(`STATS [${nonce}]`);
    return second.lines;
  }

  async noop(): Promise<void> {
    await this.ok('NOOP');
  }

  async rset(): Promise<void> {
    await this.ok('RSET');
  }

  /** `MAIL FROM:<origin> [fp] SIZE=n`. */
  async mailFrom(origin: string, originFingerprint: string, size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new DimeError('BAD_INPUT', 'SIZE must be a byte count');
    await this.ok(
      `MAIL FROM:<${checkName(origin, 'origin domain')}> [${checkFp(originFingerprint, 'origin fingerprint')}] SIZE=${size}`,
    );
  }

  /** `RCPT TO:<destination> [fp]`. */
  async rcptTo(destination: string, destinationFingerprint: string): Promise<void> {
    await this.ok(
      `RCPT TO:<${checkName(destination, 'destination domain')}> [${checkFp(destinationFingerprint, 'destination fingerprint')}]`,
    );
  }

  /**
   * `DATA [hash]`, then exactly the object's bytes and CRLF, streamed with backpressure; resolves
   * with the transaction id of `250 OK [<id>]`. The 354 must echo the hash (else the connection is
   * closed before any byte is sent: DMTP_PROTOCOL 'hash-mismatch').
   */
  async data(body: MessageBody, hash: string = sha512b64(body)): Promise<string | null> {
    checkFp(hash, 'DATA hash');
    const go = await this.command(`DATA [${hash}]`);
    if (go.code >= 400) throw refused('DATA', go);
    if (go.code < 300) {
      this.breakWith(
        protocolError('unexpected-code', `DATA answered ${go.code} instead of 354`, { code: go.code }),
      );
    }
    const echoed = this.answer(() => parseContinue(go));
    if (echoed !== null && echoed !== hash) {
      this.breakWith(protocolError('hash-mismatch', 'the server echoed another DATA hash', { echoed, hash }));
    }
    try {
      await this.writeBody(body);
    } catch (e) {
      this.breakWith(e);
    }
    const done = await this.reader.read('DATA (end)', this.timeouts.dataMs).catch((e) => this.breakWith(e));
    this.require2xx('DATA', done);
    return this.answer(() => parseDataDone(done));
  }

  /** MAIL, RCPT and DATA for one DIME object (one recipient per transaction, README open points). */
  async send(envelope: MessageEnvelope, body: MessageBody): Promise<SentMessage> {
    const size = body instanceof Uint8Array ? body.length : body.size;
    const hash = sha512b64(body);
    await this.mailFrom(envelope.origin, envelope.originFingerprint, size);
    try {
      await this.rcptTo(envelope.destination, envelope.destinationFingerprint);
    } catch (e) {
      if (e instanceof DimeError && e.code === 'DMTP_REFUSED') await this.rset().catch(() => {});
      throw e;
    }
    const transactionId = await this.data(body, hash);
    return { transactionId, size, hash };
  }

  /** QUIT (221 awaited briefly), then close. Never throws. */
  async quit(): Promise<void> {
    if (!this.closed && !this.broken) {
      try {
        await this.command('QUIT', Math.min(this.timeouts.commandMs, 5_000));
      } catch {
        // closing anyway
      }
    }
    this.close();
  }

  /** Closes the connection at once. */
  close(): void {
    this.closed = true;
    this.reader.detach();
    this.socket.destroy();
  }

  get isOpen(): boolean {
    return !this.closed && !this.broken && !this.socket.destroyed;
  }

  /** Parses an answer; a malformed one closes the connection (the session state is unknown). */
  private answer<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      this.breakWith(e);
    }
  }

  private async writeBody(body: MessageBody): Promise<void> {
    const s = this.socket;
    const ms = this.timeouts.dataMs;
    const deadline = Date.now() + ms;
    const size = body instanceof Uint8Array ? body.length : body.size;
    const write = (chunk: Uint8Array) =>
      new Promise<void>((resolve, reject) => {
        if (s.destroyed) return reject(connectFailed('closed', 'connection closed while sending DATA'));
        if (s.write(chunk)) return resolve();
        const timer = setTimeout(
          () =>
            finish(new DimeError('DMTP_TIMEOUT', `DATA not written within ${ms} ms`, { temporary: true })),
          Math.max(1, deadline - Date.now()),
        );
        const onDrain = () => finish(null);
        const onClose = () => finish(connectFailed('closed', 'connection closed while sending DATA'));
        function finish(err: DimeError | null) {
          clearTimeout(timer);
          s.removeListener('drain', onDrain);
          s.removeListener('close', onClose);
          if (err) reject(err);
          else resolve();
        }
        s.once('drain', onDrain);
        s.once('close', onClose);
      });
    for (let at = 0; at < size; at += CHUNK) {
      const n = Math.min(CHUNK, size - at);
      await write(body instanceof Uint8Array ? body.subarray(at, at + n) : body.read(at, n));
    }
    await write(Buffer.from('\r\n'));
  }
}

export interface ConnectDmtpOptions extends DmtpClientOptions {
  readonly resolver: DimeResolver;
}

export interface DmtpDomainConnection {
  readonly connection: DmtpConnection;
  readonly plan: Extract<DxPlan, { capable: true }>;
}

function attemptOf(c: DxCandidate, address: string | null, e: unknown): ConnectAttempt {
  return {
    host: c.host,
    port: c.port,
    mode: c.mode,
    address,
    code: e instanceof DimeError ? e.code : 'CONNECT_FAILED',
    message: e instanceof Error ? e.message : String(e),
  };
}

/**
 * The client procedure of dmtp.md §5 for `domain`: management record (DNS_BOGUS, DNS_TEMPFAIL,
 * RECORD_MISSING, RECORD_INVALID are thrown before any connection), then each DX candidate in the
 * order of record.md §6 and each of its addresses, until DmtpConnection.open succeeds.
 *
 * When every try fails: TLS_UNTRUSTED if any certificate was refused (flow.md §3: never a plaintext
 * fallback after that); else the common code when all tries failed alike; else CONNECT_FAILED.
 * `context.attempts` lists every try, `context.temporary` is true.
 */
export async function connectDmtp(
  domain: string,
  options: ConnectDmtpOptions,
): Promise<DmtpDomainConnection> {
  const plan = await options.resolver.chooseDxHosts(domain);
  if (!plan.capable) throw plan.error;
  const attempts: ConnectAttempt[] = [];
  const errors: DimeError[] = [];
  for (const c of plan.candidates) {
    let addresses: readonly string[];
    try {
      const found = await options.resolver.lookupAddress(c.host);
      addresses = found.addresses.map((a) => a.address);
      if (addresses.length === 0) throw connectFailed('dns', `${c.host} has no address`);
    } catch (e) {
      attempts.push(attemptOf(c, null, e));
      errors.push(e instanceof DimeError ? e : connectFailed('dns', String(e)));
      continue;
    }
    for (const address of addresses) {
      try {
        const connection = await DmtpConnection.open(
          {
            domain: plan.domain,
            record: plan.record.record,
            dnssec: plan.record.dnssec,
            host: c.host,
            port: c.port,
            mode: c.mode,
            address,
          },
          options,
        );
        connection.attempts = attempts;
        return { connection, plan };
      } catch (e) {
        attempts.push(attemptOf(c, address, e));
        errors.push(e instanceof DimeError ? e : connectFailed('error', String(e)));
        if (!(e instanceof DimeError) || e.code !== 'CONNECT_FAILED') break; // next host
      }
    }
  }
  const summary = attempts
    .map((a) => `${a.host}:${a.port}${a.address ? ` (${a.address})` : ''}: ${a.code}`)
    .join('; ');
  const untrusted = errors.find((e) => e.code === 'TLS_UNTRUSTED');
  const first = errors[0];
  const context = { domain: plan.domain, attempts, temporary: true };
  if (untrusted) {
    throw new DimeError('TLS_UNTRUSTED', `no trusted DX for ${plan.domain}: ${untrusted.message}`, {
      ...untrusted.context,
      ...context,
    });
  }
  if (first && errors.every((e) => e.code === first.code)) {
    throw new DimeError(first.code, `no DX of ${plan.domain} usable: ${first.message}`, {
      ...first.context,
      ...context,
      temporary: first.context.temporary !== false,
    });
  }
  throw connectFailed(
    'error',
    `no DX of ${plan.domain} could be used (${summary || 'no candidates'})`,
    context,
  );
}

export interface DeliveryItem {
  /** Caller's label (for example the recipient address), returned with the result. */
  readonly id: string;
  readonly body: MessageBody;
}

export type DeliveryOutcome =
  | {
      readonly id: string;
      readonly delivered: true;
      readonly transactionId: string | null;
      readonly hash: string;
    }
  | {
      readonly id: string;
      readonly delivered: false;
      readonly temporary: boolean;
      readonly error: DimeError;
    };

/**
 * Sends several DIME objects for one destination domain over one connection, one transaction each
 * (each object has one recipient). A refusal of one (DMTP_REFUSED) does not stop the others; a
 * connection failure gives the same temporary error to every object not yet sent.
 */
export async function deliverMessages(
  connection: DmtpConnection,
  envelope: MessageEnvelope,
  items: readonly DeliveryItem[],
): Promise<DeliveryOutcome[]> {
  const out: DeliveryOutcome[] = [];
  for (const item of items) {
    try {
      const sent = await connection.send(envelope, item.body);
      out.push({ id: item.id, delivered: true, transactionId: sent.transactionId, hash: sent.hash });
    } catch (e) {
      const error = e instanceof DimeError ? e : connectFailed('error', String(e));
      const temporary = error.context.temporary === true;
      out.push({ id: item.id, delivered: false, temporary, error });
      if (!connection.isOpen) {
        for (const rest of items.slice(out.length))
          out.push({ id: rest.id, delivered: false, temporary: true, error });
        break;
      }
    }
  }
  return out;
}
