import { crypto } from '../../crypto/index.js';
import { DimeError } from '../../errors/index.js';
import {
  type DimeKeys,
  destroyKeys,
  ENCRYPTED_KEY_TYPE,
  generateKeys,
  openKeyObject,
  parseKeys,
  sealKeyObject,
  serializeKeys,
} from '../../keys/index.js';
import { createSsr, parseUserSignet, signRequest } from '../../signet/index.js';

export interface WrappedUserKey {
  /** Type 1976 under the mail realm key. */
  encryptedKey: Uint8Array;
  encryptionPublicKey: Uint8Array;
  /** Signed by the org when org keys were given. */
  signet: Uint8Array | null;
}

/** A new user key, wrapped under the realm key, and its signet (keys.md §5); the plain key is wiped. */
export function newWrappedUserKey(
  realmKey: Uint8Array,
  orgKeys: DimeKeys | undefined,
  address: string,
): WrappedUserKey {
  const keys = generateKeys('user');
  const plain = serializeKeys(keys);
  try {
    const signet = orgKeys ? signRequest(createSsr(keys), orgKeys, { address }).bytes : null;
    return {
      encryptedKey: sealKeyObject(plain, realmKey),
      encryptionPublicKey: new Uint8Array(keys.encryptionPublic),
      signet: signet ? new Uint8Array(signet) : null,
    };
  } finally {
    crypto().zeroize(plain);
    destroyKeys(keys);
  }
}

/**
 * A user key made elsewhere (keys.md §5: imported by the administrator), wrapped under the realm
 * key like a generated one. The caller keeps ownership of `keys`; the serialized copy is wiped.
 */
export function wrapUserKey(realmKey: Uint8Array, keys: DimeKeys): Uint8Array {
  const plain = serializeKeys(keys);
  try {
    return sealKeyObject(plain, realmKey);
  } finally {
    crypto().zeroize(plain);
  }
}

/** Opens a stored 1976 object into user keys. */
export function openUserKey(encryptedKey: Uint8Array, realmKey: Uint8Array): DimeKeys {
  const plain = openKeyObject(encryptedKey, realmKey);
  try {
    return parseKeys(plain, ['user']);
  } finally {
    crypto().zeroize(plain);
  }
}

/** Re-wraps a stored 1976 object under a new realm key without changing the key inside. */
export function rewrapUserKey(
  encryptedKey: Uint8Array,
  oldRealmKey: Uint8Array,
  newRealmKey: Uint8Array,
): Uint8Array {
  const plain = openKeyObject(encryptedKey, oldRealmKey);
  try {
    return sealKeyObject(plain, newRealmKey);
  } finally {
    crypto().zeroize(plain);
  }
}

/** The encryption public key of a user signet (paranoid accounts bring their own). */
export function signetEncryptionKey(signet: Uint8Array): Uint8Array {
  const s = parseUserSignet(signet);
  if (s.encryptionKey.length !== 33)
    throw new DimeError('BAD_KEY_LENGTH', 'signet encryption key is not 33 bytes');
  return new Uint8Array(s.encryptionKey);
}

/**
 * The only check a server can make on a client's encrypted key (dmap.md §2.4 `KEY STORE`): type
 * 1976 and a size that matches. BAD_MAGIC / LENGTH_MISMATCH otherwise.
 */
export function checkEncryptedUserKey(bytes: Uint8Array): void {
  if (bytes.length < 6 + 32 + 16) throw new DimeError('TRUNCATED', 'encrypted key too short');
  const type = (bytes[0]! << 8) | bytes[1]!;
  if (type !== ENCRYPTED_KEY_TYPE.user)
    throw new DimeError('BAD_MAGIC', `type ${type} is not an encrypted user key`);
  const size = ((bytes[2]! << 24) >>> 0) + (bytes[3]! << 16) + (bytes[4]! << 8) + bytes[5]!;
  if (size + 6 !== bytes.length || (size - 32) % 16 !== 0) {
    throw new DimeError('LENGTH_MISMATCH', 'encrypted key size does not match');
  }
}
