import { crypto } from '../crypto/index.js';
import { DimeError } from '../errors/index.js';
import type { WireChunk } from './chunk-codec.js';
import { decryptChunk } from './chunk-crypto.js';
import { ChunkType, chunkName, chunkSpec, slotIndex } from './constants.js';
import { type ChunkData, joinParts } from './content.js';
import { type EnvelopeFields, parseEnvelope } from './envelope.js';
import { parseMessage } from './framing.js';
import { parseCommonHeaders } from './headers.js';
import { deriveKek, type Kek } from './kek.js';
import { checkFingerprint, checkOpenOptions, type OpenOptions } from './open-options.js';
import { decodeStandardPayload, type StandardPayload } from './payload.js';
import {
  authorFullSignatureInput,
  isZeroSignature,
  originSignatureInput,
  verifyTreeSignature,
} from './signature-inputs.js';
import type {
  ChunkSignatureStatus,
  EnvelopeView,
  OpenedChunk,
  OpenedMessage,
  SignatureReport,
  SignatureStatus,
} from './view.js';

const ORIGIN_SIGS = [
  ChunkType.ORIGIN_META_BOUNCE_SIG,
  ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG,
  ChunkType.ORIGIN_FULL_SIG,
] as const;

function badSignature(what: string, context: Record<string, unknown> = {}): never {
  throw new DimeError('BAD_SIGNATURE', `${what} is invalid`, { ...context, status: 'invalid' });
}

interface Decrypted {
  chunk: WireChunk;
  index: number;
  plain: Uint8Array;
  standard: StandardPayload | null;
}

/**
 * Opens a message as one actor (message.md §7): derives the actor's KEK, decrypts exactly the
 * chunks it holds a keyslot for, and (verify: true) checks every signature it can before any
 * plaintext is returned. Fails closed with a DimeError.
 */
