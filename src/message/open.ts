import { createDecipheriv, createHash } from 'node:crypto';
import { crypto } from '../crypto/index.js';
import { bytesEqual } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import { CIPHER_SLICE, cbcInto, KeyslotOpener } from './chunk-cipher.js';
import {
  type Actor,
  CHUNK_HEADER_SIZE,
  ChunkType,
  chunkName,
  chunkSpec,
  KEYSLOT_SIZE,
  slotIndex,
} from './constants.js';
import { type ContentPart, groupParts } from './content.js';
import { ed25519Verify, type RangeCheck, rangeCheck } from './ed25519.js';
import { type EnvelopeFields, parseEnvelope } from './envelope.js';
import { wireChunksOf } from './framing.js';
import { type CommonHeaderFields, parseCommonHeaders } from './headers.js';
import { deriveKek, type Kek, wipeKek } from './kek.js';
import { type ChunkKey, wipeChunkKey } from './keyslot.js';
import { type ChunkRef, type MessageLayout, scanMessage } from './layout.js';
import { checkFingerprint, checkOpenOptions, type OpenOptions } from './open-options.js';
import { decodeStandardPayload, PayloadCheck, type StandardPayload } from './payload.js';
import {
  type ChunkHash,
  isContentChunk,
  isZeroSignature,
  signatureRange,
  verifyTreeSignatureFromHashes,
} from './signature-inputs.js';
import { BLOCK_SIZE, type ByteSource, MemorySource, processed } from './source.js';
import type {
  ChunkSignatureStatus,
  EnvelopeView,
  OpenedChunk,
  OpenedMessage,
  SignatureReport,
  SignatureStatus,
} from './view.js';

const ORIGIN_SIGS = [
  { type: ChunkType.ORIGIN_META_BOUNCE_SIG, field: 'metaBounce' },
  { type: ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG, field: 'displayBounce' },
  { type: ChunkType.ORIGIN_FULL_SIG, field: 'originFull' },
] as const;

const CONTENT_TYPES: ReadonlySet<number> = new Set([
  ChunkType.COMMON_HEADERS,
  ChunkType.OTHER_HEADERS,
  ChunkType.DISPLAY,
  ChunkType.ATTACHMENT,
]);

function badSignature(what: string, context: Record<string, unknown> = {}): never {
  throw new DimeError('BAD_SIGNATURE', `${what} is invalid`, { ...context, status: 'invalid' });
}

export interface OpenSourceOptions extends OpenOptions {
  /**
   * Keep every decrypted payload (the buffered API). Without it, display and attachment data is
   * dropped after its signature is checked and read again, chunk by chunk, by readPart().
   */
  retain?: boolean;
  /**
   * Report instead of failing (`dime message verify`): a signature that does not verify is
   * reported 'invalid' and a signature whose signet is not given 'unverified', and opening goes on.
   * Structural defects still throw. Implies verify.
   */
  report?: boolean;
}

/** A decrypted chunk: its plaintext payload and, for STANDARD chunks, the parsed framing. */
export interface DecryptedChunk {
  plain: Uint8Array;
  standard: StandardPayload | null;
}

/** A display (67) or attachment (131) part as one actor sees it, its data not yet read. */
export interface PartRef {
  type: number;
  /** The chunk flags without the continuation bit. */
  flags: number;
  /** Indexes of its chunks in the message layout (more than one when it spans). */
  chunks: number[];
  /** Data bytes of the joined part. */
  size: number;
}

/** The result of the checking pass: everything one actor may see, but the content bytes. */
export interface OpenedSource {
  actor: Actor;
  kek: Kek;
  layout: MessageLayout;
  tracing: Uint8Array | null;
  envelope: EnvelopeView;
  commonHeaders: { raw: Uint8Array; fields: CommonHeaderFields } | null;
  otherHeaders: Uint8Array | null;
  display: PartRef[];
  attachments: PartRef[];
  signatures: SignatureReport;
  /** Decrypted chunks by layout index: with `retain` all of them, else all but 67 and 131. */
  decrypted: Map<number, DecryptedChunk>;
  /** SHA-512 of each chunk the pass hashed (the tree signature input), by layout index. */
  hashes: Map<number, Uint8Array>;
}

