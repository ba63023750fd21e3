import { concatBytes } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import { ChunkFlag, MAX_CHUNK_DATA, UNSUPPORTED_FLAGS } from './constants.js';

/** A display (67) or attachment (131) part given to the sealer: raw bytes (the MIME layer's job). */
export interface ContentInput {
  data: Uint8Array | string;
  /** Chunk flags; only bits outside 1, 2, 4 and 128 may be set (libdime writes 0). */
  flags?: number;
}

/** A display or attachment part as read back, with spanning chunks joined (message.md §8). */
export interface ContentPart {
  data: Uint8Array;
  /** The chunk flags, without the continuation bit 128. */
  flags: number;
  /** How many chunks carried the part (1 unless it spanned). */
  chunkCount: number;
}

/** The data and flags of one STANDARD chunk. */
export interface ChunkData {
  data: Uint8Array;
  flags: number;
}

export function contentBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return new Uint8Array(Buffer.from(data, 'utf8'));
  if (data instanceof Uint8Array) return data;
  throw new DimeError('BAD_INPUT', 'part data must be bytes or text');
}

/**
 * Splits a part into chunk data: one chunk when it fits, otherwise the fewest consecutive chunks
 * of at most `maxData` bytes, every one but the last flagged 128 (message.md §8 Decision).
 */
export function splitPart(part: ContentInput, maxData = MAX_CHUNK_DATA): ChunkData[] {
  const data = contentBytes(part.data);
  const flags = part.flags ?? 0;
  if (
    !Number.isInteger(flags) ||
    flags < 0 ||
    flags > 255 ||
    flags & (UNSUPPORTED_FLAGS | ChunkFlag.CONTINUES)
  ) {
    throw new DimeError('BAD_INPUT', `part flags ${flags} are not allowed (1, 2, 4 and 128 are reserved)`);
  }
  if (data.length === 0) throw new DimeError('BAD_INPUT', 'a part must hold at least one byte');
  if (!Number.isInteger(maxData) || maxData < 1 || maxData > MAX_CHUNK_DATA) {
    throw new DimeError('BAD_INPUT', `chunk data limit must be 1–${MAX_CHUNK_DATA}`);
  }
  // n chunks of nearly equal size (they differ by at most one byte), so that equal-payload
  // section padding (payload.ts) costs almost nothing
  const n = Math.ceil(data.length / maxData);
  const base = Math.floor(data.length / n);
  const longer = data.length % n;
  const out: ChunkData[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const len = base + (i < longer ? 1 : 0);
    out.push({ data: data.subarray(at, at + len), flags: i === n - 1 ? flags : flags | ChunkFlag.CONTINUES });
    at += len;
  }
  return out;
}

/**
 * Joins the chunks of one type back into parts: a chunk flagged 128 continues in the next one.
 * A continuation without a following chunk, or flags that change inside a part, is BAD_MESSAGE.
 */
export function joinParts(chunks: readonly ChunkData[]): ContentPart[] {
  const parts: ContentPart[] = [];
  let pending: ChunkData[] = [];
  for (const c of chunks) {
    pending.push(c);
    if (c.flags & ChunkFlag.CONTINUES) continue;
    const flags = pending[0]!.flags & ~ChunkFlag.CONTINUES;
    if (pending.some((p) => (p.flags & ~ChunkFlag.CONTINUES) !== flags)) {
      throw new DimeError('BAD_MESSAGE', 'the chunks of a spanning part carry different flags');
    }
    parts.push({
      data: pending.length === 1 ? pending[0]!.data : concatBytes(...pending.map((p) => p.data)),
      flags,
      chunkCount: pending.length,
    });
    pending = [];
  }
  if (pending.length > 0) {
    throw new DimeError('BAD_MESSAGE', 'the last chunk of a part is flagged as continuing (128)');
  }
  return parts;
}
