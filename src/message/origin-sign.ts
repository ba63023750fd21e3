import { crypto } from '../crypto/index.js';
import { DimeError } from '../errors/index.js';
import type { DimeKeys } from '../keys/key-file.js';
import { decodeChunkAt, type WireChunk } from './chunk-codec.js';
import { reencryptChunk } from './chunk-crypto.js';
import { BounceFlag, ChunkType } from './constants.js';
import { serializeMessage } from './framing.js';
import { openMessage } from './open.js';
import type { MessageSignets } from './open-options.js';
import { checkKeysMatchSignet, checkSignetKind } from './parties.js';
import { originSignatureInput } from './signature-inputs.js';

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
 * The origin server's step (message.md §6.2, §7.2): opens the message as the origin (which
 * checks chunk 4 and the author tree and full signatures against the author signet, and that the
 * envelope fingerprints match the given signets), then writes its signatures in place: 248 if
 * META, 249 if DISPLAY (each bounce chunk whose flag is not set is removed), then 255 over
 * everything before it. The keyslots stay, so every actor can still decrypt the chunks.
 */
export function signAsOrigin(
  bytes: Uint8Array,
  originKeys: DimeKeys,
  signets: MessageSignets,
  options: OriginSignOptions = {},
): Uint8Array {
  const originSignet = checkSignetKind('origin', signets?.origin);
  if (originKeys?.kind !== 'org') throw new DimeError('BAD_INPUT', 'the origin needs org keys');
  checkKeysMatchSignet('origin', originKeys, originSignet);
  const bounce = options.bounce ?? BounceFlag.META | BounceFlag.DISPLAY;
  if (!Number.isInteger(bounce) || bounce < 0 || bounce > 3) {
    throw new DimeError('BAD_INPUT', `bounce flags ${String(bounce)} are not META (1) | DISPLAY (2)`);
  }
  const opened = openMessage(bytes, { actor: 'origin', keys: originKeys, signets, verify: true });
  const c = crypto();
  let chunks: WireChunk[] = [...opened.wire];
  const sign = (type: number) => {
    const i = chunks.findIndex((x) => x.type === type);
    const sig = c.ed25519Sign(originKeys.signingSeed, originSignatureInput(type, chunks));
    const bytesOut = reencryptChunk(chunks[i]!, 'origin', opened.kek, sig);
    chunks[i] = decodeChunkAt(bytesOut, 0);
  };
  for (const { type, flag } of BOUNCE_CHUNKS) {
    const present = chunks.some((x) => x.type === type);
    if (bounce & flag) {
      if (!present) {
        throw new DimeError(
          'BAD_MESSAGE',
          `the message has no chunk ${type} for the requested bounce signature`,
        );
      }
      sign(type);
    } else if (present) {
      chunks = chunks.filter((x) => x.type !== type);
    }
  }
  sign(ChunkType.ORIGIN_FULL_SIG);
  return serializeMessage(
    chunks.map((x) => x.serialized),
    options.keepTracing === false ? null : opened.tracing,
  );
}
