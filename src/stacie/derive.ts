import {
  deriveEphemeralToken,
  deriveMasterKey,
  derivePasswordKey,
  deriveVerificationToken,
} from './chain.js';
import { STACIE_NONCE_LENGTH, STACIE_SALT_LENGTH } from './constants.js';
import { deriveRounds } from './rounds.js';
import { deriveSeed } from './seed.js';
import { asBytes, requireLength, requireNonEmpty, requirePassword } from './validate.js';

export interface StacieInput {
  /** The stored account name (stacie.md §2.1); a string is hashed as UTF-8. */
  username: string | Uint8Array;
  /** The password as received, no normalization; a string is hashed as UTF-8. */
  password: string | Uint8Array;
  /** 128 bytes. */
  salt: Uint8Array;
  /** u32 bonus rounds. */
  bonus: number;
  /** 128-byte challenge nonce; when given, the ephemeral token is computed too. */
  nonce?: Uint8Array;
}

export interface StacieValues {
  rounds: number;
  seed: Uint8Array;
  masterKey: Uint8Array;
  passwordKey: Uint8Array;
  verification: Uint8Array;
  ephemeral?: Uint8Array;
}

/** The whole derivation chain of stacie.md §4 (magma `auth_stacie`). Inputs are checked before any work. */
export function stacieDerive(input: StacieInput): StacieValues {
  const username = asBytes(input.username);
  const password = asBytes(input.password);
  requireNonEmpty('username', username);
  requirePassword(password);
  requireLength('salt', input.salt, STACIE_SALT_LENGTH);
  if (input.nonce !== undefined) requireLength('nonce', input.nonce, STACIE_NONCE_LENGTH);

  const rounds = deriveRounds(password, input.bonus);
  const seed = deriveSeed(password, input.salt, rounds);
  const masterKey = deriveMasterKey(seed, rounds, username, password, input.salt);
  const passwordKey = derivePasswordKey(masterKey, rounds, username, password, input.salt);
  const verification = deriveVerificationToken(passwordKey, username, input.salt);
  const out: StacieValues = { rounds, seed, masterKey, passwordKey, verification };
  if (input.nonce !== undefined) {
    out.ephemeral = deriveEphemeralToken(verification, username, input.salt, input.nonce);
  }
  return out;
}
