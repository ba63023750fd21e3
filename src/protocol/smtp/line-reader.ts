/**
 * The session's input buffer: bytes as they arrive, read back as command lines (CRLF, or a bare LF
 * where the caller allows it), or as raw pieces for DATA/BDAT bodies. Nothing is concatenated
 * unless a line spans several network chunks, and a line never grows past its limit: an overlong
 * line is dropped as it arrives, up to its LF, and reported once.
 */

const LF = 0x0a;
const CR = 0x0d;

export type LineEnding = 'crlf' | 'lf';

export type LineResult =
  /** `bytes` excludes the terminator; `length` is the length on the wire, terminator included. */
  | { kind: 'line'; bytes: Uint8Array; ending: LineEnding; length: number }
  /** A line longer than the limit was read and thrown away (up to and including its LF). */
  | { kind: 'overlong'; length: number };

export class InputQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private size = 0;
  /** Bytes of an overlong line dropped so far (the line has not ended yet). */
  private discarding = -1;

  /** Bytes buffered and not yet consumed. */
  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Puts bytes back in front of the queue (the unread rest of a piece given out by `take`). */
  unshift(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.head > 0) {
      const first = this.chunks[0]!;
      this.chunks[0] = first.subarray(this.head);
      this.head = 0;
    }
    this.chunks.unshift(chunk);
    this.size += chunk.length;
  }

  /** Drops everything buffered (STARTTLS: plaintext after the command is never processed). */
  clear(): number {
    const dropped = this.size;
    this.chunks = [];
    this.head = 0;
    this.size = 0;
    this.discarding = -1;
    return dropped;
  }

  /** Up to `max` bytes from the front, without copying; null when the queue is empty. */
  take(max: number = Number.POSITIVE_INFINITY): Uint8Array | null {
    if (this.size === 0 || max <= 0) return null;
    const first = this.chunks[0]!;
    const available = first.length - this.head;
    const n = Math.min(available, max);
    const out = first.subarray(this.head, this.head + n);
    this.consume(n);
    return out;
  }

  private consume(n: number): void {
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      const available = first.length - this.head;
      if (left < available) {
        this.head += left;
        this.size -= left;
        return;
      }
      left -= available;
      this.size -= available;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Offset of the first LF within the first `within` buffered bytes, or -1. */
  private findLf(within: number): number {
    let base = 0;
    for (let i = 0; i < this.chunks.length && base < within; i++) {
      const c = this.chunks[i]!;
      const start = i === 0 ? this.head : 0;
      const span = Math.min(c.length - start, within - base);
      const at = c.subarray(start, start + span).indexOf(LF);
      if (at >= 0) return base + at;
      base += span;
    }
    return -1;
  }

  private copyOut(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const piece = this.take(n - filled)!;
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  /**
   * Reads one line of at most `limit` bytes including its terminator. A line ends at LF; it is
   * 'crlf' when the LF follows a CR (the CR is not part of `bytes`), otherwise 'lf' (bare LF).
   * Returns null when no complete line is buffered yet.
   */
  readLine(limit: number): LineResult | null {
    if (this.discarding >= 0) {
      const at = this.findLf(this.size);
      if (at < 0) {
        this.discarding += this.size;
        this.clearBytes();
        return null;
      }
      const length = this.discarding + at + 1;
      this.consume(at + 1);
      this.discarding = -1;
      return { kind: 'overlong', length };
    }
    const at = this.findLf(Math.min(this.size, limit));
    if (at < 0) {
      if (this.size < limit) return null;
      // No LF within the limit: drop what we have and keep dropping up to the next LF.
      this.discarding = 0;
      return this.readLine(limit);
    }
    const raw = this.copyOut(at + 1);
    const crlf = at > 0 && raw[at - 1] === CR;
    return {
      kind: 'line',
      bytes: raw.subarray(0, crlf ? at - 1 : at),
      ending: crlf ? 'crlf' : 'lf',
      length: at + 1,
    };
  }

  private clearBytes(): void {
    this.chunks = [];
    this.head = 0;
    this.size = 0;
  }
}