/** Reads chunks from a source: views in memory; from a file into buffers reused for large chunks. */
class ChunkReader {
  private big: Uint8Array | null = null;
  private block: Uint8Array | null = null;
  private readonly opener: KeyslotOpener;

  constructor(
    private readonly source: ByteSource,
    kek: Kek,
    private readonly actor: Actor,
  ) {
    this.opener = new KeyslotOpener(kek);
  }

  /** The serialized chunk. From a file, chunks over 64 KiB share one buffer (valid until the next read). */
  bytes(c: ChunkRef): Uint8Array {
    const v = this.source.view(c.offset, c.size);
    if (v) return v;
    if (c.size <= 65536) return this.source.read(c.offset, c.size);
    if (!this.big || this.big.length < c.size) this.big = new Uint8Array(Math.max(c.size, 1 << 20));
    return this.source.read(c.offset, c.size, this.big);
  }

  /** Whether a chunk is read in blocks rather than whole (large chunks of a file). */
  streams(c: ChunkRef): boolean {
    return c.size > 65536 && this.source.view(c.offset, c.size) === null;
  }

  /** The chunk key from the actor's keyslot (`serialized`: the chunk, else read from the source). */
  chunkKey(c: ChunkRef, serialized?: Uint8Array): ChunkKey {
    const i = slotIndex(c.type, this.actor);
    if (i < 0) {
      throw new DimeError(
        'NOT_AUTHORIZED',
        `the ${this.actor} has no keyslot in the ${chunkName(c.type)} chunk`,
        {
          type: c.type,
          actor: this.actor,
        },
      );
    }
    const slotAt = CHUNK_HEADER_SIZE + c.payloadLength + i * KEYSLOT_SIZE;
    const slot = serialized
      ? serialized.subarray(slotAt, slotAt + KEYSLOT_SIZE)
      : this.source.read(c.offset + slotAt, KEYSLOT_SIZE);
    return this.opener.open(slot);
  }

  /** Decrypts a chunk's payload (from its serialized bytes) into a buffer of its own. */
  decrypt(c: ChunkRef, serialized: Uint8Array): Uint8Array {
    const ck = this.chunkKey(c, serialized);
    try {
      const payload = serialized.subarray(CHUNK_HEADER_SIZE, CHUNK_HEADER_SIZE + c.payloadLength);
      if (payload.length > CIPHER_SLICE) {
        return cbcInto('decrypt', ck.key, ck.iv, payload, new Uint8Array(c.payloadLength));
      }
      // one call: OpenSSL's output buffer is the plaintext (no padding, so final() adds nothing)
      const d = createDecipheriv('aes-256-cbc', ck.key, ck.iv);
      d.setAutoPadding(false);
      return d.update(payload);
    } finally {
      wipeChunkKey(ck);
    }
  }

  /** Reads a chunk in blocks of one reused buffer (each valid during the call). */
  blocks(c: ChunkRef, each: (block: Uint8Array) => void): void {
    this.block ??= new Uint8Array(BLOCK_SIZE);
    for (let at = c.offset; at < c.offset + c.size; at += this.block.length) {
      const n = Math.min(this.block.length, c.offset + c.size - at);
      each(this.source.read(at, n, this.block));
      processed(n);
    }
  }

