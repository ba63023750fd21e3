import { STACIE_KEY_LENGTH, STACIE_SALT_LENGTH } from './constants.js';
import { chainedSha512 } from './hash-chain.js';
import { requireKeyRounds, requireLength, requireNonEmpty, requirePassword } from './validate.js';

/**
 * derive_key (stacie.md §4, magma `stacie_derive_key`), for i = 0 … rounds−1:
 * `K_i = SHA512([K_{i−1} ‖] base ‖ username ‖ salt ‖ password ‖ u24be(i))`; returns K_{rounds−1}.
 */
export function deriveKey(
  base: Uint8Array,
  rounds: number,
  username: Uint8Array,
  password: Uint8Array,
  salt: Uint8Array,
): Uint8Array {
  requireKeyRounds(rounds);
  requireNonEmpty('username', username);
  requirePassword(password);
  requireLength('base', base, STACIE_KEY_LENGTH);
  requireLength('salt', salt, STACIE_SALT_LENGTH);
  return chainedSha512([base, username, salt, password], rounds);
}
