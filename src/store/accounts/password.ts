import { DimeError } from '../../errors/index.js';
import { passwordCharacterCount } from '../../stacie/index.js';

/** magma's `magma.secure.minimum_password_length` default (stacie.md §2.2). */
export const MIN_PASSWORD_LENGTH = 8;

export function passwordBytes(password: string | Uint8Array): Uint8Array {
  return typeof password === 'string' ? new TextEncoder().encode(password) : password;
}

/** Bytes and characters both at least `minimum` (magma checks before any derivation work). */
export function longEnough(password: Uint8Array, minimum: number): boolean {
  return password.length >= minimum && passwordCharacterCount(password) >= minimum;
}

export function requireLongEnough(password: Uint8Array, minimum: number): void {
  if (!longEnough(password, minimum)) {
    throw new DimeError('BAD_PASSWORD', `the password needs at least ${minimum} characters`, { minimum });
  }
}
