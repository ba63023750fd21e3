import { crypto } from '../crypto/index.js';
import { toBase64Unpadded } from '../encoding/base64.js';
import { toHex } from '../encoding/hex.js';
import { CRYPTO_SIG, FULL_SIG, ID_SIG, SELF_SIG } from './field-table.js';
import { fieldsUpTo, type Signet } from './signet.js';

export type FingerprintKind = 'ssr' | 'crypto' | 'full' | 'id';
export const FINGERPRINT_KINDS: readonly FingerprintKind[] = ['ssr', 'crypto', 'full', 'id'];

/**
 * SHA-512 of the serialized fields (no header) up to the kind's cut-off field (signets.md §7,
 * libdime `sgnt_fingerprint_*`); null for the kinds libdime refuses for the type.
 */
export function fingerprint(s: Signet, kind: FingerprintKind): Uint8Array | null {
  let cut: number;
  switch (kind) {
    case 'ssr':
      if (s.kind === 'org') return null;
      cut = SELF_SIG;
      break;
    case 'crypto':
      if (s.kind === 'ssr') return null;
      cut = CRYPTO_SIG[s.kind];
      break;
    case 'full':
      if (s.kind === 'ssr') return null;
      cut = FULL_SIG;
      break;
    case 'id':
      if (s.kind === 'ssr') return null;
      cut = ID_SIG;
      break;
  }
  return crypto().sha512(fieldsUpTo(s, cut));
}

export interface FingerprintText {
  b64: string;
  hex: string;
}

export function fingerprintText(fp: Uint8Array | null): FingerprintText | null {
  return fp ? { b64: toBase64Unpadded(fp), hex: toHex(fp) } : null;
}

export function allFingerprints(s: Signet): Record<FingerprintKind, FingerprintText | null> {
  return {
    ssr: fingerprintText(fingerprint(s, 'ssr')),
    crypto: fingerprintText(fingerprint(s, 'crypto')),
    full: fingerprintText(fingerprint(s, 'full')),
    id: fingerprintText(fingerprint(s, 'id')),
  };
}

/** Crypto fingerprint, unpadded base64: what message envelopes and DMTP commands carry. */
export function cryptoFingerprintB64(s: Signet): string {
  return toBase64Unpadded(fingerprint(s, s.kind === 'ssr' ? 'ssr' : 'crypto')!);
}
