import { domainToASCII } from 'node:url';
import { DimeError } from '../errors/index.js';

/** Owner-name prefix of the management record (record.md §1 Decision). */
export const DX_RECORD_PREFIX = '_dx';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A domain or host name in the form every lookup uses: ASCII (IDNA for non-ASCII input), lower case,
 * without the trailing dot; labels of 1…63 letters, digits, '-' and '_' not starting or ending with
 * '-'; at most 253 characters. Anything else is BAD_INPUT: no query is ever sent for it.
 */
export function normalizeName(input: string, what = 'domain'): string {
  if (typeof input !== 'string') throw new DimeError('BAD_INPUT', `${what} must be a string`);
  let name = input.endsWith('.') ? input.slice(0, -1) : input;
  if (/[^\x00-\x7f]/.test(name)) {
    const ascii = domainToASCII(name);
    if (ascii === '')
      throw new DimeError('BAD_INPUT', `${what} is not a valid domain name`, { [what]: input });
    name = ascii;
  }
  name = name.toLowerCase();
  if (name.length === 0 || name.length > 253) {
    throw new DimeError('BAD_INPUT', `${what} must have 1…253 characters`, { [what]: input });
  }
  for (const label of name.split('.')) {
    if (!LABEL.test(label)) {
      throw new DimeError('BAD_INPUT', `${what} has an invalid label`, { [what]: input, label });
    }
  }
  return name;
}

/** `_dx.<domain>` for a normalized domain (record.md §1); BAD_INPUT when that name is too long. */
export function dxRecordName(domain: string): string {
  return normalizeName(`${DX_RECORD_PREFIX}.${domain}`, 'domain');
}

/** A name as dns-packet decodes it, compared case-insensitively: lower case, no trailing dot. */
export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return n.length > 1 && n.endsWith('.') ? n.slice(0, -1) : n;
}

/** True when `name` is `zone` or below it (both canonical; '.' is the root). */
export function isAtOrBelow(name: string, zone: string): boolean {
  if (zone === '.' || zone === '') return true;
  return name === zone || name.endsWith(`.${zone}`);
}
