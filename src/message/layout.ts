import { readU16, readU32 } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import { type ChunkRef, chunkRefFromHeader } from './chunk-codec.js';
import {
  CHUNK_HEADER_SIZE,
  chunkName,
  chunkSpec,
  KEYSLOT_SIZE,
  MAGIC_ENCRYPTED_MESSAGE,
  MAGIC_TRACING,
  REQUIRED_CHUNKS,
} from './constants.js';
import type { ByteSource } from './source.js';

export type { ChunkRef } from './chunk-codec.js';

/** The framing of a message (message.md §1) and its chunk layout. */
export interface MessageLayout {
  size: number;
  /** The tracing data (after its length field), or null. */
  tracing: { offset: number; length: number } | null;
  /** Offset of the 1847 magic. */
  headerOffset: number;
  /** Offset of the first chunk (after the u32 body length). */
  bodyOffset: number;
  chunks: ChunkRef[];
}

export const payloadOffset = (c: ChunkRef): number => c.offset + CHUNK_HEADER_SIZE;
export const slotOffset = (c: ChunkRef, i: number): number =>
  c.offset + CHUNK_HEADER_SIZE + c.payloadLength + i * KEYSLOT_SIZE;

/** Checks chunk order, uniqueness and the required chunks (message.md §2, §2.1). */
export function checkChunkOrder(chunks: readonly { type: number; offset: number }[]): void {
  let prev = -1;
  for (const c of chunks) {
    if (c.type < prev) {
      throw new DimeError('BAD_MESSAGE', `${chunkName(c.type)} chunk follows a chunk of type ${prev}`, {
        type: c.type,
        offset: c.offset,
      });
    }
    if (c.type === prev && !chunkSpec(c.type)!.repeatable) {
      throw new DimeError('BAD_MESSAGE', `${chunkName(c.type)} chunk appears more than once`, {
        type: c.type,
        offset: c.offset,
      });
    }
    prev = c.type;
  }
  const present = new Set(chunks.map((c) => c.type));
  for (const t of REQUIRED_CHUNKS) {
    if (!present.has(t)) {
      throw new DimeError('BAD_MESSAGE', `required ${chunkName(t)} chunk is missing`, { type: t });
    }
  }
}

/**
 * Reads the object framing and walks the chunk headers of a message source, checking the
 * structure; no payload is read. Every defect is a DimeError (TRUNCATED, BAD_MAGIC,
 * LENGTH_MISMATCH, BAD_MESSAGE, …).
 */
export function scanMessage(source: ByteSource): MessageLayout {
  const size = source.size;
  let at = 0;
  const need = (n: number, what: string) => {
    if (size - at < n) throw new DimeError('TRUNCATED', `message ends inside the ${what}`, { at });
  };
  const small = new Uint8Array(CHUNK_HEADER_SIZE);
  need(2, 'object header');
  let magic = readU16(source.read(0, 2, small), 0);
  let tracing: MessageLayout['tracing'] = null;
  if (magic === MAGIC_TRACING) {
    at = 2;
    need(2, 'tracing length');
    const n = readU16(source.read(at, 2, small), 0);
    at += 2;
    if (n === 0) throw new DimeError('BAD_MESSAGE', 'tracing block is empty');
    need(n, 'tracing data');
    tracing = { offset: at, length: n };
    at += n;
    need(2, 'object header');
    magic = readU16(source.read(at, 2, small), 0);
    if (magic !== MAGIC_ENCRYPTED_MESSAGE) {
      throw new DimeError('BAD_MAGIC', `expected message type ${MAGIC_ENCRYPTED_MESSAGE} after tracing`, {
        type: magic,
      });
    }
  } else if (magic !== MAGIC_ENCRYPTED_MESSAGE) {
    throw new DimeError('BAD_MAGIC', `type ${magic} is not an encrypted DIME message`, { type: magic });
  }
  const headerOffset = at;
  at += 2;
  need(4, 'message length');
  const bodyLen = readU32(source.read(at, 4, small), 0);
  at += 4;
  if (bodyLen !== size - at) {
    throw new DimeError('LENGTH_MISMATCH', `message length says ${bodyLen} bytes, ${size - at} follow`, {
      declared: bodyLen,
      actual: size - at,
    });
  }
  const bodyOffset = at;
  const chunks: ChunkRef[] = [];
  while (at < size) {
    const remaining = size - at;
    const head = source.read(at, Math.min(CHUNK_HEADER_SIZE, remaining), small);
    const c = chunkRefFromHeader(head, at, remaining);
    chunks.push(c);
    at += c.size;
  }
  checkChunkOrder(chunks);
  return { size, tracing, headerOffset, bodyOffset, chunks };
}
