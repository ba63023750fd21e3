import { deriveKey } from './derive-key.js';
import { deriveToken } from './derive-token.js';

/**
 * The named steps of magma's `auth_stacie` chain (stacie.md §4). `username` is the stored account
 * name (§2.1), `password` the raw bytes as received (§2.2).
 */

/** master_key = derive_key(base = seed, …). Root of the realm keys; never leaves the client. */
export function deriveMasterKey(
  seed: Uint8Array,
  rounds: number,
  username: Uint8Array,
  password: Uint8Array,
  salt: Uint8Array,
): Uint8Array {
  return deriveKey(seed, rounds, username, password, salt);
}

/** password_key = derive_key(base = master_key, …). Proof of the password for a password change. */
export function derivePasswordKey(
  masterKey: Uint8Array,
  rounds: number,
  username: Uint8Array,
  password: Uint8Array,
  salt: Uint8Array,
): Uint8Array {
  return deriveKey(masterKey, rounds, username, password, salt);
}

/** verification = derive_token(base = password_key, username, salt): what the server stores. */
export function deriveVerificationToken(
  passwordKey: Uint8Array,
  username: Uint8Array,
  salt: Uint8Array,
): Uint8Array {
  return deriveToken(passwordKey, username, salt);
}

/** ephemeral = derive_token(base = verification, username, salt, nonce): one-time challenge proof. */
export function deriveEphemeralToken(
  verification: Uint8Array,
  username: Uint8Array,
  salt: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  return deriveToken(verification, username, salt, nonce);
}
