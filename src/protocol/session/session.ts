/**
 * MailSession: the one connection state machine shared by SMTP (RFC 5321 with PIPELINING, SIZE,
 * 8BITMIME, CHUNKING, STARTTLS, AUTH) and DMTP (dmtp.md §2–§4, §8, §9). It is fed bytes, writes
 * reply bytes to its transport, and asks the transport for the TLS upgrade. Everything outside
 * the protocol (policy, credentials, storage, signets) goes through SessionHooks.
 *
 * Input is handled strictly in order, one command at a time, so pipelined commands are answered
 * in order and nothing is read ahead past DATA, BDAT or STARTTLS: the bytes after those are
 * interpreted only once the command's outcome is known, and the bytes after STARTTLS are dropped.
 */

import { createHash, type Hash, randomBytes } from 'node:crypto';
import { toBase64Unpadded } from '../../encoding/base64.js';
import { type DmtpCommand, parseDmtpCommand } from '../dmtp/command.js';
import type { FingerprintArg } from '../dmtp/fingerprint.js';
import { findInChain, histReply, sgntReply, vrfyReply } from '../dmtp/signets.js';
import { parseSmtpCommand, type SmtpCommand } from '../smtp/command.js';
import { DotDataDecoder } from '../smtp/dot-data.js';
import { InputQueue, type LineResult } from '../smtp/line-reader.js';
import { encodeReply, isValidReplyCode, type Reply, reply } from '../smtp/reply.js';
import {
  type Credentials,
  decodeSaslBase64,
  LOGIN_PASSWORD_CHALLENGE,
  LOGIN_USERNAME_CHALLENGE,
  parseLoginField,
  parsePlainMessage,
} from '../smtp/sasl.js';
import { COMMAND_LINE_LIMIT, type ResolvedConfig, resolveConfig, SASL_LINE_LIMIT } from './config.js';
import type {
  ConnectionInfo,
  Decision,
  Envelope,
  HookReply,
  MailFrom,
  MessageSink,
  Recipient,
  SessionConfig,
  SessionEvent,
  SessionHooks,
  SessionInfo,
  SessionProtocol,
  SessionTransport,
  TlsInfo,
} from './types.js';

export type SessionPhase = 'new' | 'open' | 'tls-pending' | 'closed';

interface Transaction {
  from: MailFrom;
  to: Recipient[];
  rcptAttempts: number;
  /** Active BDAT transfer (SMTP CHUNKING), if any. */
  bdat: Transfer | null;
}

interface Transfer {
  sink: MessageSink;
  received: number;
  /** Set once the message is refused; the sink has then been aborted. */
  refusal: Reply | null;
  hash: Hash | null;
}

type InputMode =
  | { kind: 'command' }
  | { kind: 'sasl'; mechanism: 'PLAIN' | 'LOGIN'; username: string | null }
  | { kind: 'dot'; decoder: DotDataDecoder; transfer: Transfer }
  | {
      kind: 'counted';
      remaining: number;
      transfer: Transfer | null;
      done: () => Promise<void>;
    }
  | { kind: 'dmtp-end'; transfer: Transfer; hash: FingerprintArg | null };

const TRANSACTION_ID = /^[\x21-\x5c\x5e-\x7e]{1,64}$/;

function isRefusal(d: Decision): d is { accept: false } & HookReply {
  return !!d && d.accept === false;
}

let sessionCounter = 0;

export class MailSession {
  readonly config: ResolvedConfig;
  private readonly hooks: SessionHooks;
  private transport: SessionTransport | null = null;
  private readonly queue = new InputQueue();
  private phase: SessionPhase = 'new';
  private protocol: SessionProtocol;
  private secure: boolean;
  private tls: TlsInfo | null = null;
  private connection: ConnectionInfo = {};
  private readonly id: string;
  private helo: string | null = null;
  private user: string | null = null;
  private tx: Transaction | null = null;
  private mode: InputMode = { kind: 'command' };
  private errors = 0;
  private pendingTls: { mode: 'SMTP' | 'ESMTP' | 'DMTPv1' | null } | null = null;
  private running = false;
  private dirty = false;
  private paused = false;
  private idleWaiters: (() => void)[] = [];
  private closeNotified = false;
  private openTransfer: Transfer | null = null;
  private inputClosed = false;

  constructor(config: SessionConfig, hooks: SessionHooks) {
    this.config = resolveConfig(config);
    this.hooks = hooks;
    this.protocol = this.config.protocol;
    this.secure = this.config.implicitTls;
    this.id = `${Date.now().toString(36)}-${(++sessionCounter).toString(36)}-${randomBytes(3).toString('hex')}`;
  }

  /** Wires the session to its transport; `tls` describes an implicit-TLS handshake already done. */
  attach(transport: SessionTransport, connection: ConnectionInfo = {}, tls: TlsInfo | null = null): void {
    this.transport = transport;
    this.connection = { ...connection };
    if (tls) {
      this.tls = tls;
      this.secure = true;
    }
  }

  /** Sends the banner (after the onConnect hook) and starts processing input. */
  start(): void {
    void this.run();
  }

  get state(): SessionPhase {
    return this.phase;
  }

  get currentProtocol(): SessionProtocol {
    return this.protocol;
  }

  get isSecure(): boolean {
    return this.secure;
  }

