import {
  EXP_MAX_DAYS,
  EXP_MIN_DAYS,
  POK_BASE64_CHARS,
  POK_BYTES,
  TLS_BASE64_CHARS,
  TLS_SIGNATURE_BYTES,
} from './limits.js';
import { recordError } from './record-error.js';
import { asciiLower } from './text.js';
import { POLICIES, type Policy, SUBDOMAIN_POLICIES, type SubdomainPolicy } from './types.js';

/**
 * Value decoders of record.md §3. Each takes the non-empty text after '=' and returns the value or
 * throws BAD_RECORD with the field's reason.
 */

const B64_ALPHABET = /^[A-Za-z0-9+/]+$/;
const DECIMAL = /^[0-9]+$/;

/**
 * Unpadded standard base64 of exactly `bytes` bytes. A value of the wrong length, with padding or
 * with a character outside the standard alphabet is a length error (libdime: "length ≠ 43" or
 * "decoded length ≠ 32"). The unused low bits of the last character are not checked (libdime and
 * common decoders ignore them).
 */
function decodeBase64Exact(value: string, chars: number, bytes: number): Uint8Array | null {
  if (value.length !== chars || !B64_ALPHABET.test(value)) return null;
  const out = decodeBase64Unpadded(value);
  return out.length === bytes ? out : null;
}

const DECODE_TABLE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
})();

/** Decodes characters already checked against the standard alphabet (no padding). */
function decodeBase64Unpadded(s: string): Uint8Array {
  const out = new Uint8Array(Math.floor((s.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    acc = ((acc << 6) | (DECODE_TABLE[s.charCodeAt(i)] as number)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

export function decodePok(value: string): Uint8Array {
  const key = decodeBase64Exact(value, POK_BASE64_CHARS, POK_BYTES);
  if (!key) {
    throw recordError(
      'pok_length',
      `pok must be ${POK_BASE64_CHARS} characters of unpadded base64 (${POK_BYTES} bytes)`,
      { length: value.length },
    );
  }
  return key;
}

export function decodeTls(value: string): Uint8Array {
  const sig = decodeBase64Exact(value, TLS_BASE64_CHARS, TLS_SIGNATURE_BYTES);
  if (!sig) {
    throw recordError(
      'tls_length',
      `tls must be ${TLS_BASE64_CHARS} characters of unpadded base64 (${TLS_SIGNATURE_BYTES} bytes)`,
      { length: value.length },
    );
  }
  return sig;
}

/** `ver`: a decimal integer equal to 1 (leading zeros allowed; `1abc`, accepted by libdime's atoi, is not). */
export function parseVersion(value: string): 1 {
  if (!DECIMAL.test(value) || Number(value) !== 1) {
    throw recordError('version', 'record version must be 1', { value: value.slice(0, 32) });
  }
  return 1;
}

export function parsePolicy(value: string): Policy {
  const v = asciiLower(value);
  const p = POLICIES.find((x) => x === v);
  if (!p)
    throw recordError('policy', 'pol must be experimental, mixed or strict', { value: value.slice(0, 32) });
  return p;
}

export function parseSubdomain(value: string): SubdomainPolicy {
  const v = asciiLower(value);
  const s = SUBDOMAIN_POLICIES.find((x) => x === v);
  if (!s) {
    throw recordError('subdomain', 'sub must be strict, relaxed or explicit', { value: value.slice(0, 32) });
  }
  return s;
}

/** `exp`: decimal days, 1…3650. Any bad value (0, negative, non-numeric, too large) is reason `exp`. */
export function parseExp(value: string): number {
  const n = DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!(n >= EXP_MIN_DAYS && n <= EXP_MAX_DAYS)) {
    throw recordError('exp', `exp must be an integer number of days, ${EXP_MIN_DAYS}…${EXP_MAX_DAYS}`, {
      value: value.slice(0, 32),
    });
  }
  return n;
}
