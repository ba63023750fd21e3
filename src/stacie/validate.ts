import { DimeError } from '../errors/index.js';
import { STACIE_KEY_ROUNDS_MAX, STACIE_KEY_ROUNDS_MIN } from './constants.js';

/** Input checks shared by the STACIE primitives; every failure is BAD_PARAMETER or BAD_PASSWORD. */

export function requireLength(what: string, value: Uint8Array, length: number): void {
  if (value.length !== length) {
    throw new DimeError(
      'BAD_PARAMETER',
      `STACIE ${what} must be exactly ${length} bytes, got ${value.length}`,
      {
        what,
        expected: length,
        actual: value.length,
      },
    );
  }
}

export function requireNonEmpty(what: string, value: Uint8Array): void {
  if (value.length === 0) throw new DimeError('BAD_PARAMETER', `STACIE ${what} must not be empty`, { what });
}

export function requirePassword(password: Uint8Array): void {
  if (password.length === 0) throw new DimeError('BAD_PASSWORD', 'STACIE password must not be empty');
}

export function requireKeyRounds(rounds: number): void {
  if (!Number.isInteger(rounds) || rounds < STACIE_KEY_ROUNDS_MIN || rounds > STACIE_KEY_ROUNDS_MAX) {
    throw new DimeError(
      'BAD_PARAMETER',
      `STACIE rounds must be an integer from ${STACIE_KEY_ROUNDS_MIN} to ${STACIE_KEY_ROUNDS_MAX}, got ${rounds}`,
      { rounds },
    );
  }
}

const textEncoder = new TextEncoder();

/** Strings are taken as UTF-8 (no normalization); byte arrays are used as they are. */
export function asBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? textEncoder.encode(value) : value;
}
