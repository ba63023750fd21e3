import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MailsplitNode } from 'mailsplit';
import { DimeError } from '../../errors/index.js';
import { type PartKind, startEntity } from './entity.js';
import { ItemReader, mediaType } from './reader.js';
import { asBuffer, type ByteSource } from './streams.js';

/** What a display or attachment part holds (sizes and digests of its data, hex SHA-256). */
export interface PartInfo {
  kind: PartKind;
  /** Place among the parts of its kind, from 0. */
  index: number;
  /** Whether the chunk data is a MIME entity (false: raw data, described as the writer wraps it). */
  mime: boolean;
  /** Media type, lowercase (`multipart/…` for a display part that keeps a multipart whole). */
  type: string;
  /** File name (decoded: RFC 2231 and encoded words), `attachment-N` for raw attachment data. */
  name: string | null;
  disposition: string | null;
  content_id: string | null;
  /** Size and SHA-256 of the content after transfer decoding (base64, quoted-printable); for a
   *  multipart, of its body as stored. */
  size: number;
  sha256: string;
  /** Size and SHA-256 of the chunk data itself (the whole entity). */
  chunk_size: number;
  chunk_sha256: string;
}

export interface DescribeOptions {
  kind?: PartKind;
  index?: number;
}

async function* tap(src: AsyncIterable<Buffer>, onChunk: (b: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const b of src) {
    onChunk(b);
    yield b;
  }
}

/** The mailsplit node of a complete header block (ending with its empty line). */
async function parseHeaderBlock(header: Buffer): Promise<MailsplitNode> {
  const r = new ItemReader(header);
  try {
    const node = await r.next();
    if (node?.type !== 'node') throw new DimeError('BAD_MIME', 'the part has no header block');
    return node;
  } finally {
    r.close();
  }
}

/**
 * Describes one part's data as it streams by, without holding it: kind 'attachment' by default.
 * Raw data (message.md §8 Decision) is described as the writer wraps it.
 */
export async function describeEntityStream(
  data: ByteSource,
  options: DescribeOptions = {},
): Promise<PartInfo> {
  const kind = options.kind ?? 'attachment';
  const index = options.index ?? 0;
  if (kind !== 'display' && kind !== 'attachment')
    throw new DimeError('BAD_INPUT', `unknown part kind "${kind}"`);
  const chunkHash = createHash('sha256');
  let chunkSize = 0;
  const start = await startEntity(data, kind);
  const stream = tap(start.stream.all(), (b) => {
    chunkHash.update(b);
    chunkSize += b.length;
  });
  const hash = createHash('sha256');
  let size = 0;
  const take = (b: Buffer) => {
    hash.update(b);
    size += b.length;
  };
  const info: Omit<PartInfo, 'size' | 'sha256' | 'chunk_size' | 'chunk_sha256'> = {
    kind,
    index,
    mime: start.mime,
    type: '',
    name: null,
    disposition: null,
    content_id: null,
  };

  if (!start.mime) {
    for await (const b of stream) take(b);
    info.type = kind === 'display' ? (start.html ? 'text/html' : 'text/plain') : 'application/octet-stream';
    if (kind === 'attachment') {
      info.name = `attachment-${index + 1}`;
      info.disposition = 'attachment';
    }
  } else {
    // mailsplit parses the header block; the body (everything after it: a root entity has no
    // delimiters around it) goes straight through the node's transfer decoder
    const header: Buffer[] = [];
    let headerLen = 0;
    const body = async function* () {
      for await (const b of stream) {
        if (headerLen < start.headerLength) {
          const n = Math.min(start.headerLength - headerLen, b.length);
          header.push(b.subarray(0, n));
          headerLen += n;
          if (n < b.length) yield b.subarray(n);
        } else yield b;
      }
    };
    const bodyIt = body()[Symbol.asyncIterator]();
    const firstBody = await bodyIt.next();
    const node = await parseHeaderBlock(Buffer.concat(header, headerLen));
    info.type = mediaType(node);
    info.name = node.filename || null;
    info.disposition = node.disposition || null;
    info.content_id = node.headers.getFirst('content-id') || null;
    const rest = async function* () {
      if (!firstBody.done) yield firstBody.value;
      for (let x = await bodyIt.next(); !x.done; x = await bodyIt.next()) yield x.value;
    };
    if (node.multipart) {
      for await (const b of rest()) take(b);
    } else {
      await pipeline(Readable.from(rest()), node.getDecoder(), async (decoded: AsyncIterable<unknown>) => {
        for await (const b of decoded) take(asBuffer(b));
      });
    }
  }
  return {
    ...info,
    size,
    sha256: hash.digest('hex'),
    chunk_size: chunkSize,
    chunk_sha256: chunkHash.digest('hex'),
  };
}

/** Describes every display and attachment part of a message's parts. */
export async function describeParts(parts: {
  display: readonly (Uint8Array | string)[];
  attachments?: readonly (Uint8Array | string)[];
}): Promise<{ display: PartInfo[]; attachments: PartInfo[] }> {
  const display: PartInfo[] = [];
  const attachments: PartInfo[] = [];
  for (const [index, d] of parts.display.entries()) {
    display.push(await describeEntityStream(asBuffer(d), { kind: 'display', index }));
  }
  for (const [index, d] of (parts.attachments ?? []).entries()) {
    attachments.push(await describeEntityStream(asBuffer(d), { kind: 'attachment', index }));
  }
  return { display, attachments };
}
