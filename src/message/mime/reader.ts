import { pipeline, Readable } from 'node:stream';
import mailsplit, { type MailsplitItem, type MailsplitNode } from 'mailsplit';
import { DimeError, isDimeError } from '../../errors/index.js';
import { type ByteSource, bytesOf, CRLF } from './streams.js';

export interface ReaderLimits {
  /** Longest line accepted, in bytes (mailsplit holds a line until its LF). Default 64 MiB. */
  maxLineLength?: number;
  /** Largest header block of one MIME node. Default 1 MiB (mailsplit's default). */
  maxHeaderSize?: number;
  /** Most MIME nodes in one message. Default 1000 (mailsplit's default). */
  maxNodes?: number;
}

export const DEFAULT_MAX_LINE = 64 * 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

/**
 * Feeds mailsplit whole lines only, and starts a new chunk before every line that begins with
 * "-" or CR (the only lines that can be a boundary delimiter, alone or after a carried line break).
 * mailsplit's Splitter mis-assigns bytes when a chunk ends inside a line (e.g. between CR and LF) or
 * when a delimiter line sits inside a chunk after an empty body line; fed this way its output
 * equals its line-by-line output, whatever the chunking of the input (test/message/mime covers it).
 */
export async function* feedLines(
  src: AsyncIterable<Buffer>,
  maxLine = DEFAULT_MAX_LINE,
): AsyncGenerator<Buffer> {
  let partial: Buffer[] = [];
  let partialLen = 0;
  const tooLong = (): never => {
    throw new DimeError('TOO_LARGE', `a line of the message is longer than ${maxLine} bytes`, { maxLine });
  };
  for await (const chunk of src) {
    let at = 0;
    if (partialLen > 0) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) {
        partial.push(chunk);
        partialLen += chunk.length;
        if (partialLen > maxLine) tooLong();
        continue;
      }
      partial.push(chunk.subarray(0, lf + 1));
      const line = Buffer.concat(partial, partialLen + lf + 1);
      partial = [];
      partialLen = 0;
      if (line.length > maxLine) tooLong();
      yield line;
      at = lf + 1;
    }
    // complete lines of this chunk, grouped; a group is cut before a "-" or CR line
    let groupStart = at;
    let lineStart = at;
    for (;;) {
      const lf = chunk.indexOf(LF, lineStart);
      if (lf < 0) break;
      if (lf + 1 - lineStart > maxLine) tooLong();
      const next = lf + 1;
      if (next < chunk.length && (chunk[next] === DASH || chunk[next] === CR)) {
        yield chunk.subarray(groupStart, next);
        groupStart = next;
      }
      lineStart = next;
    }
    if (lineStart > groupStart) yield chunk.subarray(groupStart, lineStart);
    if (lineStart < chunk.length) {
      partial.push(chunk.subarray(lineStart));
      partialLen += chunk.length - lineStart;
      if (partialLen > maxLine) tooLong();
    }
  }
  if (partialLen > 0) yield Buffer.concat(partial, partialLen);
}

function mapSplitterError(e: unknown): DimeError {
  if (isDimeError(e)) return e;
  const err = e as { code?: string; message?: string } | undefined;
  if (err?.code === 'EMAXLEN') {
    return new DimeError('TOO_LARGE', `MIME structure over a limit: ${err.message}`, { cause: e });
  }
  return new DimeError('BAD_MIME', `MIME parsing failed: ${err?.message ?? String(e)}`, { cause: e });
}

/**
 * mailsplit's object stream over a byte source, read one item at a time with one item of look-ahead.
 * Items: a node (header block parsed), 'body' (leaf content of the last node, without the line
 * break that belongs to the next boundary) and 'data' (boundaries, preamble, epilogue).
 */
export class ItemReader {
  private readonly splitter: ReturnType<typeof createSplitter>;
  private readonly it: AsyncIterator<MailsplitItem>;
  private pending: MailsplitItem | null = null;
  private finished = false;

  constructor(input: ByteSource, limits: ReaderLimits = {}) {
    this.splitter = createSplitter(limits);
    const feeder = Readable.from(feedLines(bytesOf(input), limits.maxLineLength ?? DEFAULT_MAX_LINE));
    // failures of either stream surface through the iterator below
    pipeline(feeder, this.splitter, () => {});
    this.it = this.splitter[Symbol.asyncIterator]();
  }

  async peek(): Promise<MailsplitItem | null> {
    if (this.pending || this.finished) return this.pending;
    let r: IteratorResult<MailsplitItem>;
    try {
      r = await this.it.next();
    } catch (e) {
      this.finished = true;
      throw mapSplitterError(e);
    }
    if (r.done) this.finished = true;
    else this.pending = r.value;
    return this.pending;
  }

  async next(): Promise<MailsplitItem | null> {
    const item = await this.peek();
    this.pending = null;
    return item;
  }

  /** Reads to the end of the input, dropping the items. */
  async drain(): Promise<void> {
    while (await this.next()) {}
  }

  close(): void {
    this.finished = true;
    this.pending = null;
    if (!this.splitter.destroyed) this.splitter.destroy();
  }
}

function createSplitter(limits: ReaderLimits) {
  return new mailsplit.Splitter({
    // a message/rfc822 part is a leaf: its bytes go into one part unchanged
    ignoreEmbedded: true,
    maxHeadSize: limits.maxHeaderSize ?? 1024 * 1024,
    maxChildNodes: limits.maxNodes ?? 1000,
  });
}

/** The bytes an item stands for (a node: its header block exactly as read). */
export function itemBytes(item: MailsplitItem): Buffer {
  return item.type === 'node' ? item.getHeaders() : item.value;
}

/** Whether the node has a Content-Type field of its own (otherwise RFC 2045's text/plain applies). */
export function hasContentType(node: MailsplitNode): boolean {
  return node.headers.hasHeader('content-type');
}

/** The media type of a node without Content-Type: text/plain, message/rfc822 in a multipart/digest. */
function defaultType(node: MailsplitNode): string {
  return node.parentNode && node.parentNode.multipart === 'digest' ? 'message/rfc822' : 'text/plain';
}

/** The node's media type, lowercase, with RFC 2045/2046's default for a node without Content-Type. */
export function mediaType(node: MailsplitNode): string {
  return (hasContentType(node) && node.contentType) || defaultType(node);
}

function endsWithEmptyLine(h: Buffer): boolean {
  const n = h.length;
  if (n === 0 || h[n - 1] !== LF) return false;
  if (n === 1) return true;
  if (h[n - 2] === LF) return true;
  if (h[n - 2] === CR) return n === 2 || h[n - 3] === LF;
  return false;
}

/**
 * The header block of a (non-root) node as a complete MIME entity header: the bytes as read, with
 * `Content-Type: text/plain` (message/rfc822 in a digest) in front when the node has none (the
 * RFC 2045/2046 default, made explicit so the chunk is recognisably a MIME entity, message.md §8)
 * and the closing empty line added when the input lacked it.
 */
export function entityHeaderOf(node: MailsplitNode): Buffer {
  const raw = node.getHeaders();
  const parts: Buffer[] = [];
  if (!hasContentType(node)) parts.push(Buffer.from(`Content-Type: ${defaultType(node)}\r\n`, 'latin1'));
  parts.push(raw);
  if (raw.length > 0 && raw[raw.length - 1] !== LF) parts.push(CRLF);
  if (!endsWithEmptyLine(Buffer.concat(parts))) parts.push(CRLF);
  return Buffer.concat(parts);
}
