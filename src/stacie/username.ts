import { DimeError } from '../errors/index.js';

/** magma `chr_whitespace`: space, \t, \v, \f, \r, \n. */
const WHITESPACE = /[ \t\v\f\r\n]/g;

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * Login-name normalization for the account lookup (stacie.md §2.1; magma `auth_sanitize_address` +
 * `auth_sanitize_username`):
 * 1. drop white space (the six ASCII bytes above), lower-case ASCII letters (nothing else);
 * 2. in the local part (before the first `@`), up to the first `+`, turn `.` and `-` into `_`;
 * 3. drop from that `+` to the end of the local part (the domain is kept);
 * 4. if the result is `local@domain` and domain equals `systemDomain` (compared in ASCII lower case),
 *    drop `@domain`.
 *
 * Every rule is on ASCII bytes, which never occur inside a multi-byte UTF-8 sequence, so working on
 * the JS string gives the same result as magma working on bytes. The result is what the server
 * looks up; STACIE then hashes the *stored* name (§2.1), which a client learns from the challenge.
 * An empty result is BAD_PARAMETER.
 */
export function normalizeUsername(login: string, systemDomain?: string): string {
  const cleaned = asciiLower(login.replace(WHITESPACE, ''));
  const at = cleaned.indexOf('@');
  const local = at < 0 ? cleaned : cleaned.slice(0, at);
  const domainPart = at < 0 ? '' : cleaned.slice(at); // includes the '@'

  const plus = local.indexOf('+');
  const kept = plus < 0 ? local : local.slice(0, plus);
  let out = kept.replace(/[.-]/g, '_') + domainPart;

  if (systemDomain !== undefined) {
    const at2 = out.indexOf('@');
    if (at2 >= 0 && out.length - at2 > 1) {
      const domain = out.slice(at2 + 1);
      if (domain === asciiLower(systemDomain)) out = out.slice(0, at2);
    }
  }

  if (out.length === 0) throw new DimeError('BAD_PARAMETER', 'login name is empty after normalization');
  return out;
}
