import { crypto } from '../crypto/index.js';
import { DimeError } from '../errors/index.js';
import type { DimeKeys } from '../keys/key-file.js';
import { cbcInto, KeyslotOpener } from './chunk-cipher.js';
import {
  BounceFlag,
  CHUNK_HEADER_SIZE,
  ChunkType,
  KEYSLOT_SIZE,
  SIGNATURE_SIZE,
  slotIndex,
} from './constants.js';
import { SigningKey } from './ed25519.js';
import { messageHeader } from './framing.js';
import { type OpenedSource, openSource } from './open.js';
import type { MessageSignets } from './open-options.js';
import { checkKeysMatchSignet, checkSignetKind } from './parties.js';
import { type ChunkSpan, signatureRange } from './signature-inputs.js';
import { type ByteSource, type ByteStore, copyRange, MemorySource, MemoryStore } from './source.js';

export interface OriginSignOptions {
  /** BounceFlag.META | BounceFlag.DISPLAY (default: both, as in the reference vectors). */
  bounce?: number;
  /** Keep the tracing prefix of the input (default true). */
  keepTracing?: boolean;
}

const BOUNCE_CHUNKS: readonly { type: number; flag: number }[] = [
  { type: ChunkType.ORIGIN_META_BOUNCE_SIG, flag: BounceFlag.META },
  { type: ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG, flag: BounceFlag.DISPLAY },
];

/**
 * The origin server's step (message.md §6.2, §7.2) from any byte source into a store the caller
 * makes once the output size is known: opens the message as the origin (which checks chunk 4 and
 * the author tree and full signatures against the author signet, and that the envelope
 * fingerprints match the given signets), copies it, then writes its signatures in place: 248 if
 * META, 249 if DISPLAY (each bounce chunk whose flag is not set is removed), then 255 over
 * everything before it. Each signature covers one contiguous range of the output, signed in two
 * passes over it when it is a file. The keyslots stay, so every actor can still decrypt the chunks.
 */
export function signAsOriginSource<S extends ByteStore>(
  source: ByteSource,
  originKeys: DimeKeys,
  signets: MessageSignets,
  makeStore: (size: number) => S,
  options: OriginSignOptions = {},
): { store: S; opened: OpenedSource } {
  const originSignet = checkSignetKind('origin', signets?.origin);
  if (originKeys?.kind !== 'org') throw new DimeError('BAD_INPUT', 'the origin needs org keys');
  checkKeysMatchSignet('origin', originKeys, originSignet);
  const bounce = options.bounce ?? BounceFlag.META | BounceFlag.DISPLAY;
  if (!Number.isInteger(bounce) || bounce < 0 || bounce > 3) {
    throw new DimeError('BAD_INPUT', `bounce flags ${String(bounce)} are not META (1) | DISPLAY (2)`);
  }
  const opened = openSource(source, { actor: 'origin', keys: originKeys, signets, verify: true });
  const { layout } = opened;

  // the output layout: the input's chunks, without the bounce chunks the origin does not sign
  let kept = layout.chunks.map((c) => ({ ...c, from: c.offset }));
  for (const { type, flag } of BOUNCE_CHUNKS) {
    const present = kept.some((x) => x.type === type);
    if (bounce & flag) {
      if (!present) {
        throw new DimeError(
          'BAD_MESSAGE',
          `the message has no chunk ${type} for the requested bounce signature`,
        );
      }
    } else if (present) {
      kept = kept.filter((x) => x.type !== type);
    }
  }
  const tracing = options.keepTracing === false ? null : opened.tracing;
  let bodyLength = 0;
  for (const c of kept) bodyLength += c.size;
  const header = messageHeader(bodyLength, tracing);
  const store = makeStore(header.length + bodyLength);
  store.write(0, header);
  let at = header.length;
  const out: (ChunkSpan & { from: number; payloadLength: number; slotCount: number })[] = [];
  for (const c of kept) {
    copyRange(source, c.from, c.from + c.size, store, at);
    out.push({ ...c, offset: at });
    at += c.size;
  }

  // the signatures, each over its range of the output, re-encrypted under the chunk's own key
  const signer = SigningKey.fromSeed(originKeys.signingSeed);
  const opener = new KeyslotOpener(opened.kek);
  try {
    const sign = (type: number) => {
      const c = out.find((x) => x.type === type)!;
      const r = signatureRange(type, out);
      const sig = signer.signRange(store, r.start, r.end);
      const slotAt =
        c.offset + CHUNK_HEADER_SIZE + c.payloadLength + slotIndex(type, 'origin') * KEYSLOT_SIZE;
      const ck = opener.open(new Uint8Array(store.read(slotAt, KEYSLOT_SIZE)));
      try {
        store.write(
          c.offset + CHUNK_HEADER_SIZE,
          cbcInto('encrypt', ck.key, ck.iv, sig, new Uint8Array(SIGNATURE_SIZE)),
        );
      } finally {
        crypto().zeroize(ck.key);
        crypto().zeroize(ck.iv);
      }
    };
    for (const { type, flag } of BOUNCE_CHUNKS) if (bounce & flag) sign(type);
    sign(ChunkType.ORIGIN_FULL_SIG);
  } finally {
    signer.destroy();
  }
  return { store, opened };
}

/** signAsOriginSource in memory: the origin-signed message bytes. */
export function signAsOrigin(
  bytes: Uint8Array,
  originKeys: DimeKeys,
  signets: MessageSignets,
  options: OriginSignOptions = {},
): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new DimeError('BAD_INPUT', 'a message must be a Uint8Array');
  return signAsOriginSource(
    new MemorySource(bytes),
    originKeys,
    signets,
    (n) => MemoryStore.forOverwrite(n),
    options,
  ).store.bytes;
}
