import { bytesEqual } from '../encoding/bytes.js';
import { asciiLower } from './text.js';
import type { ManagementRecord } from './types.js';

function listEqual<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x, i) => eq(x, b[i] as T));
}

/**
 * True when two parsed records say the same thing: every field equal, lists in the same order,
 * `dx` host names compared case-insensitively (they are DNS names, record.md §2 "Case").
 */
export function sameRecord(a: ManagementRecord, b: ManagementRecord): boolean {
  return (
    a.version === b.version &&
    listEqual(a.pok, b.pok, bytesEqual) &&
    listEqual(a.tls, b.tls, bytesEqual) &&
    a.policy === b.policy &&
    a.syndicates === b.syndicates &&
    listEqual(a.dx, b.dx, (x, y) => asciiLower(x) === asciiLower(y)) &&
    a.exp === b.exp &&
    a.subdomain === b.subdomain
  );
}
