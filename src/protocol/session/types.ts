/**
 * What a MailSession needs from the outside world: configuration, the hooks the server implements
 * (policy, authentication, storage, signets) and the transport the socket adapter implements.
 */

import type { Signet } from '../../signet/signet.js';
import type { DmtpMode, SignetTarget } from '../dmtp/command.js';
import type { FingerprintArg } from '../dmtp/fingerprint.js';
import type { MailParams } from '../smtp/command.js';
import type { Credentials } from '../smtp/sasl.js';

export type Awaitable<T> = T | Promise<T>;

/** Which command set the session speaks right now. */
export type SessionProtocol = 'smtp' | 'dmtp';

export interface SessionConfig {
  /** This server's name: banner, EHLO, `STARTTLS <host>` default check. */
  hostname: string;
  /** 'smtp': ports 25/587/465 (starts in SMTP); 'dmtp': the dedicated port 26 (TLS from the first byte). */
  protocol: SessionProtocol;
  /** Dual mode (dmtp.md §2.1): advertise DMTPv1 and accept `STARTTLS <host> MODE=DMTPv1`. Default: true for 'smtp' without implicit TLS. */
  dmtpSwitch?: boolean;
  /** The connection is TLS from its first byte (port 26 or implicit-TLS submission on 465). */
  implicitTls?: boolean;
  /** STARTTLS can be offered (the transport has a certificate). Default true. */
  starttls?: boolean;
  /** SMTP AUTH: 'off', 'optional' or 'required' (submission: MAIL needs AUTH). Default 'off'. */
  auth?: 'off' | 'optional' | 'required';
  /** AUTH only over TLS (RFC 4954 §4 advice; always true for submission). Default true. */
  authRequiresTls?: boolean;
  /** SMTP: MAIL only after STARTTLS (submission on 587). Default false. */
  requireTls?: boolean;
  /** Largest message in bytes (SIZE keyword, MAIL SIZE=, DATA/BDAT). Default 10 MiB. */
  maxMessageSize?: number;
  /** Largest recipient count per SMTP transaction (then 452). Default 100. */
  maxRecipients?: number;
  /** Protocol errors (and AUTH failures) tolerated before `421` and close. Default 10. */
  maxErrors?: number;
  /** Extra delay before an error reply, in ms, times the error count (magma's pattern). Default 0. */
  errorDelayMs?: number;
  /** Offer CHUNKING (RFC 3030 BDAT) in SMTP mode. Default true. */
  chunking?: boolean;
  /** Input bytes buffered before the transport is asked to pause reading. Default 256 KiB. */
  inputHighWaterMark?: number;
  /** Idle time in ms before `421` and close; applied by the transport (serveConnection). Default 300 000. */
  idleTimeoutMs?: number;
}

/** TLS state of the connection, as the transport saw the handshake. */
export interface TlsInfo {
  protocol: string | null;
  cipher: string | null;
  /** SNI host name, if the client sent one (libdime sends none in dual mode, D3). */
  servername: string | null;
}

export interface ConnectionInfo {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}

/** A snapshot handed to every hook. */
export interface SessionInfo extends ConnectionInfo {
  id: string;
  hostname: string;
  protocol: SessionProtocol;
  secure: boolean;
  tls: TlsInfo | null;
  /** EHLO/HELO argument of the current greeting, if any. */
  helo: string | null;
  /** Authenticated user (SMTP AUTH), if any. */
  user: string | null;
}

/** A refusal (or a custom 2xx text) from a hook. */
export interface HookReply {
  code: number;
  message: string;
}

/** Policy answer: `undefined`/`null`/`{accept:true}` accepts, `{accept:false,…}` refuses. */
export type Decision =
  | { accept: true; message?: string }
  | ({ accept: false } & HookReply)
  | null
  | undefined;

export function accept(message?: string): Decision {
  return message === undefined ? { accept: true } : { accept: true, message };
}

export function refuse(code: number, message: string): Decision {
  return { accept: false, code, message };
}

export type MailFrom =
  | { protocol: 'smtp'; address: string; params: MailParams }
  | {
      protocol: 'dmtp';
      /** Origin domain. */
      domain: string;
      /** The origin org fingerprint: checked by the hook only when `kind` is 'fingerprint'. */
      fingerprint: FingerprintArg;
      size: number | null;
      ret: 'FULL' | 'HEADER' | 'DISPLAY' | null;
      data: '7BIT' | '8BIT' | null;
    };

export type Recipient =
  | { protocol: 'smtp'; address: string }
  | { protocol: 'dmtp'; domain: string; fingerprint: FingerprintArg };

