import { crypto } from '../crypto/index.js';
import { DimeError } from '../errors/index.js';
import { encodeChunk, type WireChunk } from './chunk-codec.js';
import { type Actor, chunkName, chunkSpec, slotIndex } from './constants.js';
import type { Kek } from './kek.js';
import { type ChunkKey, openKeyslot, sealKeyslot, wipeChunkKey } from './keyslot.js';

/** A source of random bytes (crypto().randomBytes by default; injectable for tests). */
export type Rng = (n: number) => Uint8Array;

/** One KEK per actor (the sender derives all four from one ephemeral key). */
export type KekSet = Readonly<Record<Actor, Kek>>;

/**
 * Encrypts a chunk payload (message.md §3): fresh AES-256 key and IV, AES-256-CBC without
 * padding, then one keyslot per actor of the type, in A, O, D, R order. Returns the serialized chunk.
 */
export function encryptChunk(type: number, plain: Uint8Array, keks: KekSet, rng: Rng): Uint8Array {
  const s = chunkSpec(type);
  if (!s || s.payload === 'ephemeral')
    throw new DimeError('BAD_INPUT', `chunk type ${type} is not encrypted`);
  if (plain.length === 0 || plain.length % 16 !== 0) {
    throw new DimeError('BAD_INPUT', `${s.name} payload must be a non-empty multiple of 16 bytes`);
  }
  const ck: ChunkKey = { iv: rng(16), key: rng(32) };
  try {
    const cipher = crypto().aes256CbcEncrypt(ck.key, ck.iv, plain);
    const slots = s.slots.map((actor) => sealKeyslot(keks[actor], ck, rng(16)));
    return encodeChunk(type, cipher, slots);
  } finally {
    wipeChunkKey(ck);
  }
}

/** The chunk key in the actor's keyslot. NOT_AUTHORIZED when the type gives the actor no slot. */
export function chunkKeyFor(chunk: WireChunk, actor: Actor, kek: Kek): ChunkKey {
  const i = slotIndex(chunk.type, actor);
  if (i < 0) {
    throw new DimeError(
      'NOT_AUTHORIZED',
      `the ${actor} has no keyslot in the ${chunkName(chunk.type)} chunk`,
      {
        type: chunk.type,
        actor,
      },
    );
  }
  return openKeyslot(kek, chunk.keyslots[i]!);
}

/** Decrypts a chunk's payload with the actor's keyslot (no framing check; see payload.ts). */
export function decryptChunk(chunk: WireChunk, actor: Actor, kek: Kek): Uint8Array {
  const ck = chunkKeyFor(chunk, actor, kek);
  try {
    return crypto().aes256CbcDecrypt(ck.key, ck.iv, chunk.payload);
  } finally {
    wipeChunkKey(ck);
  }
}

/**
 * Replaces a chunk's payload in place (message.md §6.2): the actor recovers the chunk key from
 * its own slot and encrypts the new payload under the same key and IV; the keyslots stay, so every
 * actor can still decrypt the chunk. Returns the new serialized chunk.
 */
export function reencryptChunk(chunk: WireChunk, actor: Actor, kek: Kek, plain: Uint8Array): Uint8Array {
  if (plain.length !== chunk.payload.length) {
    throw new DimeError('BAD_INPUT', 'a re-encrypted payload must keep the payload length');
  }
  const ck = chunkKeyFor(chunk, actor, kek);
  try {
    return encodeChunk(chunk.type, crypto().aes256CbcEncrypt(ck.key, ck.iv, plain), chunk.keyslots);
  } finally {
    wipeChunkKey(ck);
  }
}
