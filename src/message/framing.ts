import { concatBytes, readU16, readU32, u16be, u32be } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import { decodeChunkAt, type WireChunk } from './chunk-codec.js';
import {
  chunkName,
  chunkSpec,
  MAGIC_ENCRYPTED_MESSAGE,
  MAGIC_TRACING,
  REQUIRED_CHUNKS,
} from './constants.js';

/** A serialized DMIME message split into its parts (message.md §1). */
export interface WireMessage {
  /** Opaque tracing data (the bytes after the tracing length), or null when absent. */
  tracing: Uint8Array | null;
  /** The chunks in wire order; ascending types, only display and attachment chunks repeat. */
  chunks: readonly WireChunk[];
}

const MAX_TRACING = 0xffff;
const MAX_BODY = 0xffffffff;

/** Checks chunk order, uniqueness and the required chunks (message.md §2, §2.1). */
export function checkChunkStructure(chunks: readonly WireChunk[]): void {
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
 * Parses the object framing and the chunk sequence, and checks the structure. Nothing is
 * decrypted here. Every defect is a DimeError (BAD_INPUT, TRUNCATED, BAD_MAGIC, LENGTH_MISMATCH,
 * BAD_MESSAGE, …).
 */
export function parseMessage(bytes: Uint8Array): WireMessage {
  if (!(bytes instanceof Uint8Array)) throw new DimeError('BAD_INPUT', 'a message must be a Uint8Array');
  let at = 0;
  const need = (n: number, what: string) => {
    if (bytes.length - at < n) throw new DimeError('TRUNCATED', `message ends inside the ${what}`, { at });
  };
  need(2, 'object header');
  let magic = readU16(bytes, 0);
  let tracing: Uint8Array | null = null;
  if (magic === MAGIC_TRACING) {
    at = 2;
    need(2, 'tracing length');
    const n = readU16(bytes, at);
    at += 2;
    if (n === 0) throw new DimeError('BAD_MESSAGE', 'tracing block is empty');
    need(n, 'tracing data');
    tracing = bytes.subarray(at, at + n);
    at += n;
    need(2, 'object header');
    magic = readU16(bytes, at);
    if (magic !== MAGIC_ENCRYPTED_MESSAGE) {
      throw new DimeError('BAD_MAGIC', `expected message type ${MAGIC_ENCRYPTED_MESSAGE} after tracing`, {
        type: magic,
      });
    }
  } else if (magic !== MAGIC_ENCRYPTED_MESSAGE) {
    throw new DimeError('BAD_MAGIC', `type ${magic} is not an encrypted DIME message`, { type: magic });
  }
  at += 2;
  need(4, 'message length');
  const bodyLen = readU32(bytes, at);
  at += 4;
  if (bodyLen !== bytes.length - at) {
    throw new DimeError(
      'LENGTH_MISMATCH',
      `message length says ${bodyLen} bytes, ${bytes.length - at} follow`,
      {
        declared: bodyLen,
        actual: bytes.length - at,
      },
    );
  }
  const body = bytes.subarray(at);
  const chunks: WireChunk[] = [];
  let off = 0;
  while (off < body.length) {
    const c = decodeChunkAt(body, off, at);
    chunks.push(c);
    off += c.serialized.length;
  }
  checkChunkStructure(chunks);
  return { tracing, chunks };
}

/** Writes the object: optional tracing prefix, magic 1847, u32 body length, chunks. */
export function serializeMessage(
  chunks: readonly Uint8Array[],
  tracing: Uint8Array | null = null,
): Uint8Array {
  let bodyLen = 0;
  for (const c of chunks) bodyLen += c.length;
  if (bodyLen > MAX_BODY) throw new DimeError('TOO_LARGE', 'message body exceeds 4 GiB');
  const head: Uint8Array[] = [];
  if (tracing) {
    if (tracing.length === 0 || tracing.length > MAX_TRACING) {
      throw new DimeError('BAD_INPUT', 'tracing data must be 1–65535 bytes');
    }
    head.push(u16be(MAGIC_TRACING), u16be(tracing.length), tracing);
  }
  head.push(u16be(MAGIC_ENCRYPTED_MESSAGE), u32be(bodyLen));
  return concatBytes(...head, ...chunks);
}

/** The serialized bytes of the chunks whose type passes `pick`, concatenated in wire order. */
export function concatChunks(chunks: readonly WireChunk[], pick: (type: number) => boolean): Uint8Array {
  return concatBytes(...chunks.filter((c) => pick(c.type)).map((c) => c.serialized));
}