  get info(): SessionInfo {
    return {
      ...this.connection,
      id: this.id,
      hostname: this.config.hostname,
      protocol: this.protocol,
      secure: this.secure,
      tls: this.tls ? { ...this.tls } : null,
      helo: this.helo,
      user: this.user,
    };
  }

  /** Bytes from the peer. */
  feed(bytes: Uint8Array): void {
    if (this.phase === 'closed' || bytes.length === 0) return;
    if (this.phase === 'tls-pending') {
      // Plaintext after STARTTLS and before the handshake is never processed (CVE-2011-0411 class).
      this.emit({ type: 'starttls-discarded', bytes: bytes.length });
      return;
    }
    this.queue.push(bytes);
    this.dirty = true;
    if (!this.paused && this.queue.length > this.config.inputHighWaterMark) {
      this.paused = true;
      this.transport?.pause?.();
    }
    void this.run();
  }

  /** The transport finished the TLS handshake that the session asked for. */
  tlsEstablished(tls: TlsInfo): void {
    if (this.phase !== 'tls-pending' || !this.pendingTls) return;
    const mode = this.pendingTls.mode;
    this.pendingTls = null;
    this.secure = true;
    this.tls = tls;
    // RFC 3207 §4.2: forget everything learned before TLS (greeting, AUTH, transaction).
    this.helo = null;
    this.user = null;
    this.resetTransaction('tls');
    this.queue.clear();
    this.paused = false;
    this.phase = 'open';
    if (mode) {
      if (mode === 'DMTPv1') {
        this.protocol = 'dmtp';
        this.emit({ type: 'mode-switch', mode });
      }
      // dmtp.md §2.1, §8 D5: the first line inside TLS is exactly `250 OK <mode>`.
      this.send(reply(250, `OK ${mode}`));
    }
    void this.run();
  }

  /** The TLS handshake failed: the connection cannot go on. */
  tlsFailed(_error?: unknown): void {
    if (this.phase === 'closed') return;
    this.shutdown();
  }

  /** Idle timeout (the transport keeps the timer): `421` and close. */
  timeout(): void {
    this.closeWith421({ type: 'timeout' }, 'Error: timeout exceeded');
  }

  /** The server is shutting down (RFC 5321 §3.8): `421 … closing transmission channel` and close. */
  serviceClosing(): void {
    this.closeWith421({ type: 'shutdown' }, 'Service not available, closing transmission channel');
  }

  private closeWith421(event: SessionEvent, text: string): void {
    if (this.phase === 'closed') return;
    this.emit(event);
    if (this.phase === 'open') this.send(reply(421, `${this.config.hostname} ${text}`));
    this.shutdown();
  }

  /**
   * The peer finished sending (TCP FIN / TLS close): what it sent is still answered in order,
   * then the session closes; a message still being received is aborted.
   */
  inputEnded(): void {
    if (this.phase === 'closed' || this.inputClosed) return;
    this.inputClosed = true;
    if (this.phase === 'tls-pending') {
      this.shutdown();
      return;
    }
    void this.run();
  }

  /** The connection is gone (a close without QUIT is normal for libdime, D17): nothing more is sent. */
  remoteClosed(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.abortTransfers('connection closed');
    this.notifyClose();
    this.wakeIdle();
  }

  /** Resolves once all input fed so far has been handled as far as it can be (for tests). */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // ---------------------------------------------------------------- machinery

  private emit(event: SessionEvent): void {
    try {
      this.hooks.onEvent?.(event, this.info);
    } catch {
      // a logging hook must not break the session
    }
  }

  private send(r: Reply): void {
    if (this.phase === 'closed') return;
    this.transport?.send(encodeReply(r));
  }

  private shutdown(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.abortTransfers('session closed');
    this.transport?.close();
    this.notifyClose();
    this.wakeIdle();
  }

