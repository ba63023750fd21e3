/**
 * Reply reader of the DMTP client (dmtp.md §1, §3.1): SMTP-style replies `NNN SP text` with
 * `NNN-text` continuation lines, CRLF (a bare LF is tolerated), each line at most 4096 bytes
 * with its terminator, the whole reply bounded. Every wait has a time limit; a broken reply, a
 * timeout or a close ends the connection with a typed error (client-errors.ts), never a hang.
 */

import type { Socket } from 'node:net';
import { connectFailed, protocolError, timedOut } from './client-errors.js';

/** dmtp.md §1: the longest reply line a client reads, terminator included. */
export const MAX_REPLY_LINE = 4096;
/** Default bound of one (multi-line) reply: HIST of a long chain fits easily. */
export const DEFAULT_MAX_REPLY_BYTES = 1 << 20;

export interface DmtpReply {
  readonly code: number;
  /** The text of each line (after `NNN ` / `NNN-`), in order; '' for a bare `NNN`. */
  readonly lines: readonly string[];
}

/** First word of the first line, upper case ('' when none). */
export function firstWord(r: DmtpReply): string {
  return (r.lines[0] ?? '')
    .trim()
    .split(/[ \t]+/)[0]!
    .toUpperCase();
}

const LINE = /^([2-5][0-9]{2})(?:([ -])(.*))?$/s;

/** Bytes allowed in a reply line: printable ASCII, tab, and UTF-8 bytes (≥ 0x80); no other controls. */
function cleanLine(b: Buffer): boolean {
  for (const c of b) if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  return true;
}

type Waiter = {
  resolve: (r: DmtpReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  what: string;
};

/**
 * Reads replies from one socket at a time. `read()` resolves with the next complete reply; bytes
 * that arrive while nobody waits stay buffered (`pending()`), so a caller can refuse unsolicited
 * replies. `detach()` stops reading and hands back the buffered bytes (STARTTLS: they are
 * plaintext that must be discarded, dmtp.md §8 D4).
 */
export class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  private socket: Socket | null = null;
  private waiter: Waiter | null = null;
  /** Lines of the reply being assembled. */
  private partial: { code: number; lines: string[]; bytes: number } | null = null;
  private failure: Error | null = null;
  private ended = false;

  constructor(private readonly maxReplyBytes = DEFAULT_MAX_REPLY_BYTES) {}

  private readonly onData = (chunk: Buffer) => {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.pump();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.pump();
  };
  private readonly onError = (err: Error) => {
    this.ended = true;
    this.failure ??= connectFailed('closed', `connection lost: ${err.message}`, { cause: err.message });
    this.pump();
  };

  attach(socket: Socket): void {
    this.socket = socket;
    this.ended = false;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /** Stops reading from the current socket; returns the bytes read but not consumed. */
  detach(): Buffer {
    const s = this.socket;
    if (s) {
      s.removeListener('data', this.onData);
      s.removeListener('end', this.onEnd);
      s.removeListener('close', this.onEnd);
      s.removeListener('error', this.onError);
      s.on('error', () => {});
    }
    this.socket = null;
    const left = this.buf;
    this.buf = Buffer.alloc(0);
    this.partial = null;
    return left;
  }

  /** Bytes received and not yet part of a returned reply. */
  pending(): number {
    return this.buf.length + (this.partial?.bytes ?? 0);
  }

  /** The next complete reply, within `timeoutMs`. `what` names the command in errors. */
  read(what: string, timeoutMs: number): Promise<DmtpReply> {
    if (this.waiter) return Promise.reject(new Error('ReplyReader: one read at a time'));
    return new Promise<DmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(timedOut(what, timeoutMs)), timeoutMs);
      this.waiter = { resolve, reject, timer, what };
      this.pump();
    });
  }

  private settle(result: DmtpReply | Error): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    clearTimeout(w.timer);
    if (result instanceof Error) w.reject(result);
    else w.resolve(result);
  }

  /** Parses what is buffered; completes the waiting read when a reply (or an error) is there. */
  private pump(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.failure) {
      this.settle(this.failure);
      return;
    }
    const r = this.next(w.what);
    if (r instanceof Error) this.fail(r);
    else if (r !== null) this.settle(r);
  }

  /** The next complete reply from the buffer, an Error for a broken one, null for "not yet". */
  private next(what: string): DmtpReply | Error | null {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0 ? this.buf.length >= MAX_REPLY_LINE : nl + 1 > MAX_REPLY_LINE) {
        return protocolError('line-too-long', `reply line to ${what} exceeds ${MAX_REPLY_LINE} bytes`);
      }
      if (nl < 0) break;
      let raw = this.buf.subarray(0, nl);
      this.buf = this.buf.subarray(nl + 1);
      if (raw.length > 0 && raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, raw.length - 1);
      const shown = JSON.stringify(raw.subarray(0, 80).toString('latin1'));
      if (!cleanLine(raw)) {
        return protocolError('malformed-reply', `reply to ${what} has control bytes: ${shown}`);
      }
      const m = LINE.exec(raw.toString('utf8'));
      if (!m) return protocolError('malformed-reply', `malformed reply to ${what}: ${shown}`);
      const code = Number(m[1]);
      const p = this.partial ?? { code, lines: [], bytes: 0 };
      if (p.code !== code) {
        return protocolError('malformed-reply', `reply to ${what} mixes codes ${p.code} and ${code}`);
      }
      p.lines.push(m[3] ?? '');
      p.bytes += nl + 1;
      if (p.bytes > this.maxReplyBytes) {
        return protocolError('reply-too-large', `reply to ${what} exceeds ${this.maxReplyBytes} bytes`);
      }
      if (m[2] === '-') {
        this.partial = p;
        continue;
      }
      this.partial = null;
      return { code, lines: p.lines };
    }
    if (this.ended) {
      const left = this.pending();
      return connectFailed(
        'closed',
        `connection closed by the server while waiting for the reply to ${what}` +
          (left > 0 ? ` (${left} bytes of an incomplete reply)` : ''),
      );
    }
    return null;
  }

  private fail(e: Error): void {
    this.failure = e;
    this.socket?.destroy();
    this.settle(e);
  }
}
