import { createHash, type Hash } from 'node:crypto';
import { crypto } from '../crypto/index.js';
import { u24be } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import type { DimeKeys } from '../keys/key-file.js';
import type { Signet } from '../signet/signet.js';
import { cbcSlices, KeyslotSealer, RandomPool } from './chunk-cipher.js';
import type { Rng } from './chunk-crypto.js';
import {
  ACTORS,
  type Actor,
  CHUNK_HEADER_SIZE,
  ChunkFlag,
  ChunkType,
  chunkSpec,
  EPHEMERAL_SIZE,
  KEYSLOT_SIZE,
  MAX_CHUNK_DATA,
  SIGNATURE_SIZE,
  STANDARD_OVERHEAD,
} from './constants.js';
import { type ContentInput, checkPartFlags, contentBytes, splitLengths } from './content.js';
import { SigningKey } from './ed25519.js';
import { formatEnvelope } from './envelope.js';
import { messageHeader } from './framing.js';
import { type CommonHeaders, formatCommonHeaders } from './headers.js';
import { deriveKek, type Kek, wipeKek } from './kek.js';
import { checkKeysMatchSignet, checkSignetKind, envelopeFingerprint, identityOf } from './parties.js';
import { type PaddingMode, type SectionPadding, sectionPaddingLengths } from './payload.js';
import { type ChunkHash, signatureRange, treeSignatureInputFromHashes } from './signature-inputs.js';
import { type ByteStore, MemoryStore, processed } from './source.js';

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

/** A display or attachment part announced by its size; its bytes come later (SealWriter.write). */
export interface PartSize {
  size: number;
  /** Chunk flags; only bits outside 1, 2, 4 and 128 may be set (libdime writes 0). */
  flags?: number;
}

/** SealInput with the parts given by size only: what a streaming sealer needs up front. */
export interface SealPlanInput extends Omit<SealInput, 'display' | 'attachments'> {
  display: readonly PartSize[];
  attachments?: readonly PartSize[];
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

/** One chunk of the message being written, planned before anything is written. */
interface PlannedChunk {
  type: number;
  offset: number;
  size: number;
  payloadLength: number;
  /** STANDARD chunks: data length, flags, padding length. */
  dataLength: number;
  flags: number;
  padLength: number;
  /** Index of the part (display first, then attachments) for content chunks, else -1. */
  part: number;
}

const CRLF = Uint8Array.of(13, 10);
const SIGNATURE_TYPES = [
  ChunkType.AUTHOR_TREE_SIG,
  ChunkType.AUTHOR_FULL_SIG,
  ChunkType.ORIGIN_META_BOUNCE_SIG,
  ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG,
  ChunkType.ORIGIN_FULL_SIG,
] as const;

/** A secp256k1 scalar from the message's random bytes (a draw is out of range with p ≈ 2⁻¹²⁸). */
function ephemeralPrivate(random: RandomPool): Uint8Array {
  const c = crypto();
  for (let i = 0; i < 64; i++) {
    const d = random.take(32);
    if (c.secp256k1PrivateKeyValid(d)) return d;
  }
  throw new DimeError('BAD_INPUT', 'the random source gave no valid secp256k1 scalar');
}

const serialSize = (type: number, payloadLength: number) =>
  CHUNK_HEADER_SIZE + payloadLength + KEYSLOT_SIZE * chunkSpec(type)!.slots.length;

/**
 * Writes the author's message (message.md §7.1) chunk by chunk into a ByteStore, with libdime's
 * chunk layout, keyslots, padding and signature inputs: chunks 2, 4, 5, 33, 34, 67…, 131…, 225,
 * 226 and the all-zero origin placeholders 248, 249, 255, ready for origin signing.
 *
 * The parts are announced by size, so the whole layout (padding, offsets, the body length) is
 * known before the first byte is written; their bytes are then pushed in order with write() and
 * endPart(). Memory holds one chunk at a time (≤ 16 MiB), whatever the message size. The author
 * full signature (226) covers one contiguous range of the output, signed in two passes over the
 * store when it is a file (ed25519.ts).
 *
 * Usage: `const w = new SealWriter(plan); w.begin(store of w.size bytes); for each part
 * { w.write(…)…; w.endPart() } w.finish()`. destroy() wipes the keys (finish does it too).
 */
export class SealWriter {
  /** Total size of the serialized message. */
  readonly size: number;
  private readonly chunks: PlannedChunk[] = [];
  private readonly headData: Map<number, Uint8Array> = new Map();
  private readonly partSizes: number[] = [];
  private readonly pool: RandomPool;
  private readonly signer: SigningKey;
  private readonly keks: Record<Actor, Kek>;
  private readonly sealer: KeyslotSealer;
  private readonly ePub: Uint8Array;
  private readonly tracing: Uint8Array | null;
  private readonly hashes: ChunkHash[] = [];
  private store: ByteStore | null = null;
  /** Index in `chunks` of the content chunk being filled, its fill level and the part state. */
  private cursor = -1;
  private filled = 0;
  private part = 0;
  private partWritten = 0;
  private scratch: Uint8Array | null = null;
  private state: 'planned' | 'writing' | 'done' | 'destroyed' = 'planned';
  private wiped = false;

