import { concatBytes, readU24, u24be } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import {
  CHUNK_HEADER_SIZE,
  ChunkType,
  chunkName,
  chunkSpec,
  EPHEMERAL_SIZE,
  KEYSLOT_SIZE,
  MAX_PAYLOAD,
  SIGNATURE_SIZE,
  STANDARD_OVERHEAD,
} from './constants.js';

/**
 * One chunk as it is on the wire (message.md §2): `type u8 ‖ payload_len u24 ‖ payload ‖ keyslots`.
 * All byte fields are views into the parsed input.
 */
export interface WireChunk {
  type: number;
  /** Offset of the type byte in the whole input (tracing prefix and header included). */
  offset: number;
  /** The chunk's serialized bytes, type byte through the last keyslot: what signatures cover. */
  serialized: Uint8Array;
  /** The payload as on the wire (ciphertext for every type but the ephemeral chunk). */
  payload: Uint8Array;
  /** 64-byte encrypted keyslots, in the type's actor order. */
  keyslots: readonly Uint8Array[];
}

/** Checks the payload size a chunk type allows (before any decryption). */
export function checkPayloadSize(type: number, length: number): void {
  const s = chunkSpec(type);
  if (!s) throw new DimeError('BAD_MESSAGE', `unknown chunk type ${type}`, { type });
  const bad = (why: string): never => {
    throw new DimeError('BAD_MESSAGE', `${chunkName(type)} chunk: ${why}`, { type, length });
  };
  switch (s.payload) {
    case 'ephemeral':
      if (length !== EPHEMERAL_SIZE) bad(`payload is ${length} bytes, not ${EPHEMERAL_SIZE}`);
      break;
    case 'signature':
      if (length !== SIGNATURE_SIZE) bad(`payload is ${length} bytes, not ${SIGNATURE_SIZE}`);
      break;
    case 'standard':
      if (length % 16 !== 0) bad(`payload length ${length} is not a multiple of 16`);
      if (length < STANDARD_OVERHEAD + 1) bad(`payload length ${length} is too short`);
      break;
  }
}

/** Serializes one chunk. The payload must already be in its wire form (encrypted). */
export function encodeChunk(type: number, payload: Uint8Array, keyslots: readonly Uint8Array[]): Uint8Array {
  const s = chunkSpec(type);
  if (!s || type === ChunkType.ALTERNATE)
    throw new DimeError('BAD_INPUT', `cannot encode chunk type ${type}`, { type });
  if (payload.length > MAX_PAYLOAD)
    throw new DimeError('TOO_LARGE', 'chunk payload exceeds 16,777,215 bytes');
  checkPayloadSize(type, payload.length);
  if (keyslots.length !== s.slots.length || keyslots.some((k) => k.length !== KEYSLOT_SIZE)) {
    throw new DimeError('BAD_INPUT', `${s.name} chunk needs ${s.slots.length} keyslots of 64 bytes`);
  }
  return concatBytes(Uint8Array.of(type), u24be(payload.length), payload, ...keyslots);
}

/** Where one chunk lies in a message source (message.md §2); nothing of it is read but its header. */
export interface ChunkRef {
  type: number;
  /** Offset of the type byte in the whole input (tracing prefix and header included). */
  offset: number;
  /** Serialized size: 4 + payload + 64 × keyslots. */
  size: number;
  payloadLength: number;
  slotCount: number;
}

/**
 * Reads one chunk header at `at` (4 bytes `head`), with `remaining` bytes left in the body:
 * rejects unknown types, type 3, impossible payload sizes and chunks that run past the end.
 */
export function chunkRefFromHeader(head: Uint8Array, at: number, remaining: number): ChunkRef {
  if (remaining < CHUNK_HEADER_SIZE) {
    throw new DimeError('TRUNCATED', 'chunk header runs past the end of the message', { offset: at });
  }
  const type = head[0]!;
  const s = chunkSpec(type);
  if (!s) throw new DimeError('BAD_MESSAGE', `unknown chunk type ${type}`, { type, offset: at });
  if (type === ChunkType.ALTERNATE) {
    throw new DimeError('BAD_MESSAGE', 'alternate chunks (type 3) are not supported', { offset: at });
  }
  const payloadLength = readU24(head, 1);
  const size = CHUNK_HEADER_SIZE + payloadLength + KEYSLOT_SIZE * s.slots.length;
  if (size > remaining) {
    throw new DimeError('TRUNCATED', `${s.name} chunk runs past the end of the message`, {
      type,
      offset: at,
      size,
    });
  }
  checkPayloadSize(type, payloadLength);
  return { type, offset: at, size, payloadLength, slotCount: s.slots.length };
}

/**
 * Reads the chunk starting at `at` in `body`. `base` is the offset of `body` in the whole input,
 * used only for reporting. Rejects unknown types and impossible payload sizes.
 */
export function decodeChunkAt(body: Uint8Array, at: number, base = 0): WireChunk {
  const ref = chunkRefFromHeader(body.subarray(at, at + CHUNK_HEADER_SIZE), base + at, body.length - at);
  return wireChunkOf(body.subarray(at, at + ref.size), ref.type, base + at, ref.payloadLength, ref.slotCount);
}

/** A WireChunk over a chunk's serialized bytes (views, no copy). */
export function wireChunkOf(
  serialized: Uint8Array,
  type: number,
  offset: number,
  payloadLength: number,
  slotCount: number,
): WireChunk {
  const payloadEnd = CHUNK_HEADER_SIZE + payloadLength;
  const keyslots: Uint8Array[] = [];
  for (let i = 0; i < slotCount; i++) {
    keyslots.push(serialized.subarray(payloadEnd + i * KEYSLOT_SIZE, payloadEnd + (i + 1) * KEYSLOT_SIZE));
  }
  return { type, offset, serialized, payload: serialized.subarray(CHUNK_HEADER_SIZE, payloadEnd), keyslots };
}
