import { toBase64Unpadded } from '../encoding/base64.js';
import {
  EXP_MAX_DAYS,
  EXP_MIN_DAYS,
  MAX_LIST_ENTRIES,
  MAX_RECORD_BYTES,
  POK_BYTES,
  TLS_SIGNATURE_BYTES,
} from './limits.js';
import { recordError } from './record-error.js';
import { HAS_SEPARATOR, utf8ByteLength } from './text.js';
import { POLICIES, type Policy, SUBDOMAIN_POLICIES, type SubdomainPolicy } from './types.js';

/** What goes into a record. A parsed ManagementRecord is accepted as is. */
export interface RecordContent {
  /** Only 1 is allowed; the text always says `ver=1`. */
  version?: 1;
  /** Ed25519 public keys, 32 bytes each; 1…8. */
  pok: readonly Uint8Array[];
  /** Certificate signatures (tlsCertificateSignature), 64 bytes each; 0…8. */
  tls?: readonly Uint8Array[];
  /** Default `experimental`. */
  policy?: Policy;
  syndicates?: string | null;
  /** DX host names, 0…8. */
  dx?: readonly string[];
  /** Days, 1…3650, or null/absent. */
  exp?: number | null;
  /** Default `strict`. */
  subdomain?: SubdomainPolicy;
}

/**
 * The record text of record.md §8 Decision: `ver=1`, each `pok=`, each `tls=`, `pol=`, `syn=` (if
 * any), each `dx=`, `exp=` (if any), `sub=`, joined by single spaces; pok/tls as unpadded standard
 * base64 (43/86 characters). Inputs are checked against the parser's rules (same BAD_RECORD reasons),
 * so the text always parses back to the same record. Use zoneStrings/zoneLine to publish it.
 */
export function buildRecordText(c: RecordContent): string {
  if (c.version !== undefined && c.version !== 1) {
    throw recordError('version', 'record version must be 1');
  }
  const tls = c.tls ?? [];
  const dx = c.dx ?? [];
  const policy = c.policy ?? 'experimental';
  const subdomain = c.subdomain ?? 'strict';
  const syndicates = c.syndicates ?? null;
  const exp = c.exp ?? null;

  if (c.pok.length === 0) throw recordError('missing_pok', 'a record needs at least one pok');
  checkCount('pok', c.pok.length);
  checkCount('tls', tls.length);
  checkCount('dx', dx.length);
  for (const k of c.pok) {
    if (k.length !== POK_BYTES) throw recordError('pok_length', `a pok must be ${POK_BYTES} bytes`);
  }
  for (const s of tls) {
    if (s.length !== TLS_SIGNATURE_BYTES) {
      throw recordError('tls_length', `a tls signature must be ${TLS_SIGNATURE_BYTES} bytes`);
    }
  }
  if (!(POLICIES as readonly string[]).includes(policy)) {
    throw recordError('policy', 'pol must be experimental, mixed or strict');
  }
  if (syndicates !== null) checkWord('syn', syndicates);
  for (const host of dx) checkWord('dx', host);
  if (exp !== null && !(Number.isInteger(exp) && exp >= EXP_MIN_DAYS && exp <= EXP_MAX_DAYS)) {
    throw recordError('exp', `exp must be an integer number of days, ${EXP_MIN_DAYS}…${EXP_MAX_DAYS}`);
  }
  if (!(SUBDOMAIN_POLICIES as readonly string[]).includes(subdomain)) {
    throw recordError('subdomain', 'sub must be strict, relaxed or explicit');
  }

  const parts = ['ver=1'];
  for (const k of c.pok) parts.push(`pok=${toBase64Unpadded(k)}`);
  for (const s of tls) parts.push(`tls=${toBase64Unpadded(s)}`);
  parts.push(`pol=${policy}`);
  if (syndicates !== null) parts.push(`syn=${syndicates}`);
  for (const host of dx) parts.push(`dx=${host}`);
  if (exp !== null) parts.push(`exp=${exp}`);
  parts.push(`sub=${subdomain}`);
  const text = parts.join(' ');

  const size = utf8ByteLength(text);
  if (size > MAX_RECORD_BYTES) {
    throw recordError('too_long', `record text would be longer than ${MAX_RECORD_BYTES} bytes`, { size });
  }
  return text;
}

function checkCount(field: string, n: number): void {
  if (n > MAX_LIST_ENTRIES) {
    throw recordError('too_many', `more than ${MAX_LIST_ENTRIES} ${field} values`, { field });
  }
}

/** A free-text value (`syn`, `dx`) must be non-empty and contain no separator, or it would not parse back. */
function checkWord(field: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || HAS_SEPARATOR.test(value)) {
    throw recordError('syntax', `${field} must be a non-empty value without space, tab or ';'`, { field });
  }
}
