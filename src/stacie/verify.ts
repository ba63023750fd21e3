import { crypto } from '../crypto/index.js';
import { deriveToken } from './derive-token.js';

/**
 * Server side of the challenge (stacie.md §7): recomputes
 * `ephemeral = derive_token(verification, username, salt, nonce)` from the stored verification
 * token and compares it with the client's proof in constant time. A proof of the wrong length is
 * simply false; bad stored values (lengths) throw BAD_PARAMETER.
 */
export function verifyEphemeral(
  verification: Uint8Array,
  username: Uint8Array,
  salt: Uint8Array,
  nonce: Uint8Array,
  proof: Uint8Array,
): boolean {
  const expected = deriveToken(verification, username, salt, nonce);
  const ok = crypto().timingSafeEqual(expected, proof);
  crypto().zeroize(expected);
  return ok;
}

/**
 * Password-change proof (stacie.md §7.2): the old password key is right when
 * `derive_token(passwordKey, username, salt)` equals the stored verification token (constant time).
 */
export function verifyPasswordKey(
  verification: Uint8Array,
  username: Uint8Array,
  salt: Uint8Array,
  passwordKey: Uint8Array,
): boolean {
  if (passwordKey.length !== verification.length) return false;
  const expected = deriveToken(passwordKey, username, salt);
  return crypto().timingSafeEqual(expected, verification);
}