export function openMessage(bytes: Uint8Array, options: OpenOptions): OpenedMessage {
  if (!(bytes instanceof Uint8Array)) throw new DimeError('BAD_INPUT', 'a message must be a Uint8Array');
  const { actor, verify, signets } = checkOpenOptions(options);
  const msg = parseMessage(bytes);
  const chunks = msg.chunks;
  const c = crypto();

  const ephemeral = chunks.find((x) => x.type === ChunkType.EPHEMERAL)!;
  if (!c.secp256k1PublicKeyValid(ephemeral.payload)) {
    throw new DimeError('BAD_KEY', 'the ephemeral key (chunk 2) is not a compressed secp256k1 point');
  }
  const kek: Kek = deriveKek(options.keys.encryptionPrivate, ephemeral.payload);

  const decrypted = new Map<number, Decrypted>();
  const decryptAt = (index: number): Decrypted => {
    const known = decrypted.get(index);
    if (known) return known;
    const chunk = chunks[index]!;
    const plain = decryptChunk(chunk, actor, kek);
    const standard = chunkSpec(chunk.type)!.payload === 'standard' ? decodeStandardPayload(plain) : null;
    const d = { chunk, index, plain, standard };
    decrypted.set(index, d);
    return d;
  };
  const visible = (type: number) => slotIndex(type, actor) >= 0;
  const indexesOf = (type: number) => chunks.flatMap((x, i) => (x.type === type ? [i] : []));
  const only = (type: number): number | undefined => indexesOf(type)[0];

  const authorKey = signets.author?.signingKey;
  const chunkSigs: ChunkSignatureStatus[] = [];
  const checkPlaintextSignature = (d: Decrypted) => {
    const s = d.standard!;
    if (!verify || !authorKey) {
      // the destination has no author signet unless one is given (libdime skips this check)
      chunkSigs.push({ type: d.chunk.type, index: d.index, status: 'unverified' });
      return;
    }
    if (!c.ed25519Verify(authorKey, s.signed, s.signature)) {
      badSignature(`the ${chunkName(d.chunk.type)} chunk's plaintext signature`, {
        signature: 'chunk',
        type: d.chunk.type,
        index: d.index,
      });
    }
    chunkSigs.push({ type: d.chunk.type, index: d.index, status: 'valid' });
  };

  // 1. envelope chunks: framing, parse, fingerprints, plaintext signatures
  const envelope: EnvelopeView = {
    author: null,
    authorFingerprint: null,
    recipient: null,
    recipientFingerprint: null,
    origin: null,
    originFingerprint: null,
    destination: null,
    destinationFingerprint: null,
  };
  const envelopeChunks: Decrypted[] = [];
  for (const type of [ChunkType.ORIGIN, ChunkType.DESTINATION]) {
    if (!visible(type)) continue;
    const d = decryptAt(only(type)!);
    const f: EnvelopeFields = parseEnvelope(type, d.standard!.data);
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
    envelopeChunks.push(d);
  }
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
  for (const d of envelopeChunks) checkPlaintextSignature(d);

  // 2. author tree (225) and full (226) signatures
  const report: SignatureReport = {
    chunks: chunkSigs,
    tree: 'unverified',
    treeLayout: null,
    authorFull: 'unverified',
    metaBounce: 'absent',
    displayBounce: 'absent',
    originFull: 'absent',
  };
  if (visible(ChunkType.AUTHOR_TREE_SIG)) {
    const tree = decryptAt(only(ChunkType.AUTHOR_TREE_SIG)!).plain;
    const full = decryptAt(only(ChunkType.AUTHOR_FULL_SIG)!).plain;
    if (verify) {
      const layout = verifyTreeSignature(authorKey!, chunks, tree);
      if (!layout) badSignature('the author tree signature', { signature: 'tree' });
      report.tree = 'valid';
      report.treeLayout = layout;
      if (!c.ed25519Verify(authorKey!, authorFullSignatureInput(chunks), full)) {
        badSignature('the author full signature', { signature: 'authorFull' });
      }
      report.authorFull = 'valid';
    }
  }

  // 3. origin signatures (248, 249, 255): every actor holds a slot
  const originKey = signets.origin?.signingKey;
  const placeholdersAllowed = actor === 'author' || actor === 'origin';
  for (const type of ORIGIN_SIGS) {
    const i = only(type);
    const field =
      type === ChunkType.ORIGIN_FULL_SIG
        ? 'originFull'
        : type === ChunkType.ORIGIN_META_BOUNCE_SIG
          ? 'metaBounce'
          : 'displayBounce';
    if (i === undefined) continue;
    const sig = decryptAt(i).plain;
    let status: SignatureStatus;
    if (placeholdersAllowed && isZeroSignature(sig)) status = 'absent';
    else if (!verify) status = 'unverified';
    else if (c.ed25519Verify(originKey!, originSignatureInput(type, chunks), sig)) status = 'valid';
    else badSignature(`the ${chunkName(type)}`, { signature: field });
    report[field] = status!;
  }

  // 4. metadata and content (author and recipient)
  let commonHeaders: OpenedMessage['commonHeaders'] = null;
  let otherHeaders: Uint8Array | null = null;
  const displayData: ChunkData[] = [];
  const attachData: ChunkData[] = [];
  for (const [i, chunk] of chunks.entries()) {
    const t = chunk.type;
    if (chunkSpec(t)!.payload !== 'standard' || t === ChunkType.ORIGIN || t === ChunkType.DESTINATION)
      continue;
    if (!visible(t)) continue;
    const d = decryptAt(i);
    checkPlaintextSignature(d);
    const s = d.standard!;
    if (t === ChunkType.COMMON_HEADERS) commonHeaders = { raw: s.data, fields: parseCommonHeaders(s.data) };
    else if (t === ChunkType.OTHER_HEADERS) otherHeaders = s.data;
    else if (t === ChunkType.DISPLAY) displayData.push({ data: s.data, flags: s.flags });
    else if (t === ChunkType.ATTACHMENT) attachData.push({ data: s.data, flags: s.flags });
  }
  const display = joinParts(displayData);
  const attachments = joinParts(attachData);

  const opened: OpenedChunk[] = chunks.map((chunk, i) => {
    if (chunk.type === ChunkType.EPHEMERAL) {
      return {
        type: chunk.type,
        offset: chunk.offset,
        serialized: chunk.serialized,
        payload: chunk.payload,
        plain: chunk.payload,
        data: chunk.payload,
        flags: null,
      };
    }
    const d = decrypted.get(i);
    return {
      type: chunk.type,
      offset: chunk.offset,
      serialized: chunk.serialized,
      payload: chunk.payload,
      plain: d?.plain ?? null,
      data: d ? (d.standard?.data ?? d.plain) : null,
      flags: d?.standard?.flags ?? null,
    };
  });

  return {
    actor,
    kek,
    tracing: msg.tracing,
    envelope,
    commonHeaders,
    otherHeaders,
    display,
    attachments,
    signatures: report,
    chunks: opened,
    wire: chunks,
  };
}