  /**
   * Reads a chunk of a file in blocks: every block of the serialized chunk goes to `serialized`
   * (hashes, signature ranges); the payload is decrypted on the way into `check`. A framing error
   * stops the decryption, not the reading, and is returned.
   */
  stream(c: ChunkRef, serialized: (block: Uint8Array) => void, check: PayloadCheck): DimeError | null {
    const ck = this.chunkKey(c);
    const d = createDecipheriv('aes-256-cbc', ck.key, ck.iv);
    d.setAutoPadding(false);
    wipeChunkKey(ck);
    let failed: DimeError | null = null;
    const plain = (b: Uint8Array) => {
      if (failed || b.length === 0) return;
      try {
        check.update(b);
      } catch (e) {
        if (!(e instanceof DimeError)) throw e;
        failed = e;
      }
    };
    this.block ??= new Uint8Array(BLOCK_SIZE);
    const payloadStart = c.offset + CHUNK_HEADER_SIZE;
    const payloadEnd = payloadStart + c.payloadLength;
    for (let at = c.offset; at < c.offset + c.size; at += this.block.length) {
      const n = Math.min(this.block.length, c.offset + c.size - at);
      const b = this.source.read(at, n, this.block);
      serialized(b);
      processed(n);
      const from = Math.max(at, payloadStart);
      const to = Math.min(at + n, payloadEnd);
      for (let x = from; x < to; x += CIPHER_SLICE) {
        plain(d.update(b.subarray(x - at, Math.min(to, x + CIPHER_SLICE) - at)));
      }
    }
    plain(d.final());
    return failed;
  }
}

/** The actor's KEK for a message: ECDH with the ephemeral key of chunk 2 (message.md §3.1). */
function actorKek(source: ByteSource, layout: MessageLayout, encryptionPrivate: Uint8Array): Kek {
  const ephemeral = layout.chunks.find((x) => x.type === ChunkType.EPHEMERAL)!;
  const ePub = new Uint8Array(source.read(ephemeral.offset + CHUNK_HEADER_SIZE, ephemeral.payloadLength));
  const bad = () =>
    new DimeError('BAD_KEY', 'the ephemeral key (chunk 2) is not a compressed secp256k1 point');
  if (ePub[0] !== 2 && ePub[0] !== 3) throw bad();
  if (!crypto().secp256k1PrivateKeyValid(encryptionPrivate)) {
    throw new DimeError('BAD_KEY', 'secp256k1 private key is not a valid scalar');
  }
  try {
    // the ECDH parses the point, and refuses one that is not on the curve
    return deriveKek(encryptionPrivate, ePub, true);
  } catch (e) {
    if (e instanceof DimeError && e.code === 'BAD_KEY') throw bad();
    throw e;
  }
}

const emptyEnvelope = (): EnvelopeView => ({
  author: null,
  authorFingerprint: null,
  recipient: null,
  recipientFingerprint: null,
  origin: null,
  originFingerprint: null,
  destination: null,
  destinationFingerprint: null,
});

/** Decrypts and parses the envelope chunks (4, 5) the actor holds a keyslot for. */
function readEnvelope(
  chunks: readonly ChunkRef[],
  actor: Actor,
  decrypt: (index: number) => DecryptedChunk,
): { envelope: EnvelopeView; indexes: number[] } {
  const envelope = emptyEnvelope();
  const indexes: number[] = [];
  for (const type of [ChunkType.ORIGIN, ChunkType.DESTINATION]) {
    if (slotIndex(type, actor) < 0) continue;
    const i = chunks.findIndex((x) => x.type === type);
    const f: EnvelopeFields = parseEnvelope(type, decrypt(i).standard!.data);
    if (type === ChunkType.ORIGIN) {
      Object.assign(envelope, {
        author: f.user,
        authorFingerprint: f.userFingerprint,
        destination: f.org,
        destinationFingerprint: f.orgFingerprint,
      });
    } else {
      Object.assign(envelope, {
        recipient: f.user,
        recipientFingerprint: f.userFingerprint,
        origin: f.org,
        originFingerprint: f.orgFingerprint,
      });
    }
    indexes.push(i);
  }
  return { envelope, indexes };
}

/**
 * The envelope as the actor sees it, without any check: what a caller needs to pick the signets
 * (by the fingerprints it names) before opening. Nothing it returns is authenticated.
 */
