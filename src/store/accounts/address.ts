import { DimeError } from '../../errors/index.js';
import { normalizeUsername } from '../../stacie/index.js';
import { domainName, localPart } from '../validate.js';

export interface AccountAddress {
  /** Stored username (normalized local part). */
  local: string;
  domain: string;
}

/**
 * A login name or address → the stored username and domain it names: magma's normalization
 * (stacie.md §2.1: white space dropped, ASCII lower case, `.`/`-` → `_` and `+tag` dropped in the
 * local part). A name without `@` belongs to `defaultDomain`. BAD_PARAMETER when it names nothing.
 */
export function parseLogin(login: string, defaultDomain?: string): AccountAddress {
  const n = normalizeUsername(login);
  const at = n.indexOf('@');
  if (at < 0) {
    if (defaultDomain === undefined) throw new DimeError('BAD_PARAMETER', 'login name has no domain');
    return { local: localPart(n), domain: domainName(defaultDomain) };
  }
  return { local: localPart(n.slice(0, at)), domain: domainName(n.slice(at + 1)) };
}

/**
 * The name STACIE hashes (stacie.md §2.1 "stored username"): `local@domain` in stored form. A
 * DMAP client learns it from the challenge, never from what the user typed.
 */
export function stacieUsername(address: AccountAddress): string {
  return `${address.local}@${address.domain}`;
}
