import { DimeError, isDimeError } from '../../errors/index.js';

/** Bytes as one buffer, a sync or async iterable of chunks, or a Node Readable (which is async iterable). */
export type ByteSource = Uint8Array | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export const EMPTY = Buffer.alloc(0);
export const CRLF = Buffer.from('\r\n', 'latin1');

export function asBuffer(c: unknown): Buffer {
  if (Buffer.isBuffer(c)) return c;
  if (c instanceof Uint8Array) return Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  if (typeof c === 'string') return Buffer.from(c, 'utf8');
  throw new DimeError('BAD_INPUT', 'stream chunks must be bytes (Uint8Array) or text');
}

/**
 * The chunks of a byte source as Buffers (views, no copies), empty chunks left out. A failure of
 * the source itself (not a DimeError) becomes IO_ERROR.
 */
export async function* bytesOf(src: ByteSource): AsyncGenerator<Buffer> {
  if (src instanceof Uint8Array) {
    if (src.length > 0) yield asBuffer(src);
    return;
  }
  if (typeof src === 'string' || src == null || typeof src !== 'object') {
    throw new DimeError('BAD_INPUT', 'expected bytes or an iterable of byte chunks');
  }
  const iterable = src as AsyncIterable<unknown> | Iterable<unknown>;
  if (!(Symbol.asyncIterator in iterable) && !(Symbol.iterator in iterable)) {
    throw new DimeError('BAD_INPUT', 'expected bytes or an iterable of byte chunks');
  }
  try {
    for await (const c of iterable) {
      const b = asBuffer(c);
      if (b.length > 0) yield b;
    }
  } catch (e) {
    if (isDimeError(e)) throw e;
    throw new DimeError('IO_ERROR', `reading the input failed: ${(e as Error)?.message ?? String(e)}`, {
      cause: e,
    });
  }
}

export async function collect(src: ByteSource): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let len = 0;
  for await (const b of bytesOf(src)) {
    parts.push(b);
    len += b.length;
  }
  return new Uint8Array(Buffer.concat(parts, len));
}

export const OUTPUT_CHUNK = 64 * 1024;

/**
 * Re-chunks a stream of (often tiny, line-sized) buffers into chunks of about `size` bytes, so
 * whoever consumes a part gets few, large chunks. Holds at most `size` bytes; a yielded chunk is
 * never modified afterwards.
 */
export async function* coalesce(src: AsyncIterable<Uint8Array>, size = OUTPUT_CHUNK): AsyncGenerator<Buffer> {
  let buf: Buffer | null = null;
  let len = 0;
  for await (const raw of src) {
    const c = asBuffer(raw);
    if (c.length === 0) continue;
    if (c.length >= size) {
      if (buf && len > 0) yield buf.subarray(0, len);
      buf = null;
      len = 0;
      yield c;
      continue;
    }
    if (buf && len + c.length > size) {
      yield buf.subarray(0, len);
      buf = null;
      len = 0;
    }
    if (!buf) buf = Buffer.allocUnsafe(size);
    c.copy(buf, len);
    len += c.length;
  }
  if (buf && len > 0) yield buf.subarray(0, len);
}

/**
 * A byte stream with a look at its beginning: `fill` reads chunks into a growing prefix until a
 * decision function is satisfied or `limit` bytes are held; `all` then yields everything (prefix
 * first). Decisions are made on the first min(limit, total) bytes only, so they do not depend on
 * how the stream is chunked.
 */
export class PrefixedStream {
  private readonly it: AsyncIterator<Buffer>;
  private buf: Buffer = Buffer.allocUnsafe(0);
  private len = 0;
  private ended = false;

  constructor(src: ByteSource) {
    this.it = bytesOf(src)[Symbol.asyncIterator]();
  }

  private append(b: Buffer): void {
    if (this.len + b.length > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.len + b.length, this.buf.length * 2, 4096));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /**
   * Reads until `decided(prefix, complete)` is true or `limit` bytes are held. Returns the prefix
   * view (at most `limit` bytes) and whether it is the whole stream.
   */
  async fill(
    decided: (prefix: Buffer, complete: boolean) => boolean,
    limit: number,
  ): Promise<{ prefix: Buffer; complete: boolean }> {
    for (;;) {
      const view = this.buf.subarray(0, Math.min(this.len, limit));
      const complete = this.ended && this.len <= limit;
      if (complete || this.len >= limit || decided(view, false)) return { prefix: view, complete };
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else this.append(r.value);
    }
  }

  async *all(): AsyncGenerator<Buffer> {
    if (this.len > 0) {
      const head = this.buf.subarray(0, this.len);
      this.buf = Buffer.allocUnsafe(0);
      this.len = 0;
      yield head;
    }
    if (this.ended) return;
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return;
      }
      yield r.value;
    }
  }
}

/**
 * The data of one part handed out by a splitter: readable once, and drained by the producer when
 * it moves on to the next part. Reading it after that is an error (the bytes are gone).
 */
export class PartData implements AsyncIterable<Uint8Array> {
  private readonly it: AsyncIterator<Buffer>;
  private done = false;
  private taken = false;
  private expired = false;

  constructor(gen: AsyncIterable<Uint8Array>) {
    this.it = coalesce(gen)[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.taken) throw new DimeError('BAD_INPUT', 'the data of a MIME part can be read only once');
    if (this.expired) {
      throw new DimeError(
        'BAD_INPUT',
        'the data of a MIME part must be read before the next part is requested',
      );
    }
    this.taken = true;
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        if (this.done) return { done: true, value: undefined };
        const r = await this.it.next();
        if (r.done) this.done = true;
        return r;
      },
      // leaving early does not lose the producer's place: finish() reads past the rest
      return: async (): Promise<IteratorResult<Uint8Array>> => ({ done: true, value: undefined }),
    };
  }

  /** Reads (and drops) whatever the consumer left unread. */
  async finish(): Promise<void> {
    if (!this.taken) this.expired = true;
    while (!this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
    }
  }
}
