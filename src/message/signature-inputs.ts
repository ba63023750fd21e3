import { crypto } from '../crypto/index.js';
import { DimeError } from '../errors/index.js';
import type { WireChunk } from './chunk-codec.js';
import { ChunkType, chunkSpec, SIGNATURE_SIZE } from './constants.js';
import { concatChunks } from './framing.js';

/**
 * The byte strings each message signature covers (message.md §6). Every input is built from the
 * serialized ENCRYPTED chunks (type byte through the last keyslot), in wire order.
 */

/** Chunk types hashed by the tree signature: everything before the signature section. */
export function isContentChunk(type: number): boolean {
  return type < ChunkType.AUTHOR_TREE_SIG;
}

/**
 * 'libdime': what libdime actually signs (the counter is not advanced after the destination
 * chunk, so H(33) overwrites H(5) and the last 64 bytes stay zero). 'intended': one SHA-512 per
 * chunk in order. We produce 'libdime'; a verifier tries both (see TREE_LAYOUTS).
 */
export type TreeLayout = 'libdime' | 'intended';

/** The layouts a verifier accepts, in the order it tries them. Drop 'libdime' once a fixed reference exists. */
export const TREE_LAYOUTS: readonly TreeLayout[] = ['libdime', 'intended'];

/** A content chunk's type and the SHA-512 of its serialized (encrypted) bytes. */
export interface ChunkHash {
  type: number;
  hash: Uint8Array;
}

/**
 * Input of the author tree signature (225) from per-chunk hashes, in wire order: n × 64 bytes,
 * signed as is (not hashed again). Taking hashes lets a streaming writer hash each chunk as it
 * goes; signature chunks (≥ 225) are ignored.
 */
export function treeSignatureInputFromHashes(hashes: readonly ChunkHash[], layout: TreeLayout): Uint8Array {
  const content = hashes.filter((h) => isContentChunk(h.type));
  const out = new Uint8Array(content.length * 64);
  let slot = 0;
  for (const h of content) {
    if (h.hash.length !== 64) throw new DimeError('BAD_INPUT', 'a chunk hash is 64 bytes (SHA-512)');
    out.set(h.hash, slot * 64);
    // libdime `dmsg_treesig_data_get`: no ++chunk_count after the destination chunk
    if (!(layout === 'libdime' && h.type === ChunkType.DESTINATION)) slot++;
  }
  return out;
}

/** Input of the author tree signature (225) over the chunks of a message. */
export function treeSignatureInput(chunks: readonly WireChunk[], layout: TreeLayout): Uint8Array {
  return treeSignatureInputFromHashes(
    chunks
      .filter((c) => isContentChunk(c.type))
      .map((c) => ({ type: c.type, hash: crypto().sha512(c.serialized) })),
    layout,
  );
}

const inSections =
  (...sections: string[]) =>
  (t: number): boolean =>
    sections.includes(chunkSpec(t)?.section ?? '');

/**
 * The chunk types each full signature covers (message.md §6): 226 everything up to the tree
 * signature; 248 the envelope and metadata sections; 249 those and the display section; 255
 * everything up to the bounce signatures. Chunks are in ascending type order, so each covers a
 * contiguous run of chunks from the first one: one byte range of the message.
 */
export const SIGNATURE_COVERS: Readonly<Record<number, (type: number) => boolean>> = {
  [ChunkType.AUTHOR_FULL_SIG]: (t) => t <= ChunkType.AUTHOR_TREE_SIG,
  [ChunkType.ORIGIN_META_BOUNCE_SIG]: inSections('envelope', 'metadata'),
  [ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG]: inSections('envelope', 'metadata', 'display'),
  [ChunkType.ORIGIN_FULL_SIG]: (t) => t <= ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG,
};

function coverOf(sigType: number): (type: number) => boolean {
  const f = SIGNATURE_COVERS[sigType];
  if (!f) throw new DimeError('BAD_INPUT', `chunk type ${sigType} is not a full signature`);
  return f;
}

