import { DimeError } from '../errors/index.js';
import { passwordCharacterCount } from './characters.js';
import { STACIE_BONUS_MAX, STACIE_KEY_ROUNDS_MAX, STACIE_KEY_ROUNDS_MIN } from './constants.js';

/**
 * Number of key rounds (stacie.md §3, magma `stacie_derive_rounds`):
 * `clamp(2^(24 − clamp(chars, 1, 23)) + bonus, 8, 2^24)`.
 * BAD_PASSWORD when the password has no countable character (empty, only ignorables, invalid UTF-8);
 * BAD_PARAMETER when bonus is not an integer in 0 … 2^32−1.
 */
export function deriveRounds(password: Uint8Array, bonus: number): number {
  if (!Number.isInteger(bonus) || bonus < 0 || bonus > STACIE_BONUS_MAX) {
    throw new DimeError('BAD_PARAMETER', `STACIE bonus must be an integer from 0 to 2^32-1, got ${bonus}`, {
      bonus,
    });
  }
  const chars = passwordCharacterCount(password);
  if (chars === 0) {
    throw new DimeError(
      'BAD_PASSWORD',
      password.length === 0
        ? 'STACIE password is empty'
        : 'STACIE password is not valid UTF-8 or has no countable characters',
    );
  }
  const exponent = 24 - Math.min(Math.max(chars, 1), 23);
  // 2^23 + (2^32 − 1) < 2^53: exact in a double, so the clamp sees the true 64-bit sum.
  const sum = 2 ** exponent + bonus;
  return Math.min(Math.max(sum, STACIE_KEY_ROUNDS_MIN), STACIE_KEY_ROUNDS_MAX);
}
