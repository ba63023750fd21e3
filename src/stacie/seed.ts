import { STACIE_SALT_LENGTH } from './constants.js';
import { hmacSha512Repeated } from './repeat-hmac.js';
import { requireKeyRounds, requireLength, requirePassword } from './validate.js';

/**
 * Seed (stacie.md §4, magma `stacie_derive_seed`): HMAC-SHA512 keyed by the 128-byte salt (used
 * directly: it is exactly one SHA-512 block) over `password` repeated `rounds` times.
 */
export function deriveSeed(password: Uint8Array, salt: Uint8Array, rounds: number): Uint8Array {
  requireKeyRounds(rounds);
  requirePassword(password);
  requireLength('salt', salt, STACIE_SALT_LENGTH);
  return hmacSha512Repeated(salt, password, rounds);
}