export function peekEnvelope(
  source: ByteSource,
  actor: Actor,
  keys: { encryptionPrivate: Uint8Array },
): EnvelopeView {
  const { actor: a } = checkOpenOptions({ actor, keys, verify: false });
  const layout = scanMessage(source);
  const reader = new ChunkReader(source, actorKek(source, layout, keys.encryptionPrivate), a);
  const decrypt = (i: number): DecryptedChunk => {
    const ref = layout.chunks[i]!;
    const plain = reader.decrypt(ref, reader.bytes(ref));
    return { plain, standard: decodeStandardPayload(plain) };
  };
  return readEnvelope(layout.chunks, a, decrypt).envelope;
}

/**
 * Opens a message as one actor (message.md §7) from any byte source, checking before it shows:
 * derives the actor's KEK, decrypts exactly the chunks it holds a keyslot for, and (verify: true)
 * checks every signature it can — the envelope, the per-chunk plaintext signatures, the tree, the
 * author full and the origin signatures — in one pass over the message (each full signature
 * covers one contiguous range, streamed through ed25519.ts). Fails closed with a DimeError. The
 * display and attachment bytes are then read with readPart() (or kept, with `retain`).
 */
export function openSource(source: ByteSource, options: OpenSourceOptions): OpenedSource {
  const report = options.report === true;
  const { actor, verify, signets } = checkOpenOptions(
    report ? { ...options, verify: true } : options,
    !report,
  );
  const layout = scanMessage(source);
  const chunks = layout.chunks;
  const retain = options.retain === true;
  const kek = actorKek(source, layout, options.keys.encryptionPrivate);
  const reader = new ChunkReader(source, kek, actor);

  const decrypted = new Map<number, DecryptedChunk>();
  const decryptSmall = (index: number): DecryptedChunk => {
    const known = decrypted.get(index);
    if (known) return known;
    const ref = chunks[index]!;
    const plain = reader.decrypt(ref, reader.bytes(ref));
    const standard = chunkSpec(ref.type)!.payload === 'standard' ? decodeStandardPayload(plain) : null;
    const d = { plain, standard };
    decrypted.set(index, d);
    return d;
  };
  const visible = (type: number) => slotIndex(type, actor) >= 0;
  const only = (type: number): number | undefined => {
    const i = chunks.findIndex((x) => x.type === type);
    return i < 0 ? undefined : i;
  };

  const authorKey = signets.author?.signingKey;
  const chunkSigs: ChunkSignatureStatus[] = [];
  /** The key plaintext signatures are checked with (null: not checked). */
  const chunkSigKey = verify && authorKey ? authorKey : null;
  /** Records a plaintext signature verdict (null: not checked); a bad one throws unless reporting. */
  const recordPlaintextSignature = (index: number, valid: boolean | null) => {
    const type = chunks[index]!.type;
    if (valid === null) {
      // the destination has no author signet unless one is given (libdime skips this check)
      chunkSigs.push({ type, index, status: 'unverified' });
      return;
    }
    if (!valid) {
      if (report) {
        chunkSigs.push({ type, index, status: 'invalid' });
        return;
      }
      badSignature(`the ${chunkName(type)} chunk's plaintext signature`, { signature: 'chunk', type, index });
    }
    chunkSigs.push({ type, index, status: 'valid' });
  };
  const checkPlaintextSignature = (index: number, s: StandardPayload) =>
    recordPlaintextSignature(index, chunkSigKey ? ed25519Verify(chunkSigKey, s.signed, s.signature) : null);

  try {
    // 1. envelope chunks: framing, parse, fingerprints, plaintext signatures
    const { envelope, indexes: envelopeChunks } = readEnvelope(chunks, actor, (i) => decryptSmall(i));
    if (verify) {
      if (envelope.authorFingerprint !== null)
        checkFingerprint('author', signets.author, envelope.authorFingerprint);
      if (envelope.destinationFingerprint !== null)
        checkFingerprint('destination', signets.destination, envelope.destinationFingerprint);
      if (envelope.recipientFingerprint !== null)
        checkFingerprint('recipient', signets.recipient, envelope.recipientFingerprint);
      if (envelope.originFingerprint !== null)
        checkFingerprint('origin', signets.origin, envelope.originFingerprint);
    }
    for (const i of envelopeChunks) checkPlaintextSignature(i, decrypted.get(i)!.standard!);

    // 2. the signature chunks this actor can decrypt, and the checks the pass feeds
    const sigReport: SignatureReport = {
      chunks: chunkSigs,
      tree: 'unverified',
      treeLayout: null,
      authorFull: 'unverified',
      metaBounce: 'absent',
      displayBounce: 'absent',
      originFull: 'absent',
    };
    interface Pending {
      count: number;
      check: RangeCheck;
      fail: () => never;
      done: (status: 'valid' | 'invalid') => void;
    }
    const pending: Pending[] = [];
    const hashTree = verify && visible(ChunkType.AUTHOR_TREE_SIG) && authorKey !== undefined;
    let treeSig: Uint8Array | null = null;
    if (visible(ChunkType.AUTHOR_TREE_SIG)) {
      treeSig = decryptSmall(only(ChunkType.AUTHOR_TREE_SIG)!).plain;
      const full = decryptSmall(only(ChunkType.AUTHOR_FULL_SIG)!).plain;
      if (verify && authorKey) {
        const r = signatureRange(ChunkType.AUTHOR_FULL_SIG, chunks);
        pending.push({
          count: r.count,
          check: rangeCheck(authorKey, full, source, r.start, r.end),
          fail: () => badSignature('the author full signature', { signature: 'authorFull' }),
          done: (status) => {
            sigReport.authorFull = status;
          },
        });
      }
    }
    const originKey = signets.origin?.signingKey;
    const placeholdersAllowed = actor === 'author' || actor === 'origin';
    for (const { type, field } of ORIGIN_SIGS) {
      const i = only(type);
      if (i === undefined) continue;
      const sig = decryptSmall(i).plain;
      let status: SignatureStatus;
      if (placeholdersAllowed && isZeroSignature(sig)) status = 'absent';
      else if (!verify || !originKey) status = 'unverified';
      else {
        const r = signatureRange(type, chunks);
        pending.push({
          count: r.count,
          check: rangeCheck(originKey, sig, source, r.start, r.end),
          fail: () => badSignature(`the ${chunkName(type)}`, { signature: field }),
          done: (status) => {
            sigReport[field] = status;
          },
        });
        status = 'unverified';
      }
      sigReport[field] = status;
    }

    // 3. one pass: chunk hashes (tree), the full-signature ranges, the content chunks
    const hashes = new Map<number, Uint8Array>();
    const content: { index: number; type: number; flags: number; dataLength: number }[] = [];
    let deferred: DimeError | null = null;
    for (let i = 0; i < chunks.length; i++) {
      const ref = chunks[i]!;
      const tree = hashTree && isContentChunk(ref.type);
      const ranges = pending.filter((p) => i < p.count);
      const isContent =
        deferred === null && CONTENT_TYPES.has(ref.type) && visible(ref.type) && !decrypted.has(i);
      if (!tree && ranges.length === 0 && !isContent) continue;
      const keep = retain || ref.type === ChunkType.COMMON_HEADERS || ref.type === ChunkType.OTHER_HEADERS;
      if (isContent && !keep && reader.streams(ref)) {
        // a large chunk of a file: read in blocks, decrypted and checked on the way
        const hash = tree ? createHash('sha512') : null;
        const check = new PayloadCheck(ref.payloadLength, chunkSigKey);
        const feed = (b: Uint8Array) => {
          hash?.update(b);
          for (const p of ranges) p.check.update(b);
        };
        let failed = reader.stream(ref, feed, check);
        if (hash) hashes.set(i, new Uint8Array(hash.digest()));
        try {
          if (failed) throw failed;
          const r = check.finish();
          recordPlaintextSignature(i, r.signatureValid);
          content.push({ index: i, type: ref.type, flags: r.flags, dataLength: r.dataLength });
        } catch (e) {
          if (!(e instanceof DimeError)) throw e;
          failed = e;
        }
        if (failed) deferred = failed;
        continue;
      }
      if (!isContent && reader.streams(ref)) {
        // a large chunk of a file this actor only hashes: read in blocks
        const hash = tree ? createHash('sha512') : null;
        reader.blocks(ref, (b) => {
          hash?.update(b);
          for (const p of ranges) p.check.update(b);
        });
        if (hash) hashes.set(i, new Uint8Array(hash.digest()));
        continue;
      }
      const bytes = reader.bytes(ref);
      if (tree) hashes.set(i, new Uint8Array(createHash('sha512').update(bytes).digest()));
      for (const p of ranges) p.check.update(bytes);
      if (!isContent) continue;
      try {
        const plain = reader.decrypt(ref, bytes);
        const standard = decodeStandardPayload(plain);
        checkPlaintextSignature(i, standard);
        if (keep) decrypted.set(i, { plain, standard });
        content.push({ index: i, type: ref.type, flags: standard.flags, dataLength: standard.data.length });
      } catch (e) {
        if (!(e instanceof DimeError)) throw e;
        deferred = e;
      }
    }

    // 4. the verdicts, in the order: tree, author full, origin signatures, content chunks
    if (hashTree) {
      const list: ChunkHash[] = [...hashes].map(([i, hash]) => ({ type: chunks[i]!.type, hash }));
      const layoutName = verifyTreeSignatureFromHashes(authorKey!, list, treeSig!);
      if (layoutName) {
        sigReport.tree = 'valid';
        sigReport.treeLayout = layoutName;
      } else if (report) sigReport.tree = 'invalid';
      else badSignature('the author tree signature', { signature: 'tree' });
    }
    for (const p of pending) {
      if (p.check.finish()) p.done('valid');
      else if (report) p.done('invalid');
      else p.fail();
    }
    if (deferred) throw deferred;

    // 5. metadata, and the parts (spanning chunks grouped)
    let commonHeaders: OpenedSource['commonHeaders'] = null;
    let otherHeaders: Uint8Array | null = null;
    const partsOf = (type: number): PartRef[] => {
      const list = content.filter((x) => x.type === type);
      return groupParts(list).map((p) => {
        const members = list.slice(p.first, p.first + p.chunkCount);
        return {
          type,
          flags: p.flags,
          chunks: members.map((m) => m.index),
          size: members.reduce((n, m) => n + m.dataLength, 0),
        };
      });
    };
    for (const x of content) {
      const d = decrypted.get(x.index);
      if (x.type === ChunkType.COMMON_HEADERS) {
        commonHeaders = { raw: d!.standard!.data, fields: parseCommonHeaders(d!.standard!.data) };
      } else if (x.type === ChunkType.OTHER_HEADERS) otherHeaders = d!.standard!.data;
    }
    const display = partsOf(ChunkType.DISPLAY);
    const attachments = partsOf(ChunkType.ATTACHMENT);
    const t = layout.tracing;
    return {
      actor,
      kek,
      layout,
      tracing: t ? new Uint8Array(source.read(t.offset, t.length)) : null,
      envelope,
      commonHeaders,
      otherHeaders,
      display,
      attachments,
      signatures: sigReport,
      decrypted,
      hashes,
    };
  } catch (e) {
    wipeKek(kek);
    throw e;
  }
}

