import { DimeError } from '../errors/index.js';

/** Standard base64 (RFC 4648 §4) with padding. */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Standard alphabet, no padding: libdime fingerprints, record `pok=`/`tls=`. */
export function toBase64Unpadded(b: Uint8Array): string {
  return toBase64(b).replace(/=+$/, '');
}

/** "Modified base64" of magma/STACIE: URL-safe alphabet, no padding. */
export function toBase64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

const STD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL = /^[A-Za-z0-9_-]*={0,2}$/;

function checkShape(s: string, padded: boolean | 'optional'): void {
  const pad = s.length - s.replace(/=+$/, '').length;
  if (padded === true && s.length % 4 !== 0)
    throw new DimeError('BAD_INPUT', 'base64 length is not a multiple of 4');
  if (padded === false && pad > 0) throw new DimeError('BAD_INPUT', 'base64 must not be padded');
  if (pad > 0 && s.length % 4 !== 0) throw new DimeError('BAD_INPUT', 'base64 padding is misplaced');
  if (s.replace(/=+$/, '').length % 4 === 1) throw new DimeError('BAD_INPUT', 'base64 length is impossible');
}

/**
 * Strict standard-alphabet decoder (Node's own decoder silently skips bad characters).
 * `padded`: true = padding required, false = forbidden, 'optional' = either.
 */
export function fromBase64(s: string, padded: boolean | 'optional' = 'optional'): Uint8Array {
  if (!STD.test(s)) throw new DimeError('BAD_INPUT', 'invalid base64 character');
  checkShape(s, padded);
  const out = Buffer.from(s, 'base64');
  // reject non-canonical trailing bits so that decode(encode(x)) is a bijection
  if (toBase64(out).replace(/=+$/, '') !== s.replace(/=+$/, '')) {
    throw new DimeError('BAD_INPUT', 'non-canonical base64');
  }
  return new Uint8Array(out);
}

export function fromBase64Url(s: string): Uint8Array {
  if (!URL.test(s)) throw new DimeError('BAD_INPUT', 'invalid base64url character');
  checkShape(s, 'optional');
  const out = Buffer.from(s, 'base64url');
  if (toBase64Url(out) !== s.replace(/=+$/, '')) throw new DimeError('BAD_INPUT', 'non-canonical base64url');
  return new Uint8Array(out);
}
