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
function isContentChunk(type: number): boolean {
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

/** Author full signature (226): ser(2) ‖ … ‖ ser(131)… ‖ ser(225). */
export function authorFullSignatureInput(chunks: readonly WireChunk[]): Uint8Array {
  return concatChunks(chunks, (t) => t <= ChunkType.AUTHOR_TREE_SIG);
}

/** Origin meta-bounce signature (248): the envelope and metadata sections. */
export function metaBounceSignatureInput(chunks: readonly WireChunk[]): Uint8Array {
  return concatChunks(chunks, (t) => {
    const s = chunkSpec(t)?.section;
    return s === 'envelope' || s === 'metadata';
  });
}

/** Origin display-bounce signature (249): envelope, metadata and display sections (no attachments). */
export function displayBounceSignatureInput(chunks: readonly WireChunk[]): Uint8Array {
  return concatChunks(chunks, (t) => {
    const s = chunkSpec(t)?.section;
    return s === 'envelope' || s === 'metadata' || s === 'display';
  });
}

/** Origin full signature (255): ser(2) … ser(226) ‖ ser(248 if present) ‖ ser(249 if present). */
export function originFullSignatureInput(chunks: readonly WireChunk[]): Uint8Array {
  return concatChunks(chunks, (t) => t <= ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG);
}

/** The input an origin signature chunk covers. */
export function originSignatureInput(type: number, chunks: readonly WireChunk[]): Uint8Array {
  switch (type) {
    case ChunkType.ORIGIN_META_BOUNCE_SIG:
      return metaBounceSignatureInput(chunks);
    case ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG:
      return displayBounceSignatureInput(chunks);
    case ChunkType.ORIGIN_FULL_SIG:
      return originFullSignatureInput(chunks);
    default:
      throw new DimeError('BAD_INPUT', `chunk type ${type} is not an origin signature`);
  }
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
