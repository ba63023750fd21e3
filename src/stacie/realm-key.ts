import { crypto } from '../crypto/index.js';
import { DimeError } from '../errors/index.js';
import { STACIE_KEY_LENGTH, STACIE_SALT_LENGTH, STACIE_SHARD_LENGTH } from './constants.js';
import { asBytes, requireLength, requireNonEmpty } from './validate.js';

export interface RealmKeyOptions {
  /**
   * Realms.rotated. true (every account magma's registration creates, and our new accounts):
   * S = the user's 128-byte salt. false (legacy rows, magma's unit test, the Python reference): S = the shard.
   */
  rotated: boolean;
  /** The user's STACIE salt; required when `rotated` is true. */
  salt?: Uint8Array;
}

/**
 * Realm key (stacie.md §5): `SHA512(master_key ‖ label ‖ S) XOR shard`, 64 bytes
 * (vector key [0:16] ‖ tag key [16:32] ‖ cipher key [32:64], see splitRealmKey).
 */
export function deriveRealmKey(
  masterKey: Uint8Array,
  label: string | Uint8Array,
  shard: Uint8Array,
  options: RealmKeyOptions,
): Uint8Array {
  const labelBytes = asBytes(label);
  requireLength('master key', masterKey, STACIE_KEY_LENGTH);
  requireNonEmpty('realm label', labelBytes);
  requireLength('shard', shard, STACIE_SHARD_LENGTH);
  let s: Uint8Array;
  if (options.rotated) {
    if (options.salt === undefined) {
      throw new DimeError('BAD_PARAMETER', 'a rotated STACIE realm key needs the user salt');
    }
    requireLength('salt', options.salt, STACIE_SALT_LENGTH);
    s = options.salt;
  } else {
    s = shard;
  }
  const h = crypto().sha512(masterKey, labelBytes, s);
  for (let i = 0; i < h.length; i++) h[i] = (h[i] as number) ^ (shard[i] as number);
  return h;
}

export interface RealmKeyParts {
  vectorKey: Uint8Array;
  tagKey: Uint8Array;
  cipherKey: Uint8Array;
}

/** The three keys inside a realm key (views into it, not copies). */
export function splitRealmKey(realmKey: Uint8Array): RealmKeyParts {
  requireLength('realm key', realmKey, STACIE_KEY_LENGTH);
  return {
    vectorKey: realmKey.subarray(0, 16),
    tagKey: realmKey.subarray(16, 32),
    cipherKey: realmKey.subarray(32, 64),
  };
}
