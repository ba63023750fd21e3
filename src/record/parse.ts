import { DimeError } from '../errors/index.js';
import { type FieldName, fieldOf } from './field-names.js';
import { MAX_LIST_ENTRIES, MAX_RECORD_BYTES } from './limits.js';
import { recordError } from './record-error.js';
import { joinCharacterStrings, recordByteLength, splitToken, tokenize } from './tokenize.js';
import type { ManagementRecord, Policy, SubdomainPolicy } from './types.js';
import { decodePok, decodeTls, parseExp, parsePolicy, parseSubdomain, parseVersion } from './values.js';

/**
 * Parses one `_dx` TXT RR given as its character-strings (record.md §2, §3).
 *
 * * The strings are joined with nothing between them; the joined text must be ≤ 4000 UTF-8 bytes.
 * * Tokens are separated by any run of space, tab or ';'. Each is split at its first '='.
 * * Names are case-insensitive, long aliases accepted; unknown names are ignored (with or without
 *   a value). A known name without '=' or with an empty value is a syntax error.
 * * `pok`, `tls`, `dx` accumulate in order (at most 8 each); for `ver`, `pol`, `syn`, `exp`, `sub`
 *   every occurrence is validated and the last one wins.
 * * At least one `pok` is required.
 *
 * Throws DimeError BAD_RECORD with `context.reason` (see RecordFailureReason). Never does I/O.
 */
export function parseRecord(txtStrings: readonly string[]): ManagementRecord {
  if (!Array.isArray(txtStrings) || txtStrings.some((s) => typeof s !== 'string')) {
    throw new DimeError('BAD_INPUT', 'a TXT record must be given as an array of strings');
  }
  // cheap bound first: a string of more than 4000 UTF-16 units has more than 4000 UTF-8 bytes
  let units = 0;
  for (const s of txtStrings) units += s.length;
  if (units > MAX_RECORD_BYTES) throw tooLong(units);
  const text = joinCharacterStrings(txtStrings);
  const bytes = recordByteLength(text);
  if (bytes > MAX_RECORD_BYTES) throw tooLong(bytes);

  let version: 1 = 1;
  const pok: Uint8Array[] = [];
  const tls: Uint8Array[] = [];
  let policy: Policy = 'experimental';
  let syndicates: string | null = null;
  const dx: string[] = [];
  let exp: number | null = null;
  let subdomain: SubdomainPolicy = 'strict';

  for (const token of tokenize(text)) {
    const { name, value } = splitToken(token);
    const field = fieldOf(name);
    if (field === null) continue; // unknown field: ignored, with or without a value
    if (value === null || value.length === 0) {
      throw recordError(
        'syntax',
        value === null ? `field ${field} has no '='` : `field ${field} has an empty value`,
        { field },
      );
    }
    switch (field) {
      case 'ver':
        version = parseVersion(value);
        break;
      case 'pok':
        pok.push(decodePok(value));
        checkCount(field, pok.length);
        break;
      case 'tls':
        tls.push(decodeTls(value));
        checkCount(field, tls.length);
        break;
      case 'pol':
        policy = parsePolicy(value);
        break;
      case 'syn':
        syndicates = value;
        break;
      case 'dx':
        dx.push(value);
        checkCount(field, dx.length);
        break;
      case 'exp':
        exp = parseExp(value);
        break;
      case 'sub':
        subdomain = parseSubdomain(value);
        break;
    }
  }

  if (pok.length === 0) throw recordError('missing_pok', 'record has no pok field');
  return { version, pok, tls, policy, syndicates, dx, exp, subdomain };
}

function tooLong(size: number): DimeError {
  return recordError('too_long', `record text is longer than ${MAX_RECORD_BYTES} bytes`, { size });
}

function checkCount(field: FieldName, n: number): void {
  if (n > MAX_LIST_ENTRIES) {
    throw recordError('too_many', `more than ${MAX_LIST_ENTRIES} ${field} values`, { field });
  }
}
