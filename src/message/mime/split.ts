import type { MailsplitNode } from 'mailsplit';
import { DimeError } from '../../errors/index.js';
import type { CommonHeaders } from '../headers.js';
import { sortRootHeaders } from './headers.js';
import { entityHeaderOf, ItemReader, itemBytes, mediaType, type ReaderLimits } from './reader.js';
import { type ByteSource, CRLF, collect, PartData } from './streams.js';

export interface MimeSplitOptions extends ReaderLimits {
  /** Date for a message without a Date header (default: the current time). */
  now?: Date;
  /**
   * Bytes of the first display part of a multipart/mixed message held back to learn whether it is
   * the message's only part (then the multipart/mixed entity is kept whole so the part tree
   * survives, see splitMimeStream). Default 1 MiB.
   */
  lookahead?: number;
}

export const DEFAULT_LOOKAHEAD = 1024 * 1024;

export type MimeSplitItem =
  | { kind: 'common-headers'; type: 33; data: Uint8Array; fields: CommonHeaders }
  | { kind: 'other-headers'; type: 34; data: Uint8Array }
  | { kind: 'display'; type: 67; data: AsyncIterable<Uint8Array> }
  | { kind: 'attachment'; type: 131; data: AsyncIterable<Uint8Array> };

/** A message mapped to DIME parts (message.md §8): the data of chunks 33, 34, 67… and 131…. */
export interface MimeParts {
  commonHeaders: Uint8Array;
  otherHeaders: Uint8Array;
  display: Uint8Array[];
  attachments: Uint8Array[];
  /** Chunk 33 as values, the form sealMessage takes. */
  commonFields: CommonHeaders;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** A display part: inline text, or a multipart kept whole (message.md §8 step 4). */
function isDisplayNode(node: MailsplitNode): boolean {
  const type = mediaType(node);
  return (type.startsWith('text/') || type.startsWith('multipart/')) && node.disposition !== 'attachment';
}

/** The next child node of `parent`, skipping structure data; null once the parent's children end. */
async function nextChild(r: ItemReader, parent: MailsplitNode): Promise<MailsplitNode | null> {
  for (;;) {
    const item = await r.peek();
    if (!item) return null;
    if (item.type === 'data') {
      await r.next();
      continue;
    }
    if (item.type === 'node') {
      if (item.parentNode !== parent) return null;
      await r.next();
      return item;
    }
    // mailsplit only emits body data right after its node, which the leaf reader consumes
    throw new DimeError('BAD_MIME', 'body data outside any MIME part');
  }
}

async function* leafBody(r: ItemReader, node: MailsplitNode): AsyncGenerator<Buffer> {
  for (;;) {
    const item = await r.peek();
    if (item?.type !== 'body' || item.node !== node) return;
    await r.next();
    yield item.value;
  }
}

/**
 * A nested node as a MIME entity: its header block as read, then for a leaf its body as read
 * (transfer encoding kept), for a multipart its children with delimiters rebuilt from its own
 * boundary (preamble and epilogue left out, message.md §8 "What lossless means").
 */
async function* nodeEntity(r: ItemReader, node: MailsplitNode): AsyncGenerator<Buffer> {
  yield entityHeaderOf(node);
  if (node.multipart) {
    yield* multipartBody(r, node, null);
    return;
  }
  yield* leafBody(r, node);
  const next = await r.peek();
  if (next?.type === 'node' && next.parentNode === node) {
    // mailsplit splits on any boundary parameter, also of a part that is not multipart
    throw new DimeError('BAD_MIME', `a ${mediaType(node)} part (not multipart) contains nested parts`);
  }
}

/** Reads the rest of the input; only multipart structure data (epilogue) may be left. */
async function finish(r: ItemReader): Promise<void> {
  for (let item = await r.next(); item; item = await r.next()) {
    if (item.type !== 'data') throw new DimeError('BAD_MIME', 'MIME parts outside the message structure');
  }
}

async function* multipartBody(
  r: ItemReader,
  node: MailsplitNode,
  first: { child: MailsplitNode; bytes?: Buffer[] } | null,
): AsyncGenerator<Buffer> {
  const boundary = node._boundary;
  if (!boundary || boundary.length === 0) {
    throw new DimeError('BAD_MIME', `a ${node.contentType} part has no boundary parameter`);
  }
  const dashes = latin1('--');
  let count = 0;
  let child = first ? first.child : await nextChild(r, node);
  while (child) {
    yield count === 0
      ? Buffer.concat([dashes, boundary, CRLF])
      : Buffer.concat([CRLF, dashes, boundary, CRLF]);
    if (count === 0 && first?.bytes) yield* first.bytes;
    else yield* nodeEntity(r, child);
    count++;
    child = await nextChild(r, node);
  }
  yield Buffer.concat([count === 0 ? dashes : Buffer.concat([CRLF, dashes]), boundary, dashes, CRLF]);
}

/** Everything after the root header block, exactly as read. */
async function* restAsRead(r: ItemReader): AsyncGenerator<Buffer> {
  for (;;) {
    const item = await r.next();
    if (!item) return;
    yield itemBytes(item);
  }
}

async function* concatStreams(...srcs: (Buffer | AsyncIterable<Buffer>)[]): AsyncGenerator<Buffer> {
  for (const s of srcs) {
    if (Buffer.isBuffer(s)) yield s;
    else yield* s;
  }
}

/**
 * Splits an RFC 5322/MIME message into DIME parts as it streams in (message.md §8), yielding in
 * order: chunk 33 data, chunk 34 data, then one item per display (67) and attachment (131) part
 * whose data is a complete MIME entity, streamed. Each part's data must be read before the next
 * item is requested (what is left unread is skipped). Memory stays bounded: at most one line of
 * input, `lookahead` bytes of a first display part and 64 KiB of output are held at a time.
 *
 * Body mapping (message.md §8 step 4):
 * - Not multipart/mixed (single part of any type, multipart/alternative, /related, /signed…): one
 *   display part, the top-level Content-Type and Content-Transfer-Encoding lines (or
 *   `Content-Type: text/plain` when there is none) and then the body exactly as read.
 * - multipart/mixed: each child in order, as a MIME entity (its header block as read, the body as
 *   read; nested multiparts with rebuilt delimiters). Inline text children and nested multiparts
 *   are display parts, everything else (Content-Disposition: attachment, non-text types) is an
 *   attachment. Decisions for a lossless round trip (the writer puts display parts first, and a
 *   single display part with no attachment becomes the whole body):
 *   - once a child has been made an attachment, every later child is an attachment too, so the
 *     order of the children survives the display-then-attachments chunk order;
 *   - when the first child is not a display part (or there is no child), or the first child is
 *     the only one (known within `lookahead` bytes), the multipart/mixed entity is kept whole as
 *     one display part.
 */
export async function* splitMimeStream(
  input: ByteSource,
  options: MimeSplitOptions = {},
): AsyncGenerator<MimeSplitItem, void, undefined> {
  const r = new ItemReader(input, options);
  try {
    const root = await r.next();
    if (root?.type !== 'node') throw new DimeError('BAD_MIME', 'the message has no header block');
    const headers = sortRootHeaders(root.headers.getList(), options.now);
    yield { kind: 'common-headers', type: 33, data: headers.common, fields: headers.fields };
    yield { kind: 'other-headers', type: 34, data: headers.other };

    const structure =
      headers.structure.length > 0 ? headers.structure : [latin1('Content-Type: text/plain'), CRLF];
    const rootHeader = Buffer.concat([...structure, CRLF]);

    async function* emit(kind: 'display' | 'attachment', gen: AsyncIterable<Buffer>) {
      const data = new PartData(gen);
      if (kind === 'display') yield { kind, type: 67, data } as const;
      else yield { kind, type: 131, data } as const;
      await data.finish();
    }

    if (mediaType(root) !== 'multipart/mixed' || !root._boundary) {
      yield* emit('display', concatStreams(rootHeader, restAsRead(r)));
      return;
    }

    const first = await nextChild(r, root);
    if (!first || !isDisplayNode(first)) {
      yield* emit(
        'display',
        concatStreams(rootHeader, multipartBody(r, root, first ? { child: first } : null)),
      );
      await finish(r);
      return;
    }

    // hold back the first display part (up to `lookahead` bytes) to see whether another follows
    const limit = options.lookahead ?? DEFAULT_LOOKAHEAD;
    const firstGen = nodeEntity(r, first);
    const held: Buffer[] = [];
    let heldLen = 0;
    let complete = false;
    while (heldLen <= limit) {
      const x = await firstGen.next();
      if (x.done) {
        complete = true;
        break;
      }
      held.push(x.value);
      heldLen += x.value.length;
    }
    let next: MailsplitNode | null;
    if (complete) {
      next = await nextChild(r, root);
      if (!next) {
        yield* emit(
          'display',
          concatStreams(rootHeader, multipartBody(r, root, { child: first, bytes: held })),
        );
        await finish(r);
        return;
      }
      yield* emit('display', concatStreams(...held));
    } else {
      yield* emit('display', concatStreams(...held, firstGen));
      next = await nextChild(r, root);
    }

    let displayRun = true;
    while (next) {
      const display = displayRun && isDisplayNode(next);
      if (!display) displayRun = false;
      yield* emit(display ? 'display' : 'attachment', nodeEntity(r, next));
      next = await nextChild(r, root);
    }
    await finish(r);
  } finally {
    r.close();
  }
}

/** Buffered form of splitMimeStream: the same bytes, collected (message.md §8 MIME → DIME). */
export async function mimeToParts(eml: ByteSource, options: MimeSplitOptions = {}): Promise<MimeParts> {
  const out: MimeParts = {
    commonHeaders: new Uint8Array(0),
    otherHeaders: new Uint8Array(0),
    display: [],
    attachments: [],
    commonFields: { date: '', to: '', from: '', subject: '' },
  };
  for await (const item of splitMimeStream(eml, options)) {
    switch (item.kind) {
      case 'common-headers':
        out.commonHeaders = item.data;
        out.commonFields = item.fields;
        break;
      case 'other-headers':
        out.otherHeaders = item.data;
        break;
      case 'display':
        out.display.push(await collect(item.data));
        break;
      case 'attachment':
        out.attachments.push(await collect(item.data));
        break;
    }
  }
  return out;
}
