import { Readable, type Transform } from 'node:stream';
import { Encoder as Base64Encoder } from 'nodemailer/lib/base64';
import { Encoder as QpEncoder } from 'nodemailer/lib/qp';
import { asBuffer, type ByteSource, PrefixedStream } from './streams.js';

/**
 * Bytes of a chunk's beginning examined to tell a MIME entity from raw data (and HTML from text):
 * room for the largest header block the splitter accepts by default (1 MiB) and then some.
 */
export const PREFIX_LIMIT = 2 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/**
 * message.md §8 Decision (raw chunk data): the data is a MIME entity only if it starts with a
 * header block that contains a Content-Type field and ends with an empty line. Looks at lines up to
 * the first empty one: each must be a header field (`name:` with a printable-ASCII name) or, after a
 * field, a folded continuation. Returns the length of the header block (through the empty line) for
 * a MIME entity, 'raw', or 'more' when the prefix does not decide it yet.
 */
export function headerBlockLength(prefix: Buffer, complete: boolean): number | 'raw' | 'more' {
  let at = 0;
  let sawField = false;
  let sawContentType = false;
  for (;;) {
    const lf = prefix.indexOf(LF, at);
    if (lf < 0) {
      // a partial line: raw already if it cannot begin a field or continuation
      const line = prefix.subarray(at);
      if (complete) return 'raw';
      if (line.length === 0) return 'more';
      if (line[0] === 0x20 || line[0] === 0x09) return sawField ? 'more' : 'raw';
      const text = line.toString('latin1');
      if (text.includes(':')) return FIELD_NAME.test(text) ? 'more' : 'raw';
      return /^[\x21-\x39\x3b-\x7e]*[ \t]*\r?$/.test(text) ? 'more' : 'raw';
    }
    let line = prefix.subarray(at, lf);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length === 0) return sawContentType ? lf + 1 : 'raw';
    if (line[0] === 0x20 || line[0] === 0x09) {
      if (!sawField) return 'raw';
    } else {
      const m = FIELD_NAME.exec(line.toString('latin1'));
      if (!m) return 'raw';
      sawField = true;
      if (/^content-type[ \t]*:$/i.test(m[0])) sawContentType = true;
    }
    at = lf + 1;
  }
}

/** Whether chunk data is a MIME entity (true), raw data (false), or undecided by the prefix. */
export function classifyPrefix(prefix: Buffer, complete: boolean): 'mime' | 'raw' | 'more' {
  const r = headerBlockLength(prefix, complete);
  return typeof r === 'number' ? 'mime' : r;
}

const HTML_STARTS = ['<!doctype html', '<html'];

/** message.md §8: raw display data is HTML when its first non-blank bytes open an HTML document. */
export function classifyHtml(prefix: Buffer, complete: boolean): boolean | 'more' {
  let i = 0;
  while (i < prefix.length && [0x20, 0x09, 0x0a, 0x0d, 0x0c, 0x0b].includes(prefix[i]!)) i++;
  const head = prefix
    .subarray(i, i + 14)
    .toString('latin1')
    .toLowerCase();
  for (const s of HTML_STARTS) {
    if (head.startsWith(s)) return true;
    if (!complete && head.length < s.length && s.startsWith(head)) return 'more';
  }
  return false;
}

export type PartKind = 'display' | 'attachment';

export interface EntityStart {
  /** Whether the data is a MIME entity (otherwise it is raw content, wrapped on output). */
  mime: boolean;
  /** For a MIME entity: bytes of its header block, through the empty line. */
  headerLength: number;
  /** For raw display data: HTML or plain text. */
  html: boolean;
  stream: PrefixedStream;
}

