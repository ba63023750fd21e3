import { DimeError } from '../errors/index.js';
import { crypto } from './index.js';

/**
 * Sealed box: encryption at rest for one recipient's secp256k1 encryption key (ECIES style).
 * The mail server seals mail that arrives while the user is offline to the user's public key, and
 * opens it only inside a session that holds the user's private key. Project format:
 *
 * ```
 * offset 0   magic     3 bytes  "DSB"
 * offset 3   version   u8       1
 * offset 4   epk       33       ephemeral secp256k1 public key (compressed SEC1)
 * offset 37  ct        n        AES-256-GCM ciphertext of the plaintext (same length)
 * offset 37+n tag      16       GCM tag
 * ```
 *
 * Key schedule: `x = ECDH(e, recipient).x` (32 bytes, crypto().secp256k1EcdhX);
 * `k = SHA-512("DIME sealed box v1" ‖ header(37) ‖ recipient public key(33) ‖ x)`;
 * AES key = k[0:32], IV = k[32:44] (96 bits), no AAD. The header and the recipient's key are bound
 * through the KDF: changing either changes the key, so the tag fails. Each box has a fresh
 * ephemeral key, so a key/IV pair is never reused.
 */
export const SEALED_BOX_MAGIC = Uint8Array.of(0x44, 0x53, 0x42);
export const SEALED_BOX_VERSION = 1;
export const SEALED_BOX_HEADER_LENGTH = 37;
export const SEALED_BOX_TAG_LENGTH = 16;
/** Bytes a sealed box adds to its plaintext. */
export const SEALED_BOX_OVERHEAD = SEALED_BOX_HEADER_LENGTH + SEALED_BOX_TAG_LENGTH;

const KDF_LABEL = new TextEncoder().encode('DIME sealed box v1');

function boxKey(
  header: Uint8Array,
  recipientPublic: Uint8Array,
  x: Uint8Array,
): { key: Uint8Array; iv: Uint8Array } {
  const k = crypto().sha512(KDF_LABEL, header, recipientPublic, x);
  const out = { key: k.slice(0, 32), iv: k.slice(32, 44) };
  crypto().zeroize(k);
  return out;
}

/** True when `blob` starts with a sealed-box header of a version this code reads. */
export function isSealedBox(blob: Uint8Array): boolean {
  return (
    blob.length >= SEALED_BOX_OVERHEAD &&
    blob[0] === SEALED_BOX_MAGIC[0] &&
    blob[1] === SEALED_BOX_MAGIC[1] &&
    blob[2] === SEALED_BOX_MAGIC[2] &&
    blob[3] === SEALED_BOX_VERSION
  );
}

/**
 * Seals `plaintext` to a user's 33-byte compressed secp256k1 encryption public key (the signet's
 * encryption key). BAD_KEY_LENGTH / BAD_KEY for a bad public key.
 */
export function sealForUser(userEncryptionPublicKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = crypto();
  if (userEncryptionPublicKey.length !== 33) {
    throw new DimeError('BAD_KEY_LENGTH', `recipient public key is ${userEncryptionPublicKey.length} bytes`);
  }
  if (!c.secp256k1PublicKeyValid(userEncryptionPublicKey)) {
    throw new DimeError('BAD_KEY', 'recipient public key is not a point on secp256k1');
  }
  const ephemeral = c.secp256k1GeneratePrivate();
  const header = new Uint8Array(SEALED_BOX_HEADER_LENGTH);
  header.set(SEALED_BOX_MAGIC, 0);
  header[3] = SEALED_BOX_VERSION;
  header.set(c.secp256k1PublicKey(ephemeral), 4);
  const x = c.secp256k1EcdhX(ephemeral, userEncryptionPublicKey);
  c.zeroize(ephemeral);
  const { key, iv } = boxKey(header, userEncryptionPublicKey, x);
  c.zeroize(x);
  const { ciphertext, tag } = c.aes256GcmEncrypt(key, iv, plaintext);
  c.zeroize(key);
  const out = new Uint8Array(SEALED_BOX_HEADER_LENGTH + ciphertext.length + SEALED_BOX_TAG_LENGTH);
  out.set(header, 0);
  out.set(ciphertext, SEALED_BOX_HEADER_LENGTH);
  out.set(tag, SEALED_BOX_HEADER_LENGTH + ciphertext.length);
  return out;
}

/**
 * Opens a sealed box with the user's 32-byte secp256k1 private scalar. BAD_MAGIC for something
 * that is not a sealed box (or an unknown version), DECRYPT_FAILED for a wrong key or any change
 * to the bytes.
 */
export function openForUser(userEncryptionPrivateKey: Uint8Array, blob: Uint8Array): Uint8Array {
  const c = crypto();
  if (userEncryptionPrivateKey.length !== 32) {
    throw new DimeError('BAD_KEY_LENGTH', `private key is ${userEncryptionPrivateKey.length} bytes`);
  }
  if (!c.secp256k1PrivateKeyValid(userEncryptionPrivateKey)) {
    throw new DimeError('BAD_KEY', 'private scalar is zero or not below the curve order');
  }
  if (blob.length < SEALED_BOX_OVERHEAD)
    throw new DimeError('TRUNCATED', 'sealed box shorter than its overhead');
  if (blob[0] !== SEALED_BOX_MAGIC[0] || blob[1] !== SEALED_BOX_MAGIC[1] || blob[2] !== SEALED_BOX_MAGIC[2]) {
    throw new DimeError('BAD_MAGIC', 'not a sealed box');
  }
  if (blob[3] !== SEALED_BOX_VERSION) {
    throw new DimeError('BAD_MAGIC', `sealed box version ${blob[3]} is not supported`, { version: blob[3] });
  }
  const header = blob.subarray(0, SEALED_BOX_HEADER_LENGTH);
  const epk = header.subarray(4, SEALED_BOX_HEADER_LENGTH);
  if (!c.secp256k1PublicKeyValid(epk))
    throw new DimeError('DECRYPT_FAILED', 'ephemeral key is not a valid point');
  const x = c.secp256k1EcdhX(userEncryptionPrivateKey, epk);
  const recipientPublic = c.secp256k1PublicKey(userEncryptionPrivateKey);
  const { key, iv } = boxKey(header, recipientPublic, x);
  c.zeroize(x);
  const tagAt = blob.length - SEALED_BOX_TAG_LENGTH;
  const plain = c.aes256GcmDecrypt(
    key,
    iv,
    blob.subarray(SEALED_BOX_HEADER_LENGTH, tagAt),
    blob.subarray(tagAt),
  );
  c.zeroize(key);
  if (!plain) throw new DimeError('DECRYPT_FAILED', 'sealed box does not open (wrong key or tampered data)');
  return plain;
}
