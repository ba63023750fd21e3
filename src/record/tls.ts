import { crypto } from '../crypto/index.js';
import { DimeError } from '../errors/index.js';
import { POK_BYTES } from './limits.js';
import type { ManagementRecord } from './types.js';

/** The message a `tls` value signs: SHA-512 of the whole DER certificate (record.md §5). */
export function tlsCertificateDigest(certDer: Uint8Array): Uint8Array {
  if (certDer.length === 0) throw new DimeError('BAD_INPUT', 'empty certificate');
  return crypto().sha512(certDer);
}

/**
 * The `tls=` value for a DX certificate: Ed25519(POK seed, SHA-512(DER)); the 64-byte digest is the
 * signed message (pure Ed25519 hashes it again). Deterministic.
 */
export function tlsCertificateSignature(certDer: Uint8Array, pokSeed: Uint8Array): Uint8Array {
  if (pokSeed.length !== POK_BYTES) {
    throw new DimeError('BAD_KEY_LENGTH', `an Ed25519 seed is ${POK_BYTES} bytes`, {
      length: pokSeed.length,
    });
  }
  return crypto().ed25519Sign(pokSeed, tlsCertificateDigest(certDer));
}

/**
 * True when some `tls` value of the record is a valid signature by some `pok` of the record over
 * the given certificate digest. Every (tls, pok) pair is tried (record.md §5 Decision, fixing
 * libdime's loop that only compared the first tls value with every POK). False without tls values.
 */
export function verifyTlsBindingDigest(
  record: Pick<ManagementRecord, 'pok' | 'tls'>,
  certDigest: Uint8Array,
): boolean {
  const c = crypto();
  for (const sig of record.tls) {
    for (const pok of record.pok) {
      if (c.ed25519Verify(pok, certDigest, sig)) return true;
    }
  }
  return false;
}

/** verifyTlsBindingDigest over SHA-512 of the DER certificate (the DX's leaf certificate). */
export function verifyTlsBinding(
  record: Pick<ManagementRecord, 'pok' | 'tls'>,
  certDer: Uint8Array,
): boolean {
  if (record.tls.length === 0) return false;
  return verifyTlsBindingDigest(record, tlsCertificateDigest(certDer));
}
