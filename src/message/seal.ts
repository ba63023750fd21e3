import { crypto } from '../crypto/index.js';
import { DimeError } from '../errors/index.js';
import type { DimeKeys } from '../keys/key-file.js';
import type { Signet } from '../signet/signet.js';
import { decodeChunkAt, encodeChunk, type WireChunk } from './chunk-codec.js';
import { encryptChunk, type KekSet, type Rng } from './chunk-crypto.js';
import { ACTORS, type Actor, ChunkType, SIGNATURE_SIZE } from './constants.js';
import { type ContentInput, contentBytes, splitPart } from './content.js';
import { formatEnvelope } from './envelope.js';
import { serializeMessage } from './framing.js';
import { type CommonHeaders, formatCommonHeaders } from './headers.js';
import { deriveKek, wipeKek } from './kek.js';
import { checkKeysMatchSignet, checkSignetKind, envelopeFingerprint, identityOf } from './parties.js';
import {
  encodeStandardPayload,
  type PaddingMode,
  type SectionPadding,
  sectionPaddingLengths,
} from './payload.js';
import { authorFullSignatureInput, treeSignatureInput } from './signature-inputs.js';

/** What the author's client puts into a message (message.md §7.1). */
export interface SealInput {
  /** The author's private keys and user signet; the address defaults to the signet's ID field. */
  author: { keys: DimeKeys; signet: Signet; address?: string };
  recipient: { signet: Signet; address?: string };
  /** The author's organization (origin server); the domain defaults to the signet's ID field. */
  origin: { signet: Signet; domain?: string };
  destination: { signet: Signet; domain?: string };
  commonHeaders: CommonHeaders;
  /** Chunk 34, opaque (CRLF-joined header lines). Empty or absent → `"\r\n"` (message.md §2.1 Decision). */
  otherHeaders?: Uint8Array | string | null;
  /** At least one display part (chunk 67 each). */
  display: readonly ContentInput[];
  attachments?: readonly ContentInput[];
}

export interface SealOptions {
  /** Random source for keys, IVs, nonces and padding (default: the crypto provider's CSPRNG). */
  rng?: Rng;
  /** 'random' (default, libdime) or 'minimal' (r = 0: the smallest padding the algorithm allows). */
  padding?: PaddingMode;
  /**
   * 'equal' (default): all display chunks share one payload length, and all attachment chunks
   * another, which libdime's reader requires; 'independent': libdime's per-chunk padding only.
   */
  sectionPadding?: SectionPadding;
  /** Split parts into chunks of at most this many data bytes (default: the u24 limit). */
  maxChunkData?: number;
  /** Optional tracing prefix (excluded from every signature). */
  tracing?: Uint8Array | null;
}

interface PlainChunk {
  type: number;
  data: Uint8Array;
  flags: number;
}

const CRLF = Uint8Array.of(13, 10);

function ephemeralPrivate(rng: Rng | undefined): Uint8Array {
  const c = crypto();
  if (!rng) return c.secp256k1GeneratePrivate();
  for (let i = 0; i < 64; i++) {
    const d = rng(32);
    if (c.secp256k1PrivateKeyValid(d)) return d;
  }
  throw new DimeError('BAD_INPUT', 'the random source gave no valid secp256k1 scalar');
}

function plainChunks(input: SealInput, maxChunkData: number | undefined): PlainChunk[] {
  const { author, recipient, origin, destination } = input;
  const chunks: PlainChunk[] = [];
  chunks.push({
    type: ChunkType.ORIGIN,
    flags: 0,
    data: formatEnvelope(ChunkType.ORIGIN, {
      user: identityOf('author', author.signet, author.address),
      userFingerprint: envelopeFingerprint(author.signet),
      org: identityOf('destination', destination.signet, destination.domain),
      orgFingerprint: envelopeFingerprint(destination.signet),
    }),
  });
  chunks.push({
    type: ChunkType.DESTINATION,
    flags: 0,
    data: formatEnvelope(ChunkType.DESTINATION, {
      user: identityOf('recipient', recipient.signet, recipient.address),
      userFingerprint: envelopeFingerprint(recipient.signet),
      org: identityOf('origin', origin.signet, origin.domain),
      orgFingerprint: envelopeFingerprint(origin.signet),
    }),
  });
  if (!input.commonHeaders || typeof input.commonHeaders !== 'object') {
    throw new DimeError('BAD_INPUT', 'common headers are required');
  }
  chunks.push({ type: ChunkType.COMMON_HEADERS, flags: 0, data: formatCommonHeaders(input.commonHeaders) });
  const other = input.otherHeaders == null ? new Uint8Array(0) : contentBytes(input.otherHeaders);
  chunks.push({ type: ChunkType.OTHER_HEADERS, flags: 0, data: other.length > 0 ? other : CRLF });
  if (!Array.isArray(input.display) || input.display.length === 0) {
    throw new DimeError('BAD_INPUT', 'a message needs at least one display part');
  }
  for (const part of input.display) {
    for (const c of splitPart(part, maxChunkData)) chunks.push({ type: ChunkType.DISPLAY, ...c });
  }
  for (const part of input.attachments ?? []) {
    for (const c of splitPart(part, maxChunkData)) chunks.push({ type: ChunkType.ATTACHMENT, ...c });
  }
  return chunks;
}