  constructor(input: SealPlanInput, options: SealOptions = {}) {
    if (!input || typeof input !== 'object') throw new DimeError('BAD_INPUT', 'seal input is missing');
    const signets: Record<Actor, Signet> = {
      author: checkSignetKind('author', input.author?.signet),
      origin: checkSignetKind('origin', input.origin?.signet),
      destination: checkSignetKind('destination', input.destination?.signet),
      recipient: checkSignetKind('recipient', input.recipient?.signet),
    };
    const keys = input.author.keys;
    // user keys, or the org keys of the org signet that authors a bounce (flow.md §3.2)
    if (keys?.kind !== signets.author.kind) {
      throw new DimeError('BAD_INPUT', `the author needs ${signets.author.kind} keys`);
    }
    checkKeysMatchSignet('author', keys, signets.author);
    const padding = options.padding ?? 'random';
    if (padding !== 'random' && padding !== 'minimal')
      throw new DimeError('BAD_INPUT', `unknown padding mode`);
    const sectionPadding = options.sectionPadding ?? 'equal';
    if (sectionPadding !== 'equal' && sectionPadding !== 'independent') {
      throw new DimeError('BAD_INPUT', 'unknown section padding mode');
    }
    const maxData = options.maxChunkData ?? MAX_CHUNK_DATA;
    this.tracing = options.tracing ?? null;

    // the plaintext chunk plan: envelope and header chunks with their data, then the content chunks
    const plain: Omit<PlannedChunk, 'offset' | 'size' | 'payloadLength' | 'padLength'>[] = [];
    const head = (type: number, data: Uint8Array) => {
      this.headData.set(type, data);
      plain.push({ type, dataLength: data.length, flags: 0, part: -1 });
    };
    const { author, recipient, origin, destination } = input;
    head(
      ChunkType.ORIGIN,
      formatEnvelope(ChunkType.ORIGIN, {
        user: identityOf('author', author.signet, author.address),
        userFingerprint: envelopeFingerprint(author.signet),
        org: identityOf('destination', destination.signet, destination.domain),
        orgFingerprint: envelopeFingerprint(destination.signet),
      }),
    );
    head(
      ChunkType.DESTINATION,
      formatEnvelope(ChunkType.DESTINATION, {
        user: identityOf('recipient', recipient.signet, recipient.address),
        userFingerprint: envelopeFingerprint(recipient.signet),
        org: identityOf('origin', origin.signet, origin.domain),
        orgFingerprint: envelopeFingerprint(origin.signet),
      }),
    );
    if (!input.commonHeaders || typeof input.commonHeaders !== 'object') {
      throw new DimeError('BAD_INPUT', 'common headers are required');
    }
    head(ChunkType.COMMON_HEADERS, formatCommonHeaders(input.commonHeaders));
    const other = input.otherHeaders == null ? new Uint8Array(0) : contentBytes(input.otherHeaders);
    head(ChunkType.OTHER_HEADERS, other.length > 0 ? other : CRLF);
    if (!Array.isArray(input.display) || input.display.length === 0) {
      throw new DimeError('BAD_INPUT', 'a message needs at least one display part');
    }
    const parts = [
      ...input.display.map((p) => ({ type: ChunkType.DISPLAY, p })),
      ...(input.attachments ?? []).map((p) => ({ type: ChunkType.ATTACHMENT, p })),
    ];
    parts.forEach(({ type, p }, index) => {
      const flags = checkPartFlags(p?.flags ?? 0);
      const size = p?.size;
      if (!Number.isInteger(size) || size! < 1)
        throw new DimeError('BAD_INPUT', 'a part must hold at least one byte');
      const lens = splitLengths(size!, maxData);
      lens.forEach((len, i) => {
        plain.push({
          type,
          dataLength: len,
          flags: i === lens.length - 1 ? flags : flags | ChunkFlag.CONTINUES,
          part: index,
        });
      });
      this.partSizes.push(size!);
    });

    // padding: libdime's algorithm per chunk; the chunks of a repeated section share one length
    // random bytes: a padding byte per STANDARD chunk, the ephemeral key, then per encrypted chunk
    // its key, IV and a nonce per keyslot (the 4 STANDARD header chunks, the content chunks, 5 signature chunks)
    let need = plain.length + 32;
    for (const p of plain) need += 48 + 16 * chunkSpec(p.type)!.slots.length;
    for (const t of SIGNATURE_TYPES) need += 48 + 16 * chunkSpec(t)!.slots.length;
    this.pool = new RandomPool(options.rng, need);
    const rs = plain.map(() => (padding === 'random' ? this.pool.take(1)[0]! : 0));
    const padLens: number[] = new Array(plain.length);
    for (const type of new Set(plain.map((p) => p.type))) {
      const idx = plain.flatMap((p, i) => (p.type === type ? [i] : []));
      const lens = sectionPaddingLengths(
        idx.map((i) => plain[i]!.dataLength),
        idx.map((i) => rs[i]!),
        sectionPadding,
      );
      idx.forEach((i, k) => {
        padLens[i] = lens[k]!;
      });
    }

    // offsets: header, chunk 2, the STANDARD chunks, the five signature chunks
    const headerLength = (this.tracing ? 4 + this.tracing.length : 0) + 6;
    let at = headerLength;
    const place = (c: Omit<PlannedChunk, 'offset' | 'size'>) => {
      const size = serialSize(c.type, c.payloadLength);
      this.chunks.push({ ...c, offset: at, size });
      at += size;
    };
    place({
      type: ChunkType.EPHEMERAL,
      payloadLength: EPHEMERAL_SIZE,
      dataLength: 0,
      flags: 0,
      padLength: 0,
      part: -1,
    });
    plain.forEach((p, i) => {
      place({ ...p, padLength: padLens[i]!, payloadLength: STANDARD_OVERHEAD + p.dataLength + padLens[i]! });
    });
    for (const type of SIGNATURE_TYPES) {
      place({ type, payloadLength: SIGNATURE_SIZE, dataLength: 0, flags: 0, padLength: 0, part: -1 });
    }
    if (at - headerLength > 0xffffffff) throw new DimeError('TOO_LARGE', 'message body exceeds 4 GiB');
    this.size = at;

    // the ephemeral key and one KEK per actor; the author's signing key
    const ePriv = ephemeralPrivate(this.pool);
    const keks = {} as Record<Actor, Kek>;
    try {
      for (const a of ACTORS) keks[a] = deriveKek(ePriv, signets[a].encryptionKey, true);
      this.ePub = crypto().secp256k1PublicKey(ePriv);
    } catch (e) {
      for (const a of ACTORS) if (keks[a]) wipeKek(keks[a]);
      throw e;
    } finally {
      crypto().zeroize(ePriv);
    }
    this.keks = keks;
    this.sealer = new KeyslotSealer(keks);
    this.signer = SigningKey.fromSeed(keys.signingSeed);
  }

