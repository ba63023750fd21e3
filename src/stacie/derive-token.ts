import {
  STACIE_KEY_LENGTH,
  STACIE_NONCE_LENGTH,
  STACIE_SALT_LENGTH,
  STACIE_TOKEN_ROUNDS,
} from './constants.js';
import { chainedSha512 } from './hash-chain.js';
import { requireLength, requireNonEmpty } from './validate.js';

/**
 * derive_token (stacie.md §4, magma `stacie_derive_token`), exactly 8 rounds, i = 0 … 7:
 * `T_i = SHA512([T_{i−1} ‖] base ‖ username ‖ salt [‖ nonce] ‖ u24be(i))`; returns T_7.
 * No password is hashed. The nonce, when given, must be 128 bytes (stacie.md §4 decision).
 */
export function deriveToken(
  base: Uint8Array,
  username: Uint8Array,
  salt: Uint8Array,
  nonce?: Uint8Array,
): Uint8Array {
  requireNonEmpty('username', username);
  requireLength('base', base, STACIE_KEY_LENGTH);
  requireLength('salt', salt, STACIE_SALT_LENGTH);
  if (nonce !== undefined) requireLength('nonce', nonce, STACIE_NONCE_LENGTH);
  const parts = nonce === undefined ? [base, username, salt] : [base, username, salt, nonce];
  return chainedSha512(parts, STACIE_TOKEN_ROUNDS);
}