/**
 * One part's data after openSource checked the message, chunk by chunk (≤ 16 MiB each, each in
 * its own buffer), or in slices of `sliceSize` bytes (for stream consumers that queue what they
 * are given). From a file, each chunk is hashed again and must match what the checking pass
 * saw (the file cannot change in between unnoticed), then decrypted again.
 */
export function* partChunks(
  source: ByteSource,
  opened: OpenedSource,
  part: PartRef,
  sliceSize = 0,
): Generator<Uint8Array> {
  if (sliceSize > 0) {
    for (const d of partChunks(source, opened, part)) {
      for (let at = 0; at < d.length; at += sliceSize) yield d.subarray(at, at + sliceSize);
    }
    return;
  }
  const reader = new ChunkReader(source, opened.kek, opened.actor);
  for (const i of part.chunks) {
    const known = opened.decrypted.get(i);
    if (known) {
      yield known.standard!.data;
      continue;
    }
    const ref = opened.layout.chunks[i]!;
    const bytes = reader.bytes(ref);
    const hash = opened.hashes.get(i);
    if (hash && !bytesEqual(new Uint8Array(createHash('sha512').update(bytes).digest()), hash)) {
      throw new DimeError('IO_ERROR', 'the message changed while it was being read');
    }
    if (!reader.streams(ref)) {
      yield decodeStandardPayload(reader.decrypt(ref, bytes)).data;
      continue;
    }
    // a large chunk from a file: decrypted in slices from the checked bytes, data handed on as it comes
    const ck = reader.chunkKey(ref, bytes);
    const d = createDecipheriv('aes-256-cbc', ck.key, ck.iv);
    d.setAutoPadding(false);
    wipeChunkKey(ck);
    const out: Uint8Array[] = [];
    const check = new PayloadCheck(ref.payloadLength, null, (x) => out.push(x));
    const payload = bytes.subarray(CHUNK_HEADER_SIZE, CHUNK_HEADER_SIZE + ref.payloadLength);
    for (let at = 0; at <= payload.length; at += CIPHER_SLICE) {
      const plain = at < payload.length ? d.update(payload.subarray(at, at + CIPHER_SLICE)) : d.final();
      if (plain.length > 0) check.update(plain);
      processed(plain.length);
      yield* out;
      out.length = 0;
    }
    check.finish();
  }
}