/** Reads the beginning of a part's data far enough to classify it (message.md §8 Decision). */
export async function startEntity(data: ByteSource, kind: PartKind): Promise<EntityStart> {
  const stream = new PrefixedStream(data);
  let mime: 'mime' | 'raw' | 'more' = 'more';
  let html: boolean | 'more' = kind === 'display' ? 'more' : false;
  const { prefix, complete } = await stream.fill((p, c) => {
    if (mime === 'more') mime = classifyPrefix(p, c);
    if (mime === 'raw' && html === 'more') html = classifyHtml(p, c);
    return mime === 'mime' || (mime === 'raw' && html !== 'more');
  }, PREFIX_LIMIT);
  const header = headerBlockLength(prefix, complete);
  const isMime = typeof header === 'number';
  html = kind === 'display' && !isMime ? classifyHtml(prefix, complete) === true : false;
  return { mime: isMime, headerLength: isMime ? header : 0, html, stream };
}

/**
 * The header block for raw chunk data (message.md §8 Decision): display data as UTF-8 text or
 * HTML in quoted-printable, attachment data as `application/octet-stream` named `attachment-N` in
 * base64. Both encodings give back exactly the chunk bytes.
 */
export function rawEntityHeader(kind: PartKind, html: boolean, attachmentNumber: number): Buffer {
  if (kind === 'display') {
    return Buffer.from(
      `Content-Type: ${html ? 'text/html' : 'text/plain'}; charset=utf-8\r\n` +
        'Content-Transfer-Encoding: quoted-printable\r\n\r\n',
      'latin1',
    );
  }
  return Buffer.from(
    'Content-Type: application/octet-stream\r\n' +
      `Content-Disposition: attachment; filename="attachment-${attachmentNumber}"\r\n` +
      'Content-Transfer-Encoding: base64\r\n\r\n',
    'latin1',
  );
}

/** The block size the transfer encoders are fed in (see encodeStream). */
const ENCODER_BLOCK = 16 * 1024;

/** The same bytes in blocks of exactly `size` bytes (the last one shorter). */
export async function* fixedBlocks(src: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  for await (const piece of src) {
    let b = piece;
    while (pendingLength + b.length >= size) {
      const take = size - pendingLength;
      pending.push(b.subarray(0, take));
      yield Buffer.concat(pending, size);
      b = b.subarray(take);
      pending = [];
      pendingLength = 0;
    }
    if (b.length > 0) {
      pending.push(b);
      pendingLength += b.length;
    }
  }
  if (pendingLength > 0) yield Buffer.concat(pending, pendingLength);
}

/**
 * Transfer-encodes a stream: quoted-printable in binary mode (lone CR and LF encoded) or base64.
 * The encoder gets the bytes in fixed blocks whatever pieces they came in: nodemailer's QP line
 * wrapping depends on where its writes end (a last line that fits can still get a soft break when
 * it arrived together with earlier lines), and the same part must give the same bytes streamed or
 * buffered.
 */
export async function* encodeStream(
  src: AsyncIterable<Buffer>,
  encoding: 'qp' | 'base64',
): AsyncGenerator<Buffer> {
  const encoder: Transform =
    encoding === 'qp'
      ? new QpEncoder({ binary: true, lineLength: 76 })
      : new Base64Encoder({ lineLength: 76 });
  const source = Readable.from(fixedBlocks(src, ENCODER_BLOCK));
  source.on('error', (e) => encoder.destroy(e));
  source.pipe(encoder);
  try {
    for await (const out of encoder) yield asBuffer(out);
  } finally {
    source.destroy();
  }
}

/**
 * The bytes of a part as a MIME entity: a MIME entity unchanged, raw data wrapped (header block and
 * transfer encoding, message.md §8 Decision).
 */
export async function* entityBytes(
  start: EntityStart,
  kind: PartKind,
  attachmentNumber: number,
): AsyncGenerator<Buffer> {
  if (start.mime) {
    yield* start.stream.all();
    return;
  }
  yield rawEntityHeader(kind, start.html, attachmentNumber);
  yield* encodeStream(start.stream.all(), kind === 'display' ? 'qp' : 'base64');
}
