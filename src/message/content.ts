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
  const flags = checkPartFlags(part.flags ?? 0);
  if (data.length === 0) throw new DimeError('BAD_INPUT', 'a part must hold at least one byte');
  const out: ChunkData[] = [];
  const lens = splitLengths(data.length, maxData);
  let at = 0;
  lens.forEach((len, i) => {
    out.push({
      data: data.subarray(at, at + len),
      flags: i === lens.length - 1 ? flags : flags | ChunkFlag.CONTINUES,
    });
    at += len;
  });
  return out;
}

/**
 * The data lengths of the chunks a part of `size` bytes spans: the fewest chunks of at most
 * `maxData` bytes, of nearly equal size (they differ by at most one byte), so that equal-payload
 * section padding (payload.ts) costs almost nothing.
 */
export function splitLengths(size: number, maxData = MAX_CHUNK_DATA): number[] {
  if (!Number.isInteger(size) || size < 1)
    throw new DimeError('BAD_INPUT', 'a part must hold at least one byte');
  if (!Number.isInteger(maxData) || maxData < 1 || maxData > MAX_CHUNK_DATA) {
    throw new DimeError('BAD_INPUT', `chunk data limit must be 1–${MAX_CHUNK_DATA}`);
  }
  const n = Math.ceil(size / maxData);
  const base = Math.floor(size / n);
  const longer = size % n;
  return Array.from({ length: n }, (_, i) => base + (i < longer ? 1 : 0));
}

/** Checks the flags a caller may give a part (not 1, 2, 4 or 128). */
export function checkPartFlags(flags: number): number {
  if (
    !Number.isInteger(flags) ||
    flags < 0 ||
    flags > 255 ||
    flags & (UNSUPPORTED_FLAGS | ChunkFlag.CONTINUES)
  ) {
    throw new DimeError('BAD_INPUT', `part flags ${flags} are not allowed (1, 2, 4 and 128 are reserved)`);
  }
  return flags;
}

/** Where one part lies in the list of its type's chunks. */
export interface PartSpan {
  /** Index of its first chunk in the list given to groupParts. */
  first: number;
  chunkCount: number;
  /** The chunk flags, without the continuation bit 128. */
  flags: number;
}

/**
 * Groups the chunks of one type into parts: a chunk flagged 128 continues in the next one.
 * A continuation without a following chunk, or flags that change inside a part, is BAD_MESSAGE.
 */
export function groupParts(chunks: readonly { flags: number }[]): PartSpan[] {
  const parts: PartSpan[] = [];
  let first = 0;
  for (let i = 0; i < chunks.length; i++) {
    if (chunks[i]!.flags & ChunkFlag.CONTINUES) continue;
    const flags = chunks[first]!.flags & ~ChunkFlag.CONTINUES;
    for (let j = first; j <= i; j++) {
      if ((chunks[j]!.flags & ~ChunkFlag.CONTINUES) !== flags) {
        throw new DimeError('BAD_MESSAGE', 'the chunks of a spanning part carry different flags');
      }
    }
    parts.push({ first, chunkCount: i - first + 1, flags });
    first = i + 1;
  }
  if (first < chunks.length) {
    throw new DimeError('BAD_MESSAGE', 'the last chunk of a part is flagged as continuing (128)');
  }
  return parts;
}

/** Joins the chunks of one type back into parts (groupParts, then the data concatenated). */
export function joinParts(chunks: readonly ChunkData[]): ContentPart[] {
  return groupParts(chunks).map((p) => ({
    data:
      p.chunkCount === 1
        ? chunks[p.first]!.data
        : concatBytes(...chunks.slice(p.first, p.first + p.chunkCount).map((c) => c.data)),
    flags: p.flags,
    chunkCount: p.chunkCount,
  }));
}