  /** Writes the header, the ephemeral chunk and the envelope and header chunks. */
  begin(store: ByteStore): void {
    if (this.state !== 'planned') throw new DimeError('BAD_INPUT', 'the sealer has already begun');
    if (store.size !== this.size) {
      throw new DimeError('BAD_INPUT', `the output store must hold ${this.size} bytes`);
    }
    this.store = store;
    this.state = 'writing';
    try {
      const header = messageHeader(
        this.size - (this.tracing ? 4 + this.tracing.length : 0) - 6,
        this.tracing,
      );
      store.write(0, header);
      const eph = this.chunks[0]!;
      const e = new Uint8Array(CHUNK_HEADER_SIZE + EPHEMERAL_SIZE);
      e[0] = ChunkType.EPHEMERAL;
      e.set(u24be(EPHEMERAL_SIZE), 1);
      e.set(this.ePub, CHUNK_HEADER_SIZE);
      store.write(eph.offset, e);
      this.hashes.push({ type: ChunkType.EPHEMERAL, hash: crypto().sha512(e) });
      let i = 1;
      for (
        ;
        i < this.chunks.length && this.chunks[i]!.part < 0 && this.headData.has(this.chunks[i]!.type);
        i++
      ) {
        const c = this.chunks[i]!;
        const payload = new Uint8Array(c.payloadLength);
        payload.set(this.headData.get(c.type)!, STANDARD_OVERHEAD);
        this.sealStandard(c, payload);
      }
      this.cursor = i;
      this.filled = 0;
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** Appends bytes to the current part; a part may not get more bytes than announced. */
  write(bytes: Uint8Array): void {
    if (this.state !== 'writing') throw new DimeError('BAD_INPUT', 'the sealer is not writing');
    try {
      let rest = bytes;
      while (rest.length > 0) {
        if (this.part >= this.partSizes.length || this.partWritten >= this.partSizes[this.part]!) {
          throw new DimeError('BAD_INPUT', `part ${this.part + 1} is longer than announced`);
        }
        const c = this.chunks[this.cursor]!;
        if (!this.scratch || this.scratch.length < c.payloadLength) {
          this.scratch = new Uint8Array(this.maxContentPayload());
        }
        const n = Math.min(rest.length, c.dataLength - this.filled);
        this.scratch.set(rest.subarray(0, n), STANDARD_OVERHEAD + this.filled);
        this.filled += n;
        this.partWritten += n;
        processed(n);
        rest = rest.subarray(n);
        if (this.filled === c.dataLength) {
          this.sealStandard(c, this.scratch.subarray(0, c.payloadLength));
          this.cursor++;
          this.filled = 0;
        }
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** Closes the current part: it must have received exactly its announced size. */
  endPart(): void {
    if (this.state !== 'writing') throw new DimeError('BAD_INPUT', 'the sealer is not writing');
    if (this.part >= this.partSizes.length || this.partWritten !== this.partSizes[this.part]) {
      const want = this.partSizes[this.part];
      this.destroy();
      throw new DimeError(
        'BAD_INPUT',
        want === undefined
          ? 'more parts than announced'
          : `part ${this.part + 1} got ${this.partWritten} of ${want} announced bytes`,
      );
    }
    this.part++;
    this.partWritten = 0;
  }

  /** Writes the tree, author full and placeholder signature chunks; wipes the keys. */
  finish(): void {
    if (this.state !== 'writing') throw new DimeError('BAD_INPUT', 'the sealer is not writing');
    try {
      if (this.part !== this.partSizes.length) {
        throw new DimeError('BAD_INPUT', `only ${this.part} of ${this.partSizes.length} parts were written`);
      }
      const sig = (type: number) => this.chunks.find((c) => c.type === type)!;
      // 5. tree signature (libdime layout, message.md §6.1)
      const tree = this.signer.sign(treeSignatureInputFromHashes(this.hashes, 'libdime'));
      this.encryptAndWrite(sig(ChunkType.AUTHOR_TREE_SIG), tree);
      // 6. author full signature over ser(2 … 225): one range of the output
      const r = signatureRange(ChunkType.AUTHOR_FULL_SIG, this.chunks);
      const full = this.signer.signRange(this.store!, r.start, r.end);
      this.encryptAndWrite(sig(ChunkType.AUTHOR_FULL_SIG), full);
      // 7. zero placeholders for the origin signatures
      for (const t of SIGNATURE_TYPES.slice(2)) {
        this.encryptAndWrite(sig(t), new Uint8Array(SIGNATURE_SIZE));
      }
      this.state = 'done';
    } finally {
      this.destroy();
    }
  }

  /** Wipes the keys and buffers (idempotent). */
  destroy(): void {
    if (this.state !== 'done') this.state = 'destroyed';
    if (this.wiped) return;
    this.wiped = true;
    this.signer.destroy();
    this.sealer.destroy();
    this.pool.destroy();
    for (const a of ACTORS) wipeKek(this.keks[a]);
    if (this.scratch) crypto().zeroize(this.scratch);
  }

  private maxContentPayload(): number {
    let m = 0;
    for (const c of this.chunks) if (c.part >= 0) m = Math.max(m, c.payloadLength);
    return m;
  }

  /** Frames, signs, encrypts and writes a STANDARD chunk whose data is at payload[69…]. */
  private sealStandard(c: PlannedChunk, payload: Uint8Array): void {
    const padByte = c.padLength & 0xff;
    payload.set(u24be(c.dataLength), 64);
    payload[67] = c.flags;
    payload[68] = padByte;
    payload.fill(padByte, STANDARD_OVERHEAD + c.dataLength);
    payload.set(this.signer.sign(payload.subarray(64)), 0);
    this.encryptAndWrite(c, payload);
    crypto().zeroize(payload);
  }

  /** Encrypts a payload under a fresh chunk key, writes the chunk and its keyslots (message.md §3). */
  private encryptAndWrite(c: PlannedChunk, plain: Uint8Array): void {
    const store = this.store!;
    const iv = this.pool.take(16);
    const key = this.pool.take(32);
    const hash: Hash | null = c.type < ChunkType.AUTHOR_TREE_SIG ? createHash('sha512') : null;
    try {
      const head = new Uint8Array(CHUNK_HEADER_SIZE);
      head[0] = c.type;
      head.set(u24be(c.payloadLength), 1);
      store.write(c.offset, head);
      hash?.update(head);
      let at = c.offset + CHUNK_HEADER_SIZE;
      cbcSlices('encrypt', key, iv, plain, (s) => {
        store.write(at, s);
        hash?.update(s);
        at += s.length;
        processed(s.length);
      });
      for (const actor of chunkSpec(c.type)!.slots) {
        const slot = this.sealer.seal(actor, { key, iv }, this.pool.take(16));
        store.write(at, slot);
        hash?.update(slot);
        at += KEYSLOT_SIZE;
      }
      if (hash) this.hashes.push({ type: c.type, hash: new Uint8Array(hash.digest()) });
    } finally {
      crypto().zeroize(key);
      crypto().zeroize(iv);
    }
  }
}

/**
 * Builds the author's serialized message in memory (message.md §7.1): SealWriter over a
 * MemoryStore. Padding is libdime's default algorithm; when a section holds several display (or
 * attachment) chunks they are all padded to the largest one's payload length, the only layout
 * libdime's reader can parse (SectionPadding).
 */
export function sealMessage(input: SealInput, options: SealOptions = {}): Uint8Array {
  if (!input || typeof input !== 'object') throw new DimeError('BAD_INPUT', 'seal input is missing');
  const asPart = (p: ContentInput) => {
    const flags = checkPartFlags(p?.flags ?? 0);
    return { bytes: contentBytes(p?.data), flags };
  };
  const display = Array.isArray(input.display) ? input.display.map(asPart) : input.display;
  const attachments = Array.isArray(input.attachments) ? input.attachments.map(asPart) : [];
  const plan: SealPlanInput = {
    ...input,
    display: Array.isArray(display)
      ? display.map((p) => ({ size: p.bytes.length, flags: p.flags }))
      : (display as never),
    attachments: attachments.map((p) => ({ size: p.bytes.length, flags: p.flags })),
  };
  const w = new SealWriter(plan, options);
  const store = MemoryStore.forOverwrite(w.size);
  w.begin(store);
  for (const p of [...(display as { bytes: Uint8Array }[]), ...attachments]) {
    w.write(p.bytes);
    w.endPart();
  }
  w.finish();
  return store.bytes;
}
