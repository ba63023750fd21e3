import type { WireChunk } from './chunk-codec.js';
import type { Actor } from './constants.js';
import type { ContentPart } from './content.js';
import type { CommonHeaderFields } from './headers.js';
import type { Kek } from './kek.js';
import type { TreeLayout } from './signature-inputs.js';

/**
 * The envelope as one actor sees it (message.md §4, §7.6). Chunk 4 gives author, destination and
 * their fingerprints (author, origin, recipient); chunk 5 gives recipient, origin and theirs
 * (author, destination, recipient). What the actor cannot read is null. Fingerprints are the true
 * wire values (libdime's in-memory object swaps them; we do not).
 */
export interface EnvelopeView {
  author: string | null;
  authorFingerprint: string | null;
  recipient: string | null;
  recipientFingerprint: string | null;
  origin: string | null;
  originFingerprint: string | null;
  destination: string | null;
  destinationFingerprint: string | null;
}

/**
 * True when the author is the origin's org signet (the same fingerprint): a message the origin's
 * postmaster wrote, such as a bounce (flow.md §3.2). A reader then verifies the author's signatures
 * with the origin org signet; there is no user signet to look up.
 */
export function isOriginAuthored(e: EnvelopeView): boolean {
  return e.authorFingerprint !== null && e.authorFingerprint === e.originFingerprint;
}

/**
 * valid: checked and good. invalid: checked and bad (only seen in a BAD_SIGNATURE error's
 * context: opening fails closed). unverified: present, but not checked (the actor has no keyslot,
 * or verify was off). absent: no such chunk, or an origin placeholder (all zero) that the origin has
 * not signed yet, as seen by the author or the origin.
 */
export type SignatureStatus = 'valid' | 'invalid' | 'unverified' | 'absent';

export interface ChunkSignatureStatus {
  type: number;
  /** Index of the chunk in the wire chunk list. */
  index: number;
  status: SignatureStatus;
}

export interface SignatureReport {
  /** The author's plaintext signature inside each STANDARD chunk the actor decrypted. */
  chunks: ChunkSignatureStatus[];
  /** Author tree signature (225). */
  tree: SignatureStatus;
  /** Which tree input matched ('intended' = not produced by libdime); null unless valid. */
  treeLayout: TreeLayout | null;
  /** Author full signature (226). */
  authorFull: SignatureStatus;
  /** Origin meta-bounce (248), display-bounce (249) and full (255) signatures. */
  metaBounce: SignatureStatus;
  displayBounce: SignatureStatus;
  originFull: SignatureStatus;
}

/** One wire chunk with what this actor could decrypt of it. */
export interface OpenedChunk {
  type: number;
  offset: number;
  /** The chunk exactly as on the wire (type byte through last keyslot). */
  serialized: Uint8Array;
  /** The wire payload (ciphertext, or the ephemeral key). */
  payload: Uint8Array;
  /** The decrypted payload (STANDARD: signature ‖ data_len ‖ flags ‖ pad ‖ data ‖ padding), null without a keyslot. */
  plain: Uint8Array | null;
  /** STANDARD: the data segment; SIGNATURE: the 64-byte signature; EPHEMERAL: the key. Null without a keyslot. */
  data: Uint8Array | null;
  /** STANDARD chunk flags, else null. */
  flags: number | null;
}

/** Chunk 33 as read: the raw bytes and the parsed fields. */
export interface CommonHeadersView {
  raw: Uint8Array;
  fields: CommonHeaderFields;
}

/** Everything one actor may see of a message (message.md §7), after every check it can make. */
export interface OpenedMessage {
  actor: Actor;
  /** The actor's key-encryption key for this message. */
  kek: Kek;
  tracing: Uint8Array | null;
  envelope: EnvelopeView;
  /** Author and recipient only. */
  commonHeaders: CommonHeadersView | null;
  /** Chunk 34 raw bytes; null when the actor cannot read it or the message has none. */
  otherHeaders: Uint8Array | null;
  display: ContentPart[];
  attachments: ContentPart[];
  signatures: SignatureReport;
  chunks: OpenedChunk[];
  /** The wire chunks (for callers that re-serialize or sign, e.g. the origin). */
  wire: readonly WireChunk[];
}