  private notifyClose(): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    try {
      this.hooks.onClose?.(this.info);
    } catch {
      // ignore
    }
  }

  private wakeIdle(): void {
    if (this.running) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private abortTransfers(reason: string): void {
    const t = this.openTransfer;
    this.openTransfer = null;
    if (t && !t.refusal) {
      t.refusal = reply(451, reason);
      this.safeAbort(t.sink, reason);
    }
  }

  private safeAbort(sink: MessageSink, reason: string): void {
    try {
      sink.abort(reason);
    } catch (error) {
      this.emit({ type: 'hook-error', hook: 'abort', error });
    }
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.phase === 'new' || this.phase === 'open') {
        this.dirty = false;
        const progressed = await this.step();
        if (!progressed && !this.dirty) break;
      }
      if (this.inputClosed && this.phase === 'open') this.shutdown();
    } catch (error) {
      this.emit({ type: 'hook-error', hook: 'session', error });
      this.send(reply(421, `${this.config.hostname} Error: local error, closing connection`));
      this.shutdown();
    } finally {
      this.running = false;
      // The loop stops only when it needs more input (or the session is closed / awaiting TLS,
      // where the transport must not be resumed: it would read plaintext past STARTTLS).
      if (this.paused && this.phase === 'open') {
        this.paused = false;
        this.transport?.resume?.();
      }
      this.wakeIdle();
    }
  }

  /** One unit of work; false when nothing can be done until more input arrives. */
  private async step(): Promise<boolean> {
    if (this.phase === 'new') {
      await this.greet();
      return true;
    }
    const mode = this.mode;
    switch (mode.kind) {
      case 'command':
      case 'sasl': {
        const limit =
          mode.kind === 'sasl' || (this.protocol === 'smtp' && this.config.auth !== 'off')
            ? SASL_LINE_LIMIT
            : COMMAND_LINE_LIMIT;
        const line = this.queue.readLine(limit);
        if (!line) return false;
        if (mode.kind === 'sasl') await this.saslLine(mode, line);
        else await this.commandLine(line);
        return true;
      }
      case 'dot':
        return this.dotData(mode);
      case 'counted':
        return this.countedData(mode);
      case 'dmtp-end': {
        const line = this.queue.readLine(COMMAND_LINE_LIMIT);
        if (!line) return false;
        this.mode = { kind: 'command' };
        if (line.kind !== 'line' || line.bytes.length > 0) {
          this.refuse(mode.transfer, reply(554, 'message data not followed by CRLF'));
        }
        await this.finishDmtpData(mode.transfer, mode.hash);
        return true;
      }
    }
  }

  private async greet(): Promise<void> {
    const d = await this.callHook('onConnect', () => this.hooks.onConnect?.(this.info));
    if (d.failed || isRefusal(d.value)) {
      const r = d.failed
        ? reply(421, `${this.config.hostname} Service not available`)
        : this.hookReply(d.value as HookReply, 554);
      this.send(r.code < 400 ? reply(554, r.lines[0] ?? 'No service here') : r);
      this.shutdown();
      return;
    }
    this.phase = 'open';
    const host = this.config.hostname;
    if (this.protocol === 'dmtp') this.send(reply(220, `${host} DMTPv1`));
    else this.send(reply(220, this.config.dmtpSwitch ? `${host} ESMTP DMTPv1` : `${host} ESMTP`));
  }

  private async callHook<T>(
    name: string,
    fn: () => T | Promise<T>,
  ): Promise<{ failed: boolean; value: T | undefined }> {
    try {
      return { failed: false, value: await fn() };
    } catch (error) {
      this.emit({ type: 'hook-error', hook: name, error });
      return { failed: true, value: undefined };
    }
  }

  /** A hook's reply, checked: a bad code becomes `fallback`; DMTP texts stay on one line. */
  private hookReply(h: HookReply, fallback: number): Reply {
    const code = isValidReplyCode(h.code) ? h.code : fallback;
    const text = typeof h.message === 'string' && h.message.length > 0 ? h.message : 'refused';
    return reply(code, text.replace(/[\r\n]+/g, ' '));
  }

  private decisionReply(d: Decision, ok: Reply): Reply {
    if (isRefusal(d)) {
      const r = this.hookReply(d, 550);
      return r.code < 400 ? reply(550, r.lines[0] ?? 'refused') : r;
    }
    if (d?.accept && d.message && this.protocol === 'smtp')
      return reply(ok.code, d.message.replace(/[\r\n]+/g, ' '));
    return ok;
  }

  /** A protocol violation: counts toward the limit, then the reply (or none), then maybe 421. */
  private async violation(r: Reply | null): Promise<void> {
    this.errors++;
    if (this.config.errorDelayMs > 0) {
      await new Promise((res) => setTimeout(res, this.config.errorDelayMs * this.errors));
    }
    if (r) this.send(r);
    if (this.errors >= this.config.maxErrors) {
      this.emit({ type: 'too-many-errors', errors: this.errors });
      this.send(reply(421, `${this.config.hostname} Error: too many errors`));
      this.shutdown();
    }
  }

  private resetTransaction(reason: string): void {
    if (this.tx?.bdat && !this.tx.bdat.refusal) {
      this.tx.bdat.refusal = reply(451, reason);
      this.safeAbort(this.tx.bdat.sink, reason);
    }
    this.tx = null;
  }

  // ---------------------------------------------------------------- command lines

  private async commandLine(line: LineResult): Promise<void> {
    const dmtp = this.protocol === 'dmtp';
    if (line.kind === 'overlong') {
      await this.violation(reply(500, dmtp ? 'line too long' : 'Error: line too long'));
      return;
    }
    // A command line may end in a bare LF in both modes (dmtp.md §1: the libdime formatter, also in
    // the plaintext phase of dual mode); only message data is strict about line ends (dot-data.ts).
    if (line.bytes.includes(0)) {
      await this.violation(reply(500, dmtp ? 'INVALID COMMAND' : 'Error: NUL character in command'));
      return;
    }
    if (line.bytes.length === 0) {
      // dmtp.md §9: an empty line gets no reply and counts as a spin.
      await this.violation(dmtp ? null : reply(500, 'Error: empty command'));
      return;
    }
    const text = latin1(line.bytes);
    if (dmtp) {
      const parsed = parseDmtpCommand(text);
      if (!parsed.ok) {
        await this.violation(reply(parsed.error.code, parsed.error.message));
        return;
      }
      await this.dmtpCommand(parsed.command);
      return;
    }
    const parsed = parseSmtpCommand(text);
    if (line.length > COMMAND_LINE_LIMIT && !(parsed.ok && parsed.command.verb === 'AUTH')) {
      await this.violation(reply(500, 'Error: line too long'));
      return;
    }
    if (!parsed.ok) {
      await this.violation(reply(parsed.error.code, parsed.error.message));
      return;
    }
    await this.smtpCommand(parsed.command);
  }

  // ---------------------------------------------------------------- SMTP

  private ehloLines(): string[] {
    const c = this.config;
    const lines = [c.hostname, 'PIPELINING', `SIZE ${c.maxMessageSize}`, '8BITMIME'];
    if (c.chunking) lines.push('CHUNKING');
    if (c.starttls && !this.secure) lines.push('STARTTLS');
    if (c.auth !== 'off' && (this.secure || !c.authRequiresTls)) lines.push('AUTH PLAIN LOGIN');
    if (c.dmtpSwitch && !this.secure && c.starttls) lines.push('DMTPv1');
    return lines;
  }

  private async smtpCommand(cmd: SmtpCommand): Promise<void> {
    switch (cmd.verb) {
      case 'EHLO':
      case 'HELO':
        this.resetTransaction('new greeting');
        this.helo = cmd.host;
        this.send(cmd.verb === 'EHLO' ? reply(250, ...this.ehloLines()) : reply(250, this.config.hostname));
        return;
      case 'MAIL':
        return this.smtpMail(cmd);
      case 'RCPT':
        return this.smtpRcpt(cmd.address);
      case 'DATA':
        return this.smtpData();
      case 'BDAT':
        return this.smtpBdat(cmd.size, cmd.last);
      case 'RSET':
        this.resetTransaction('RSET');
        this.send(reply(250, 'OK'));
        return;
      case 'NOOP':
        this.send(reply(250, 'OK'));
        return;
      case 'QUIT':
        this.send(reply(221, `${this.config.hostname} closing connection`));
        this.shutdown();
        return;
      case 'HELP':
        this.send(reply(214, 'See RFC 5321 (and dmtp.md for DMTP)'));
        return;
      case 'MODE':
        this.send(reply(250, 'OK SMTP'));
        return;
      case 'VRFY': {
        const h = await this.callHook('verifyAddress', () =>
          this.hooks.verifyAddress?.(cmd.target, this.info),
        );
        if (h.failed) this.send(reply(451, 'local error'));
        else if (h.value) this.send(this.hookReply(h.value, 252));
        else this.send(reply(252, 'Cannot VRFY user, but will accept message and attempt delivery'));
        return;
      }
      case 'EXPN':
        this.send(reply(502, 'EXPN not supported'));
        return;
      case 'VERB':
        this.send(reply(502, 'VERB not supported'));
        return;
      case 'SGNT':
      case 'HIST':
      case 'STATS':
        await this.violation(
          reply(503, `${cmd.verb} is a DMTP command: switch with STARTTLS <host> MODE=DMTPv1`),
        );
        return;
      case 'STARTTLS':
        return this.smtpStartTls(cmd.dmtp);
      case 'AUTH':
        return this.smtpAuth(cmd.mechanism, cmd.initialResponse);
    }
  }

  private async smtpMail(cmd: Extract<SmtpCommand, { verb: 'MAIL' }>): Promise<void> {
    const c = this.config;
    if (!this.helo) return this.violation(reply(503, 'Error: send HELO/EHLO first'));
    if (this.tx) return this.violation(reply(503, 'Error: nested MAIL command'));
    if (c.requireTls && !this.secure)
      return this.violation(reply(530, 'Must issue a STARTTLS command first'));
    if (c.auth === 'required' && !this.user) return this.violation(reply(530, 'Authentication required'));
    if (cmd.params.body === 'BINARYMIME') return this.violation(reply(555, 'BODY=BINARYMIME not supported'));
    if (cmd.params.size !== null && cmd.params.size > c.maxMessageSize) {
      this.send(reply(552, 'Message size exceeds fixed maximum message size'));
      return;
    }
    const from: MailFrom = { protocol: 'smtp', address: cmd.address, params: cmd.params };
    const d = await this.callHook('mailFrom', () => this.hooks.mailFrom?.(from, this.info));
    if (d.failed) return this.send(reply(451, 'Temporary local error'));
    const r = this.decisionReply(d.value, reply(250, 'OK'));
    if (r.code === 250) this.tx = { from, to: [], rcptAttempts: 0, bdat: null };
    this.send(r);
  }

  private async smtpRcpt(address: string): Promise<void> {
    const tx = this.tx;
    if (!tx) return this.violation(reply(503, 'Error: need MAIL command'));
    if (tx.bdat) return this.violation(reply(503, 'Error: RCPT during BDAT'));
    if (tx.to.length >= this.config.maxRecipients) {
      this.send(reply(452, 'Too many recipients'));
      return;
    }
    tx.rcptAttempts++;
    const rcpt: Recipient = { protocol: 'smtp', address };
    if (!this.hooks.rcptTo) {
      this.send(reply(550, 'Mailbox unavailable'));
      return;
    }
    const d = await this.callHook('rcptTo', () => this.hooks.rcptTo?.(rcpt, tx.from, this.info));
    if (d.failed) return this.send(reply(451, 'Temporary local error'));
    const r = this.decisionReply(d.value, reply(250, 'OK'));
    if (r.code >= 200 && r.code < 300 && this.tx === tx) tx.to.push(rcpt);
    this.send(r);
  }

  private envelope(
    tx: Transaction,
    transfer: Envelope['transfer'],
    dataHash: FingerprintArg | null,
  ): Envelope {
    return {
      protocol: tx.from.protocol,
      from: tx.from,
      to: [...tx.to],
      body: tx.from.protocol === 'smtp' ? tx.from.params.body : null,
      dataHash,
      transfer,
    };
  }

  private async openTransferFor(envelope: Envelope, withHash: boolean): Promise<Transfer | null> {
    const h = await this.callHook('openMessageSink', () => this.hooks.openMessageSink(envelope, this.info));
    if (h.failed || !h.value) return null;
    const t: Transfer = {
      sink: h.value,
      received: 0,
      refusal: null,
      hash: withHash ? createHash('sha512') : null,
    };
    this.openTransfer = t;
    return t;
  }

  private noRecipients(tx: Transaction | null): Reply {
    if (tx && tx.rcptAttempts > 0) return reply(554, 'No valid recipients');
    return reply(503, tx ? 'Error: need RCPT command' : 'Error: need MAIL command');
  }

  private async smtpData(): Promise<void> {
    const tx = this.tx;
    if (!tx || tx.to.length === 0) {
      const r = this.noRecipients(tx);
      return r.code === 503 ? this.violation(r) : this.send(r);
    }
    if (tx.bdat) return this.violation(reply(503, 'Error: DATA during BDAT'));
    const t = await this.openTransferFor(this.envelope(tx, 'data', null), false);
    if (!t) {
      this.send(reply(451, 'Temporary local error'));
      return;
    }
    this.mode = { kind: 'dot', decoder: new DotDataDecoder(), transfer: t };
    this.send(reply(354, 'End data with <CR><LF>.<CR><LF>'));
  }

  private refuse(t: Transfer, r: Reply): void {
    if (t.refusal) return;
    t.refusal = r;
    this.safeAbort(t.sink, r.lines[0] ?? 'refused');
  }

  /** Hands a piece of content to the sink, enforcing the size limit. */
  private async deliver(t: Transfer, piece: Uint8Array): Promise<void> {
    if (t.refusal || piece.length === 0) return;
    t.received += piece.length;
    if (t.received > this.config.maxMessageSize) {
      this.refuse(t, reply(552, 'Message size exceeds fixed maximum message size'));
      return;
    }
    t.hash?.update(piece);
    try {
      await t.sink.write(piece);
    } catch (error) {
      this.emit({ type: 'hook-error', hook: 'write', error });
      this.refuse(t, reply(451, 'Local error in processing'));
    }
  }

  private async dotData(mode: Extract<InputMode, { kind: 'dot' }>): Promise<boolean> {
    const chunk = this.queue.take();
    if (!chunk) return false;
    const t = mode.transfer;
    const res = mode.decoder.decode(chunk);
    if (mode.decoder.violation) {
      this.refuse(t, reply(554, 'Error: bare <CR> or <LF> in message data, message discarded'));
    }
    for (const p of res.pieces) await this.deliver(t, p);
    if (!res.done) return true;
    this.queue.unshift(chunk.subarray(res.consumed));
    this.mode = { kind: 'command' };
    this.tx = null;
    this.send(await this.finish(t, (id) => reply(250, `OK: queued as ${id}`)));
    return true;
  }

  /** Ends a transfer: the refusal, or the sink's verdict. */
  private async finish(t: Transfer, ok: (id: string) => Reply): Promise<Reply> {
    this.openTransfer = null;
    if (t.refusal) return t.refusal;
    const h = await this.callHook('end', () => t.sink.end());
    if (h.failed || !h.value) return reply(451, 'Local error in processing');
    const v = h.value;
    if (!v.accept) {
      const r = this.hookReply(v, 554);
      return r.code < 400 ? reply(554, r.lines[0] ?? 'refused') : r;
    }
    const id = v.id && TRANSACTION_ID.test(v.id) ? v.id : randomBytes(8).toString('hex');
    return ok(id);
  }

  private async countedData(mode: Extract<InputMode, { kind: 'counted' }>): Promise<boolean> {
    if (mode.remaining > 0) {
      const piece = this.queue.take(mode.remaining);
      if (!piece) return false;
      mode.remaining -= piece.length;
      if (mode.transfer) await this.deliver(mode.transfer, piece);
    }
    if (mode.remaining === 0) {
      this.mode = { kind: 'command' };
      await mode.done();
    }
    return true;
  }

  private async smtpBdat(size: number, last: boolean): Promise<void> {
    const tx = this.tx;
    // RFC 3030 §2: the chunk follows the command whatever the outcome; a refused chunk is read and dropped.
    const discard = (r: Reply, count: boolean) => {
      this.mode = {
        kind: 'counted',
        remaining: size,
        transfer: null,
        done: async () => {
          if (count) await this.violation(r);
          else this.send(r);
        },
      };
    };
    if (!this.config.chunking) return discard(reply(502, 'BDAT not supported'), true);
    if (!tx || tx.to.length === 0) {
      // Not counted as violations: a client pipelining BDAT chunks gets one 503 per chunk.
      return discard(this.noRecipients(tx), false);
    }
    let t = tx.bdat;
    if (!t) {
      t = await this.openTransferFor(this.envelope(tx, 'bdat', null), false);
      if (!t) {
        this.resetTransaction('sink failure');
        return discard(reply(451, 'Temporary local error'), false);
      }
      tx.bdat = t;
    }
    const transfer = t;
    this.mode = {
      kind: 'counted',
      remaining: size,
      transfer,
      done: async () => {
        if (!last) {
          if (transfer.refusal) {
            const r = transfer.refusal;
            this.openTransfer = null;
            this.tx = null;
            this.send(r);
          } else this.send(reply(250, `${size} octets received`));
          return;
        }
        this.tx = null;
        this.send(await this.finish(transfer, (id) => reply(250, `OK: queued as ${id}`)));
      },
    };
  }

  private async smtpStartTls(
    dmtp: { host: string; mode: 'DMTPv1' | 'SMTP' | 'ESMTP' } | null,
  ): Promise<void> {
    const c = this.config;
    if (dmtp && !c.dmtpSwitch) return this.violation(reply(501, 'Syntax: STARTTLS (no parameters)'));
    if (this.secure) return this.violation(reply(503, 'TLS already active'));
    if (!c.starttls) {
      this.send(reply(454, 'TLS not available due to temporary reason'));
      return;
    }
    if (dmtp) {
      const h = await this.callHook('isLocalHostname', () =>
        this.hooks.isLocalHostname
          ? this.hooks.isLocalHostname(dmtp.host, this.info)
          : dmtp.host.toLowerCase() === c.hostname.toLowerCase(),
      );
      if (h.failed) {
        this.send(reply(454, 'TLS not available due to temporary reason'));
        return;
      }
      if (!h.value) return this.violation(reply(501, `${dmtp.host} is not a name of this server`));
    }
    this.beginTls(dmtp ? dmtp.mode : null, dmtp ? 'READY' : 'Ready to start TLS');
  }

  private beginTls(mode: 'DMTPv1' | 'SMTP' | 'ESMTP' | null, text: string): void {
    this.resetTransaction('STARTTLS');
    this.send(reply(220, text));
    const dropped = this.queue.clear();
    if (dropped > 0) this.emit({ type: 'starttls-discarded', bytes: dropped });
    this.pendingTls = { mode };
    this.phase = 'tls-pending';
    this.mode = { kind: 'command' };
    // Synchronously after the 220, so no plaintext can slip in between.
    this.transport?.startTls(mode === 'DMTPv1' ? 'dmtp' : 'smtp');
  }

  // ---------------------------------------------------------------- SMTP AUTH

  private async smtpAuth(mechanism: string, initial: string | null): Promise<void> {
    const c = this.config;
    if (c.auth === 'off') return this.violation(reply(502, 'AUTH not supported'));
    if (!this.helo) return this.violation(reply(503, 'Error: send EHLO first'));
    if (!this.secure && c.authRequiresTls) {
      return this.violation(reply(538, 'Encryption required for requested authentication mechanism'));
    }
    if (this.user) return this.violation(reply(503, 'Already authenticated'));
    if (this.tx) return this.violation(reply(503, 'AUTH not allowed during a mail transaction'));
    if (mechanism === 'PLAIN') {
      if (initial === null) {
        this.mode = { kind: 'sasl', mechanism: 'PLAIN', username: null };
        this.send(reply(334, ''));
        return;
      }
      const bytes = decodeSaslBase64(initial);
      const creds = bytes ? parsePlainMessage(bytes) : null;
      if (!creds) return this.violation(reply(501, 'Malformed authentication data'));
      return this.checkCredentials(creds);
    }
    if (mechanism === 'LOGIN') {
      if (initial === null) {
        this.mode = { kind: 'sasl', mechanism: 'LOGIN', username: null };
        this.send(reply(334, LOGIN_USERNAME_CHALLENGE));
        return;
      }
      const username = parseLoginField(initial);
      if (username === null || username.length === 0)
        return this.violation(reply(501, 'Malformed authentication data'));
      this.mode = { kind: 'sasl', mechanism: 'LOGIN', username };
      this.send(reply(334, LOGIN_PASSWORD_CHALLENGE));
      return;
    }
    return this.violation(reply(504, 'Unrecognized authentication type'));
  }

  private async saslLine(mode: Extract<InputMode, { kind: 'sasl' }>, line: LineResult): Promise<void> {
    this.mode = { kind: 'command' };
    if (line.kind !== 'line') {
      return this.violation(reply(501, 'Malformed authentication data'));
    }
    const text = latin1(line.bytes);
    if (text === '*') return this.violation(reply(501, 'Authentication cancelled'));
    if (mode.mechanism === 'PLAIN') {
      const bytes = decodeSaslBase64(text);
      const creds = bytes ? parsePlainMessage(bytes) : null;
      if (!creds) return this.violation(reply(501, 'Malformed authentication data'));
      return this.checkCredentials(creds);
    }
    const field = parseLoginField(text);
    if (field === null) return this.violation(reply(501, 'Malformed authentication data'));
    if (mode.username === null) {
      if (field.length === 0) return this.violation(reply(501, 'Malformed authentication data'));
      this.mode = { kind: 'sasl', mechanism: 'LOGIN', username: field };
      this.send(reply(334, LOGIN_PASSWORD_CHALLENGE));
      return;
    }
    return this.checkCredentials({
      mechanism: 'LOGIN',
      authzid: '',
      username: mode.username,
      password: field,
    });
  }

  private async checkCredentials(creds: Credentials): Promise<void> {
    if (!this.hooks.authenticate) return this.violation(reply(535, 'Authentication credentials invalid'));
    const h = await this.callHook('authenticate', () => this.hooks.authenticate?.(creds, this.info));
    if (h.failed) {
      this.send(reply(454, 'Temporary authentication failure'));
      return;
    }
    const v = h.value;
    if (v && 'user' in v && typeof v.user === 'string') {
      this.user = v.user;
      this.send(reply(235, 'Authentication successful'));
      return;
    }
    const r = v && 'code' in v ? this.hookReply(v, 535) : reply(535, 'Authentication credentials invalid');
    return this.violation(r.code < 400 ? reply(535, 'Authentication credentials invalid') : r);
  }

  // ---------------------------------------------------------------- DMTP

  private async dmtpCommand(cmd: DmtpCommand): Promise<void> {
    const host = this.config.hostname;
    switch (cmd.verb) {
      case 'HELO':
      case 'EHLO':
        this.resetTransaction('new greeting');
        this.helo = cmd.host;
        this.send(
          cmd.verb === 'EHLO'
            ? reply(250, host, `SIZE ${this.config.maxMessageSize}`, 'DMTPv1')
            : reply(250, host),
        );
        return;
      case 'MODE':
        this.send(reply(250, 'OK DMTPv1'));
        return;
      case 'STARTTLS':
        // dmtp.md §9: after the switch, and on the dedicated port, TLS is already up.
        return this.violation(reply(503, 'TLS already active'));
      case 'MAIL':
        return this.dmtpMail(cmd);
      case 'RCPT':
        return this.dmtpRcpt(cmd);
      case 'DATA':
        return this.dmtpData(cmd.hash);
      case 'SGNT':
      case 'HIST':
      case 'VRFY':
        return this.dmtpSignet(cmd);
      case 'STATS':
        return this.dmtpStats(cmd.nonce);
      case 'NOOP':
        this.send(reply(250, 'OK'));
        return;
      case 'RSET':
        this.resetTransaction('RSET');
        this.send(reply(250, 'OK'));
        return;
      case 'HELP':
        this.send(
          reply(214, 'DMTPv1: EHLO HELO MODE MAIL RCPT DATA SGNT HIST VRFY STATS NOOP RSET HELP QUIT'),
        );
        return;
      case 'VERB':
        this.send(reply(502, 'VERB disabled'));
        return;
      case 'QUIT':
        this.send(reply(221, 'BYE'));
        this.shutdown();
        return;
    }
  }

  private async dmtpMail(cmd: Extract<DmtpCommand, { verb: 'MAIL' }>): Promise<void> {
    if (!this.helo) return this.violation(reply(503, 'send EHLO first'));
    if (this.tx) return this.violation(reply(503, 'nested MAIL command'));
    if (cmd.size !== null && cmd.size > this.config.maxMessageSize) {
      this.send(reply(552, `SIZE exceeds the limit of ${this.config.maxMessageSize} bytes`));
      return;
    }
    if (cmd.fingerprint.kind !== 'fingerprint')
      this.emit({ type: 'placeholder-fingerprint', command: 'MAIL' });
    const from: MailFrom = {
      protocol: 'dmtp',
      domain: cmd.domain,
      fingerprint: cmd.fingerprint,
      size: cmd.size,
      ret: cmd.ret,
      data: cmd.data,
    };
    const d = await this.callHook('mailFrom', () => this.hooks.mailFrom?.(from, this.info));
    if (d.failed) return this.send(reply(451, 'temporary lookup failure'));
    const r = this.decisionReply(d.value, reply(250, 'OK'));
    if (r.code >= 200 && r.code < 300) {
      this.tx = { from, to: [], rcptAttempts: 0, bdat: null };
      this.send(reply(250, 'OK'));
    } else this.send(r);
  }

  private async dmtpRcpt(cmd: Extract<DmtpCommand, { verb: 'RCPT' }>): Promise<void> {
    const tx = this.tx;
    if (!tx) return this.violation(reply(503, 'need MAIL command'));
    const prev = tx.to[0];
    if (prev && prev.protocol === 'dmtp') {
      // README open point (decided default): one RCPT per DMTP transaction; an identical repeat is a no-op.
      if (
        prev.domain.toLowerCase() === cmd.domain.toLowerCase() &&
        sameFingerprint(prev.fingerprint, cmd.fingerprint)
      ) {
        this.send(reply(250, 'OK'));
        return;
      }
      return this.violation(reply(503, 'one recipient domain per DMTP transaction'));
    }
    tx.rcptAttempts++;
    if (cmd.fingerprint.kind !== 'fingerprint')
      this.emit({ type: 'placeholder-fingerprint', command: 'RCPT' });
    const rcpt: Recipient = { protocol: 'dmtp', domain: cmd.domain, fingerprint: cmd.fingerprint };
    if (this.hooks.lookupSignet) {
      const fp = cmd.fingerprint.kind === 'fingerprint' ? cmd.fingerprint.value : null;
      const h = await this.callHook('lookupSignet', () =>
        this.hooks.lookupSignet?.(
          { kind: 'org', domain: cmd.domain, fingerprint: fp, command: 'RCPT' },
          this.info,
        ),
      );
      if (h.failed) return this.send(reply(451, 'temporary lookup failure'));
      const chain = h.value;
      if (!chain || chain.length === 0)
        return this.send(reply(550, `${cmd.domain} is not a domain of this server`));
      if (fp !== null && findInChain(chain, fp) !== chain.length - 1) {
        return this.send(reply(550, `fingerprint is not the current org signet of ${cmd.domain}`));
      }
    } else if (!this.hooks.rcptTo) {
      return this.send(reply(550, `${cmd.domain} is not a domain of this server`));
    }
    const d = await this.callHook('rcptTo', () => this.hooks.rcptTo?.(rcpt, tx.from, this.info));
    if (d.failed) return this.send(reply(451, 'temporary lookup failure'));
    const r = this.decisionReply(d.value, reply(250, 'OK'));
    if (r.code >= 200 && r.code < 300) {
      if (this.tx === tx) tx.to.push(rcpt);
      this.send(reply(250, 'OK'));
    } else this.send(r);
  }

  private async dmtpData(hash: FingerprintArg | null): Promise<void> {
    const tx = this.tx;
    if (!tx || tx.to.length === 0)
      return this.violation(reply(503, tx ? 'need RCPT command' : 'need MAIL command'));
    const from = tx.from;
    if (from.protocol !== 'dmtp' || from.size === null) {
      return this.violation(reply(503, 'DATA needs SIZE= in MAIL'));
    }
    if (hash && hash.kind !== 'fingerprint') this.emit({ type: 'placeholder-fingerprint', command: 'DATA' });
    const t = await this.openTransferFor(this.envelope(tx, 'dmtp', hash), true);
    if (!t) {
      this.send(reply(451, 'local error'));
      return;
    }
    const echoed = hash
      ? hash.kind === 'fingerprint'
        ? hash.value
        : hash.kind === 'placeholder'
          ? 'fingerprint'
          : ''
      : '';
    this.send(reply(354, `CONTINUE [${echoed}]`));
    this.mode = {
      kind: 'counted',
      remaining: from.size,
      transfer: t,
      done: async () => {
        this.mode = { kind: 'dmtp-end', transfer: t, hash };
      },
    };
  }

  private async finishDmtpData(t: Transfer, hash: FingerprintArg | null): Promise<void> {
    if (!t.refusal && hash?.kind === 'fingerprint' && t.hash) {
      const digest = toBase64Unpadded(new Uint8Array(t.hash.digest()));
      if (digest !== hash.value) this.refuse(t, reply(554, 'DATA hash does not match the message'));
    }
    this.tx = null;
    this.send(await this.finish(t, (id) => reply(250, `OK [${id}]`)));
  }

  private async dmtpSignet(cmd: Extract<DmtpCommand, { verb: 'SGNT' | 'HIST' | 'VRFY' }>): Promise<void> {
    const fp = cmd.verb === 'HIST' ? cmd.start : cmd.fingerprint;
    if (cmd.verb === 'VRFY' && fp === null) return this.violation(reply(501, 'VRFY needs a fingerprint'));
    if (!this.hooks.lookupSignet) {
      this.send(reply(550, 'no signets are published here'));
      return;
    }
    const h = await this.callHook('lookupSignet', () =>
      this.hooks.lookupSignet?.({ ...cmd.target, fingerprint: fp, command: cmd.verb }, this.info),
    );
    if (h.failed) {
      this.send(reply(451, 'temporary lookup failure'));
      return;
    }
    const chain = h.value ?? null;
    try {
      if (cmd.verb === 'SGNT') this.send(sgntReply(cmd.target, chain, cmd.fingerprint));
      else if (cmd.verb === 'HIST') this.send(histReply(cmd.target, chain, cmd.start, cmd.stop));
      else this.send(vrfyReply(cmd.target, chain, cmd.fingerprint));
    } catch (error) {
      // a malformed stored signet (for example a split that fails)
      this.emit({ type: 'hook-error', hook: 'lookupSignet', error });
      this.send(reply(451, 'local error'));
    }
  }

  private async dmtpStats(nonce: string | null): Promise<void> {
    if (!this.helo) return this.violation(reply(503, 'send EHLO first'));
    if (!this.hooks.stats) {
      this.send(reply(250, 'OK'));
      return;
    }
    const h = await this.callHook('stats', () => this.hooks.stats?.(nonce, this.info));
    if (h.failed || !h.value) {
      this.send(reply(451, 'local error'));
      return;
    }
    const v = h.value;
    if ('nonce' in v) {
      this.send(reply(250, `ONCE [${v.nonce.replace(/[\]\r\n\s]/g, '')}]`));
      return;
    }
    const lines = v.lines.map((l) => l.replace(/[\r\n]+/g, ' '));
    this.send(reply(250, ...(lines.length > 0 ? lines : ['OK'])));
  }
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function sameFingerprint(a: FingerprintArg, b: FingerprintArg): boolean {
  if (a.kind === 'fingerprint' || b.kind === 'fingerprint') {
    return a.kind === 'fingerprint' && b.kind === 'fingerprint' && a.value === b.value;
  }
  return true;
}
