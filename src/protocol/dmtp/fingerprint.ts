/**
 * Fingerprints in DMTP commands (dmtp.md §3, §9): unpadded standard base64 of a SHA-512 digest,
 * exactly 86 characters. In MAIL, RCPT and DATA libdime's literal `[fingerprint]` placeholder and
 * an empty `[]` are also accepted, and then nothing is checked (dmtp.md §8, §9).
 */

export const FINGERPRINT_B64_LENGTH = 86;

const B64_86 = /^[A-Za-z0-9+/]{85}[AQgw]$/;

/** 86 base64 characters that decode to exactly 64 bytes (canonical: no stray low bits). */
export function isFingerprint(s: string): boolean {
  return B64_86.test(s);
}

export type FingerprintArg =
  | { kind: 'fingerprint'; value: string }
  /** libdime's literal `[fingerprint]`. */
  | { kind: 'placeholder' }
  /** `[]`. */
  | { kind: 'empty' };

/** The value inside `[…]`; the placeholder forms only where `lenient` (MAIL, RCPT, DATA). */
export function classifyFingerprint(value: string, lenient: boolean): FingerprintArg | null {
  if (isFingerprint(value)) return { kind: 'fingerprint', value };
  if (lenient && value === 'fingerprint') return { kind: 'placeholder' };
  if (lenient && value === '') return { kind: 'empty' };
  return null;
}