/** A chunk's place in a message: what a signature range is computed from. */
export interface ChunkSpan {
  type: number;
  offset: number;
  size: number;
}

/**
 * The byte range [start, end) of the message that a full signature (226, 248, 249, 255) covers,
 * and how many chunks it spans (from the first). Empty (count 0) when it covers no chunk.
 */
export function signatureRange(
  sigType: number,
  chunks: readonly ChunkSpan[],
): { start: number; end: number; count: number } {
  const covers = coverOf(sigType);
  let count = 0;
  while (count < chunks.length && covers(chunks[count]!.type)) count++;
  for (let i = count; i < chunks.length; i++) {
    if (covers(chunks[i]!.type)) {
      throw new DimeError('BAD_MESSAGE', 'the chunks a signature covers are not contiguous', { sigType });
    }
  }
  if (count === 0) return { start: 0, end: 0, count: 0 };
  const last = chunks[count - 1]!;
  return { start: chunks[0]!.offset, end: last.offset + last.size, count };
}

/** Author full signature (226): ser(2) ‖ … ‖ ser(131)… ‖ ser(225). */
export function authorFullSignatureInput(chunks: readonly WireChunk[]): Uint8Array {
  return concatChunks(chunks, coverOf(ChunkType.AUTHOR_FULL_SIG));
}

/** Origin meta-bounce signature (248): the envelope and metadata sections. */
export function metaBounceSignatureInput(chunks: readonly WireChunk[]): Uint8Array {
  return concatChunks(chunks, coverOf(ChunkType.ORIGIN_META_BOUNCE_SIG));
}

/** Origin display-bounce signature (249): envelope, metadata and display sections (no attachments). */
export function displayBounceSignatureInput(chunks: readonly WireChunk[]): Uint8Array {
  return concatChunks(chunks, coverOf(ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG));
}

/** Origin full signature (255): ser(2) … ser(226) ‖ ser(248 if present) ‖ ser(249 if present). */
export function originFullSignatureInput(chunks: readonly WireChunk[]): Uint8Array {
  return concatChunks(chunks, coverOf(ChunkType.ORIGIN_FULL_SIG));
}

/** The input an origin signature chunk covers. */
export function originSignatureInput(type: number, chunks: readonly WireChunk[]): Uint8Array {
  if (type === ChunkType.AUTHOR_FULL_SIG) {
    throw new DimeError('BAD_INPUT', `chunk type ${type} is not an origin signature`);
  }
  return concatChunks(chunks, coverOf(type));
}

/** Verifies the tree signature; returns the layout that matched, or null. */
export function verifyTreeSignature(
  publicKey: Uint8Array,
  chunks: readonly WireChunk[],
  signature: Uint8Array,
): TreeLayout | null {
  const hashes = chunks
    .filter((c) => isContentChunk(c.type))
    .map((c) => ({ type: c.type, hash: crypto().sha512(c.serialized) }));
  return verifyTreeSignatureFromHashes(publicKey, hashes, signature);
}

/** Verifies the tree signature over per-chunk hashes; returns the layout that matched, or null. */
export function verifyTreeSignatureFromHashes(
  publicKey: Uint8Array,
  hashes: readonly ChunkHash[],
  signature: Uint8Array,
): TreeLayout | null {
  for (const layout of TREE_LAYOUTS) {
    if (crypto().ed25519Verify(publicKey, treeSignatureInputFromHashes(hashes, layout), signature))
      return layout;
  }
  return null;
}

/** The 64-byte placeholder the author writes in 248/249/255 (message.md §6.2). */
export function isZeroSignature(sig: Uint8Array): boolean {
  if (sig.length !== SIGNATURE_SIZE) return false;
  let acc = 0;
  for (const b of sig) acc |= b;
  return acc === 0;
}
