import { concatBytes, u16be, u32be } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import { type WireChunk, wireChunkOf } from './chunk-codec.js';
import { MAGIC_ENCRYPTED_MESSAGE, MAGIC_TRACING } from './constants.js';
import { checkChunkOrder, type MessageLayout, scanMessage } from './layout.js';
import { MemorySource } from './source.js';

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
  checkChunkOrder(chunks);
}

/** The WireChunks (views into `bytes`) of a scanned layout. */
export function wireChunksOf(bytes: Uint8Array, layout: MessageLayout): WireChunk[] {
  return layout.chunks.map((c) =>
    wireChunkOf(bytes.subarray(c.offset, c.offset + c.size), c.type, c.offset, c.payloadLength, c.slotCount),
  );
}

/**
 * Parses the object framing and the chunk sequence, and checks the structure. Nothing is
 * decrypted here. Every defect is a DimeError (BAD_INPUT, TRUNCATED, BAD_MAGIC, LENGTH_MISMATCH,
 * BAD_MESSAGE, …).
 */
export function parseMessage(bytes: Uint8Array): WireMessage {
  if (!(bytes instanceof Uint8Array)) throw new DimeError('BAD_INPUT', 'a message must be a Uint8Array');
  const layout = scanMessage(new MemorySource(bytes));
  const t = layout.tracing;
  return {
    tracing: t ? bytes.subarray(t.offset, t.offset + t.length) : null,
    chunks: wireChunksOf(bytes, layout),
  };
}

/** The object header: optional tracing prefix, magic 1847 and the u32 body length. */
export function messageHeader(bodyLen: number, tracing: Uint8Array | null = null): Uint8Array {
  if (bodyLen > MAX_BODY) throw new DimeError('TOO_LARGE', 'message body exceeds 4 GiB');
  const head: Uint8Array[] = [];
  if (tracing) {
    if (tracing.length === 0 || tracing.length > MAX_TRACING) {
      throw new DimeError('BAD_INPUT', 'tracing data must be 1–65535 bytes');
    }
    head.push(u16be(MAGIC_TRACING), u16be(tracing.length), tracing);
  }
  head.push(u16be(MAGIC_ENCRYPTED_MESSAGE), u32be(bodyLen));
  return concatBytes(...head);
}

/** Writes the object: optional tracing prefix, magic 1847, u32 body length, chunks. */
export function serializeMessage(
  chunks: readonly Uint8Array[],
  tracing: Uint8Array | null = null,
): Uint8Array {
  let bodyLen = 0;
  for (const c of chunks) bodyLen += c.length;
  return concatBytes(messageHeader(bodyLen, tracing), ...chunks);
}

/** The serialized bytes of the chunks whose type passes `pick`, concatenated in wire order. */
export function concatChunks(chunks: readonly WireChunk[], pick: (type: number) => boolean): Uint8Array {
  return concatBytes(...chunks.filter((c) => pick(c.type)).map((c) => c.serialized));
}
