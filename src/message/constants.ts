/**
 * DMIME v1 constants (message.md §1–§3): object magic numbers, the chunk type table with its
 * keyslot actors, flags and sizes. Everything here mirrors libdime's `dmime_chunk_keys` table.
 */

/** The four message actors, in keyslot order (message.md §3: A, O, D, R). */
export type Actor = 'author' | 'origin' | 'destination' | 'recipient';
export const ACTORS: readonly Actor[] = ['author', 'origin', 'destination', 'recipient'];

export const MAGIC_ENCRYPTED_MESSAGE = 1847;
export const MAGIC_TRACING = 1837;

export const ChunkType = {
  EPHEMERAL: 2,
  ALTERNATE: 3,
  ORIGIN: 4,
  DESTINATION: 5,
  COMMON_HEADERS: 33,
  OTHER_HEADERS: 34,
  DISPLAY: 67,
  ATTACHMENT: 131,
  AUTHOR_TREE_SIG: 225,
  AUTHOR_FULL_SIG: 226,
  ORIGIN_META_BOUNCE_SIG: 248,
  ORIGIN_DISPLAY_BOUNCE_SIG: 249,
  ORIGIN_FULL_SIG: 255,
} as const;

export type PayloadKind = 'ephemeral' | 'standard' | 'signature';
/** libdime's sections (`dmime_chunk_section_t`): the bounce signatures cover whole sections. */
export type Section = 'envelope' | 'metadata' | 'display' | 'attach' | 'sig';

export interface ChunkSpec {
  type: number;
  name: string;
  payload: PayloadKind;
  section: Section;
  /** Actors with a keyslot, in wire order. Empty for the unencrypted ephemeral chunk. */
  slots: readonly Actor[];
  /** Display and attachment chunks repeat; every other type appears at most once. */
  repeatable: boolean;
}

const spec = (
  type: number,
  name: string,
  payload: PayloadKind,
  section: Section,
  slots: readonly Actor[],
  repeatable = false,
): ChunkSpec => ({ type, name, payload, section, slots, repeatable });

const AOR: readonly Actor[] = ['author', 'origin', 'recipient'];
const ADR: readonly Actor[] = ['author', 'destination', 'recipient'];
const AR: readonly Actor[] = ['author', 'recipient'];
const AODR: readonly Actor[] = ['author', 'origin', 'destination', 'recipient'];

/** The DMIME v1 chunk table (message.md §2.1). Type 3 (alternate) is declared but never valid. */
export const CHUNK_SPECS: ReadonlyMap<number, ChunkSpec> = new Map(
  [
    spec(ChunkType.EPHEMERAL, 'ephemeral', 'ephemeral', 'envelope', []),
    spec(ChunkType.ORIGIN, 'origin', 'standard', 'envelope', AOR),
    spec(ChunkType.DESTINATION, 'destination', 'standard', 'envelope', ADR),
    spec(ChunkType.COMMON_HEADERS, 'common headers', 'standard', 'metadata', AR),
    spec(ChunkType.OTHER_HEADERS, 'other headers', 'standard', 'metadata', AR),
    spec(ChunkType.DISPLAY, 'display', 'standard', 'display', AR, true),
    spec(ChunkType.ATTACHMENT, 'attachment', 'standard', 'attach', AR, true),
    spec(ChunkType.AUTHOR_TREE_SIG, 'author tree signature', 'signature', 'sig', AOR),
    spec(ChunkType.AUTHOR_FULL_SIG, 'author full signature', 'signature', 'sig', AOR),
    spec(ChunkType.ORIGIN_META_BOUNCE_SIG, 'origin meta-bounce signature', 'signature', 'sig', AODR),
    spec(ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG, 'origin display-bounce signature', 'signature', 'sig', AODR),
    spec(ChunkType.ORIGIN_FULL_SIG, 'origin full signature', 'signature', 'sig', AODR),
  ].map((s) => [s.type, s]),
);

/** Chunks a complete message must hold (libdime `MESSAGE_STATE_COMPLETE`, plus ≥ 1 display chunk). */
export const REQUIRED_CHUNKS: readonly number[] = [
  ChunkType.EPHEMERAL,
  ChunkType.ORIGIN,
  ChunkType.DESTINATION,
  ChunkType.COMMON_HEADERS,
  ChunkType.DISPLAY,
  ChunkType.AUTHOR_TREE_SIG,
  ChunkType.AUTHOR_FULL_SIG,
  ChunkType.ORIGIN_FULL_SIG,
];

export const CHUNK_HEADER_SIZE = 4;
export const KEYSLOT_SIZE = 64;
export const SIGNATURE_SIZE = 64;
export const EPHEMERAL_SIZE = 33;
/** u24 payload length. */
export const MAX_PAYLOAD = 0xffffff;
/** Largest payload that is a multiple of 16. */
export const MAX_ALIGNED_PAYLOAD = MAX_PAYLOAD - (MAX_PAYLOAD % 16);
/** signature (64) + data_len (3) + flags (1) + pad byte (1). */
export const STANDARD_OVERHEAD = 69;
/** libdime `MINIMUM_PAYLOAD_SIZE`: the default padding fills small payloads up to 256 bytes. */
export const MINIMUM_PAYLOAD_SIZE = 256;
/**
 * Most data one chunk can carry: 69 + D + P ≤ 16,777,200 with P ≥ 1 (message.md §8 says
 * "16,777,215 − 69 − 15"; that is one byte too many, since P ≥ 16 when 69 + D is a multiple of 16).
 */
export const MAX_CHUNK_DATA = MAX_ALIGNED_PAYLOAD - STANDARD_OVERHEAD - 1;

export const ChunkFlag = {
  ALTERNATE_PADDING: 1,
  ALTERNATE_USER_KEY: 2,
  GZIP: 4,
  /** Data continues in the next chunk of the same type (spanning, message.md §8). */
  CONTINUES: 128,
} as const;
/** Flags implemented nowhere: a decoder rejects them, an encoder never writes them. */
export const UNSUPPORTED_FLAGS = ChunkFlag.ALTERNATE_PADDING | ChunkFlag.ALTERNATE_USER_KEY | ChunkFlag.GZIP;

/** Origin bounce flags (libdime `dmime_bounce_type_t`). */
export const BounceFlag = {
  META: 1,
  DISPLAY: 2,
} as const;

export function chunkSpec(type: number): ChunkSpec | undefined {
  return CHUNK_SPECS.get(type);
}

export function chunkName(type: number): string {
  return CHUNK_SPECS.get(type)?.name ?? `type ${type}`;
}

/** Index of the actor's keyslot in a chunk of this type, or -1 when the actor has none. */
export function slotIndex(type: number, actor: Actor): number {
  return CHUNK_SPECS.get(type)?.slots.indexOf(actor) ?? -1;
}