/**
 * Builds the author's serialized message (message.md §7.1) with libdime's chunk layout, keyslots,
 * padding and signature inputs: chunks 2, 4, 5, 33, 34, 67…, 131…, 225, 226 and the all-zero
 * origin placeholders 248, 249, 255, ready for signAsOrigin. Padding is libdime's default
 * algorithm; when a section holds several display (or attachment) chunks they are all padded to
 * the largest one's payload length, the only layout libdime's reader can parse (SectionPadding).
 */
export function sealMessage(input: SealInput, options: SealOptions = {}): Uint8Array {
  if (!input || typeof input !== 'object') throw new DimeError('BAD_INPUT', 'seal input is missing');
  const signets: Record<Actor, Signet> = {
    author: checkSignetKind('author', input.author?.signet),
    origin: checkSignetKind('origin', input.origin?.signet),
    destination: checkSignetKind('destination', input.destination?.signet),
    recipient: checkSignetKind('recipient', input.recipient?.signet),
  };
  const keys = input.author.keys;
  if (keys?.kind !== 'user') throw new DimeError('BAD_INPUT', 'the author needs user keys');
  checkKeysMatchSignet('author', keys, signets.author);
  const c = crypto();
  const rng: Rng = options.rng ?? ((n) => c.randomBytes(n));
  const padding = options.padding ?? 'random';
  if (padding !== 'random' && padding !== 'minimal') throw new DimeError('BAD_INPUT', `unknown padding mode`);

  const sectionPadding = options.sectionPadding ?? 'equal';
  if (sectionPadding !== 'equal' && sectionPadding !== 'independent') {
    throw new DimeError('BAD_INPUT', 'unknown section padding mode');
  }

  // 1. plaintext STANDARD payloads, each signed by the author; the chunks of a repeated section
  //    share one payload length so that libdime can parse them (payload.ts, SectionPadding)
  const plain = plainChunks(input, options.maxChunkData);
  const rs = plain.map(() => (padding === 'random' ? rng(1)[0]! : 0));
  const padLens: number[] = new Array(plain.length);
  for (const type of new Set(plain.map((p) => p.type))) {
    const idx = plain.flatMap((p, i) => (p.type === type ? [i] : []));
    const lens = sectionPaddingLengths(
      idx.map((i) => plain[i]!.data.length),
      idx.map((i) => rs[i]!),
      sectionPadding,
    );
    idx.forEach((i, k) => {
      padLens[i] = lens[k]!;
    });
  }
  const payloads = plain.map((p, i) => ({
    type: p.type,
    plain: encodeStandardPayload(p.data, p.flags, keys.signingSeed, padLens[i]!),
  }));

  // 2. ephemeral key and one KEK per actor
  const ePriv = ephemeralPrivate(options.rng);
  const keks = {} as Record<Actor, ReturnType<typeof deriveKek>>;
  try {
    for (const a of ACTORS) keks[a] = deriveKek(ePriv, signets[a].encryptionKey);
    const ePub = c.secp256k1PublicKey(ePriv);
    const kekSet: KekSet = keks;

    // 3–4. encrypt the content chunks; chunk 2 carries the ephemeral public key
    const wire: WireChunk[] = [decodeChunkAt(encodeChunk(ChunkType.EPHEMERAL, ePub, []), 0)];
    for (const p of payloads) {
      wire.push(decodeChunkAt(encryptChunk(p.type, p.plain, kekSet, rng), 0));
      c.zeroize(p.plain);
    }

    // 5. tree signature (libdime layout, message.md §6.1)
    const tree = c.ed25519Sign(keys.signingSeed, treeSignatureInput(wire, 'libdime'));
    wire.push(decodeChunkAt(encryptChunk(ChunkType.AUTHOR_TREE_SIG, tree, kekSet, rng), 0));
    // 6. author full signature over ser(2 … 225)
    const full = c.ed25519Sign(keys.signingSeed, authorFullSignatureInput(wire));
    wire.push(decodeChunkAt(encryptChunk(ChunkType.AUTHOR_FULL_SIG, full, kekSet, rng), 0));
    // 7. zero placeholders for the origin signatures
    for (const t of [
      ChunkType.ORIGIN_META_BOUNCE_SIG,
      ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG,
      ChunkType.ORIGIN_FULL_SIG,
    ]) {
      wire.push(decodeChunkAt(encryptChunk(t, new Uint8Array(SIGNATURE_SIZE), kekSet, rng), 0));
    }
    // 8. serialize
    return serializeMessage(
      wire.map((w) => w.serialized),
      options.tracing ?? null,
    );
  } finally {
    c.zeroize(ePriv);
    for (const a of ACTORS) if (keks[a]) wipeKek(keks[a]);
  }
}