export interface Envelope {
  protocol: SessionProtocol;
  from: MailFrom;
  /** Accepted recipients (DMTP: exactly one). */
  to: readonly Recipient[];
  /** SMTP body type (BODY=), if given. */
  body: MailParams['body'];
  /** DMTP: the DATA hash argument (null when absent). */
  dataHash: FingerprintArg | null;
  /** How the content arrives: 'data' (SMTP DATA, dot-unstuffed), 'bdat' (CHUNKING) or 'dmtp' (raw SIZE bytes). */
  transfer: 'data' | 'bdat' | 'dmtp';
}

/** Final answer of a message sink: accepted (with a transaction id) or refused. */
export type DeliveryResult =
  | { accept: true; id?: string; message?: string }
  | ({ accept: false } & HookReply);

/**
 * Where DATA/BDAT content goes, piece by piece, as it arrives (never buffered whole by the session).
 * `write` may return a promise for backpressure; `end` is called once after the last byte and
 * decides the reply; `abort` is called instead of `end` when the message is refused or the
 * connection is lost.
 */
export interface MessageSink {
  write(chunk: Uint8Array): Awaitable<void>;
  end(): Promise<DeliveryResult>;
  abort(reason: string): void;
}

export type SignetQuery = SignetTarget & {
  /** Which fingerprint the client named (informational; the session does the matching). */
  fingerprint: string | null;
  command: 'SGNT' | 'HIST' | 'VRFY' | 'RCPT';
};

export type StatsAnswer = { nonce: string } | { lines: readonly string[] };

/** Things worth logging that are not errors (for example libdime's placeholder fingerprint). */
export type SessionEvent =
  | { type: 'placeholder-fingerprint'; command: 'MAIL' | 'RCPT' | 'DATA' }
  | { type: 'starttls-discarded'; bytes: number }
  | { type: 'mode-switch'; mode: DmtpMode }
  | { type: 'hook-error'; hook: string; error: unknown }
  | { type: 'too-many-errors'; errors: number }
  | { type: 'timeout' }
  | { type: 'shutdown' };

export interface SessionHooks {
  /** Before the banner: refuse the connection with a 4xx/5xx. */
  onConnect?(info: SessionInfo): Awaitable<Decision>;
  /** Is `host` one of this server's names (`STARTTLS <host> MODE=DMTPv1`)? Default: equals `hostname`. */
  isLocalHostname?(host: string, info: SessionInfo): Awaitable<boolean>;
  /** SMTP AUTH PLAIN/LOGIN; return the authenticated user name, or a refusal (default 535). */
  authenticate?(credentials: Credentials, info: SessionInfo): Awaitable<{ user: string } | HookReply | null>;
  /** MAIL policy (SMTP sender, or DMTP origin domain + fingerprint: 550 on mismatch, 451 on lookup failure). */
  mailFrom?(from: MailFrom, info: SessionInfo): Awaitable<Decision>;
  /**
   * RCPT policy. SMTP default (no hook): refused with 550. DMTP: the session first checks that the
   * domain has a local org signet (`lookupSignet`) and that a real fingerprint is its current one.
   */
  rcptTo?(rcpt: Recipient, from: MailFrom, info: SessionInfo): Awaitable<Decision>;
  /** Called at DATA/first BDAT: where the content goes. A throw gives 451. */
  openMessageSink(envelope: Envelope, info: SessionInfo): Awaitable<MessageSink>;
  /**
   * The signet chain of a user or organization this server publishes, oldest first, the last one
   * current; null when unknown. Used by SGNT, HIST, VRFY and the DMTP RCPT check.
   */
  lookupSignet?(query: SignetQuery, info: SessionInfo): Awaitable<readonly Signet[] | null>;
  /** DMTP STATS; default `250 OK`. */
  stats?(nonce: string | null, info: SessionInfo): Awaitable<StatsAnswer>;
  /** SMTP VRFY; default `252`. */
  verifyAddress?(target: string, info: SessionInfo): Awaitable<HookReply>;
  /** Notable events (never required). */
  onEvent?(event: SessionEvent, info: SessionInfo): void;
  /** The session is over (QUIT, close, error, timeout). */
  onClose?(info: SessionInfo): void;
}

/** What the session asks of the socket side. */
export interface SessionTransport {
  /** Queue reply bytes for the peer. */
  send(bytes: Uint8Array): void;
  /**
   * The session has sent `220` to STARTTLS. The transport must stop delivering plaintext at once
   * (synchronously), run the server-side TLS handshake, then call `session.tlsEstablished(info)`
   * or `session.tlsFailed(error)`. `profile` is 'dmtp' for `STARTTLS <host> MODE=DMTPv1`.
   */
  startTls(profile: 'smtp' | 'dmtp'): void;
  /** Flush what was sent and close the connection. */
  close(): void;
  /** Stop reading (input buffer over its high-water mark) / read again. */
  pause?(): void;
  resume?(): void;
}