/** partChunks into a callback. */
export function readPart(
  source: ByteSource,
  opened: OpenedSource,
  part: PartRef,
  sink: (data: Uint8Array) => void,
): void {
  for (const d of partChunks(source, opened, part)) sink(d);
}

/** A part's data joined in memory. */
export function readPartBytes(source: ByteSource, opened: OpenedSource, part: PartRef): Uint8Array {
  const out = new Uint8Array(part.size);
  let at = 0;
  readPart(source, opened, part, (d) => {
    out.set(d, at);
    at += d.length;
  });
  return out;
}

/**
 * Opens a message in memory as one actor (message.md §7): openSource with every decrypted
 * payload kept, as views and joined parts. Fails closed with a DimeError.
 */
export function openMessage(bytes: Uint8Array, options: OpenOptions): OpenedMessage {
  if (!(bytes instanceof Uint8Array)) throw new DimeError('BAD_INPUT', 'a message must be a Uint8Array');
  const source = new MemorySource(bytes);
  const o = openSource(source, { ...options, retain: true });
  const wire = wireChunksOf(bytes, o.layout);
  const part = (p: PartRef): ContentPart => ({
    data: p.chunks.length === 1 ? o.decrypted.get(p.chunks[0]!)!.standard!.data : readPartBytes(source, o, p),
    flags: p.flags,
    chunkCount: p.chunks.length,
  });
  const chunks: OpenedChunk[] = wire.map((w, i) => {
    if (w.type === ChunkType.EPHEMERAL) {
      return { ...base(w), plain: w.payload, data: w.payload, flags: null };
    }
    const d = o.decrypted.get(i);
    return {
      ...base(w),
      plain: d?.plain ?? null,
      data: d ? (d.standard?.data ?? d.plain) : null,
      flags: d?.standard?.flags ?? null,
    };
  });
  return {
    actor: o.actor,
    kek: o.kek,
    tracing: o.tracing,
    envelope: o.envelope,
    commonHeaders: o.commonHeaders,
    otherHeaders: o.otherHeaders,
    display: o.display.map(part),
    attachments: o.attachments.map(part),
    signatures: o.signatures,
    chunks,
    wire,
  };
}

function base(w: { type: number; offset: number; serialized: Uint8Array; payload: Uint8Array }) {
  return { type: w.type, offset: w.offset, serialized: w.serialized, payload: w.payload };
}
