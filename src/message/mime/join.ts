import { randomBytes } from 'node:crypto';
import { DimeError } from '../../errors/index.js';
import type { CommonHeaderFields, CommonHeaders } from '../headers.js';
import { type EntityStart, entityBytes, type PartKind, startEntity } from './entity.js';
import { messageHeaderBlock } from './headers.js';
import { asBuffer, type ByteSource, CRLF, coalesce, collect } from './streams.js';

export interface JoinHeaders {
  /** Chunk 33 data, or its values (an opened message's `commonHeaders`). */
  commonHeaders: Uint8Array | string | CommonHeaderFields | CommonHeaders;
  /** Chunk 34 data (absent: no other headers). */
  otherHeaders?: Uint8Array | string | null;
}

export interface StreamPart {
  kind: PartKind;
  data: ByteSource | string;
}

export interface MimeJoinOptions {
  /** The multipart/mixed boundary (default: random). Must not occur in the parts. */
  boundary?: string;
  /**
   * How many display and attachment parts follow, when the caller knows (an opened message does).
   * Without it the writer holds back the first display part, up to `lookahead` bytes, to learn
   * whether it is the only part; a longer first display part is then assumed to have company.
   */
  counts?: { display: number; attachments: number };
  /** Default 16 MiB (about one chunk). */
  lookahead?: number;
}

export const DEFAULT_JOIN_LOOKAHEAD = 16 * 1024 * 1024;
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

function bytes(x: Uint8Array | string): Uint8Array {
  return typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
}

function commonOf(x: JoinHeaders['commonHeaders']): Uint8Array | CommonHeaderFields | CommonHeaders {
  return typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
}

function dataSource(d: ByteSource | string): ByteSource {
  return typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
}

/**
 * Writes a MIME message from DIME parts as a stream (message.md §8 DIME → MIME): the header block
 * (chunk 33 fields with `Cc:`, chunk 34 lines, `MIME-Version: 1.0`); with exactly one display part
 * and no attachment, that entity as the body (its header lines join the message header);
 * otherwise a multipart/mixed with the parts in the order given (display parts come first in a
 * DIME message). Raw chunk data (not a MIME entity, as libdime writes it) is wrapped: text/plain or
 * text/html (charset utf-8, quoted-printable) for display data, application/octet-stream named
 * `attachment-N` (N: its place among the attachment parts, from 1) in base64 for attachment data;
 * decoding gives the chunk bytes back exactly. Each part's data is read to its end before the next
 * part is requested.
 */
export async function* joinMimeStream(
  headers: JoinHeaders,
  parts: AsyncIterable<StreamPart> | Iterable<StreamPart>,
  options: MimeJoinOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  // the pieces are often line-sized: hand them out in chunks of about 64 KiB
  yield* coalesce(joinPieces(headers, parts, options));
}

async function* joinPieces(
  headers: JoinHeaders,
  parts: AsyncIterable<StreamPart> | Iterable<StreamPart>,
  options: MimeJoinOptions,
): AsyncGenerator<Buffer> {
  const boundary = options.boundary ?? `=_dime_${randomBytes(16).toString('hex')}`;
  if (!BOUNDARY.test(boundary))
    throw new DimeError('BAD_INPUT', `"${boundary}" is not a valid MIME boundary`);
  if (!headers || typeof headers !== 'object')
    throw new DimeError('BAD_INPUT', 'the message headers are required');
  const head = messageHeaderBlock(
    commonOf(headers.commonHeaders),
    headers.otherHeaders ? bytes(headers.otherHeaders) : null,
  );
  const it = (
    Symbol.asyncIterator in parts
      ? (parts as AsyncIterable<StreamPart>)[Symbol.asyncIterator]()
      : (parts as Iterable<StreamPart>)[Symbol.iterator]()
  ) as AsyncIterator<StreamPart> | Iterator<StreamPart>;
  const nextPart = async (): Promise<StreamPart | null> => {
    const r = await it.next();
    if (r.done) return null;
    const p = r.value;
    if (!p || (p.kind !== 'display' && p.kind !== 'attachment')) {
      throw new DimeError('BAD_INPUT', 'a part must be { kind: "display" | "attachment", data }');
    }
    return p;
  };

  let attachmentNumber = 0;
  const open = async (p: StreamPart): Promise<{ start: EntityStart; kind: PartKind; n: number }> => {
    const n = p.kind === 'attachment' ? ++attachmentNumber : 0;
    return { start: await startEntity(dataSource(p.data), p.kind), kind: p.kind, n };
  };

  const first = await nextPart();
  if (!first) {
    yield Buffer.concat([head, Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\n', 'latin1')]);
    return;
  }
  const firstEntity = await open(first);
  let firstBytes: AsyncIterable<Buffer> = entityBytes(firstEntity.start, firstEntity.kind, firstEntity.n);
  let second: StreamPart | null | undefined;
  let single: boolean;
  if (first.kind !== 'display') single = false;
  else if (options.counts) single = options.counts.display === 1 && options.counts.attachments === 0;
  else {
    // hold the first display entity back to see whether another part follows
    const limit = options.lookahead ?? DEFAULT_JOIN_LOOKAHEAD;
    const held: Buffer[] = [];
    let heldLen = 0;
    const gen = firstBytes[Symbol.asyncIterator]();
    let complete = false;
    while (heldLen <= limit) {
      const x = await gen.next();
      if (x.done) {
        complete = true;
        break;
      }
      held.push(x.value);
      heldLen += x.value.length;
    }
    firstBytes = (async function* () {
      yield* held;
      if (!complete) for (let x = await gen.next(); !x.done; x = await gen.next()) yield x.value;
    })();
    if (complete) {
      second = await nextPart();
      single = second === null;
    } else single = false;
  }

  if (single) {
    yield head;
    yield* firstBytes;
    return;
  }

  const dashes = `--${boundary}`;
  yield Buffer.concat([
    head,
    Buffer.from(`Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`, 'latin1'),
  ]);
  yield Buffer.from(`${dashes}\r\n`, 'latin1');
  yield* firstBytes;
  for (let p = second === undefined ? await nextPart() : second; p; p = await nextPart()) {
    yield Buffer.from(`\r\n${dashes}\r\n`, 'latin1');
    const e = await open(p);
    yield* entityBytes(e.start, e.kind, e.n);
  }
  yield Buffer.concat([CRLF, Buffer.from(`${dashes}--\r\n`, 'latin1')]);
}

/** A message's DIME parts, as mimeToParts gives them or as opened from chunks. */
export interface PartsInput {
  commonHeaders: JoinHeaders['commonHeaders'];
  otherHeaders?: Uint8Array | string | null;
  display: readonly (Uint8Array | string)[];
  attachments?: readonly (Uint8Array | string)[];
}

/** Buffered form of joinMimeStream: display parts first, then attachments (message.md §8). */
export async function partsToMime(
  parts: PartsInput,
  options: Omit<MimeJoinOptions, 'counts' | 'lookahead'> = {},
): Promise<Uint8Array> {
  const display = parts.display ?? [];
  const attachments = parts.attachments ?? [];
  const list: StreamPart[] = [
    ...display.map((d) => ({ kind: 'display' as const, data: asBuffer(d) })),
    ...attachments.map((d) => ({ kind: 'attachment' as const, data: asBuffer(d) })),
  ];
  return collect(
    joinMimeStream(parts, list, {
      ...options,
      counts: { display: display.length, attachments: attachments.length },
    }),
  );
}
