/**
 * The DX certificate check of a DMTP client (record.md §5, dmtp.md §1), done right after the TLS
 * handshake and before any byte from the server is believed:
 *
 * 1. the record has `tls` values: the SHA-512 of the leaf's DER must verify against some (tls, pok)
 *    pair (every pair is tried), else reject;
 *    * pin + record DNSSEC-secure: accepted at once (no host-name, chain or OCSP check; self-signed
 *      certificates work);
 *    * pin + record insecure: the x509 host-name check against the DX name and chain validation must
 *      pass too; OCSP is skipped (as libdime);
 * 2. no `tls` values: a self-signed certificate is rejected; then host name and chain. OCSP, which
 *    record.md §5 lists last, is **not implemented**: the verdict says `ocsp: 'not-checked'`.
 *
 * Chain validation is node's (OpenSSL's) against the trust store the connection was made with:
 * node's bundled roots, or the `ca` option of the client.
 */

import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { toHex } from '../../encoding/hex.js';
import { tlsCertificateDigest, verifyTlsBindingDigest } from '../../record/tls.js';
import type { ManagementRecord } from '../../record/types.js';
import { tlsUntrusted } from './client-errors.js';

/** `pin`: pin alone (secure record); `pin+x509`: pin, host name and chain; `x509`: no pins. */
export type DxCertificateCheck = 'pin' | 'pin+x509' | 'x509';

export interface DxCertificateVerdict {
  readonly check: DxCertificateCheck;
  /** A (tls, pok) pair of the record signs this certificate. */
  readonly pinned: boolean;
  readonly hostname: 'ok' | 'skipped';
  readonly chain: 'ok' | 'skipped';
  /** record.md §5: skipped with a pin; without one OCSP would be due, but it is not implemented. */
  readonly ocsp: 'skipped' | 'not-checked';
  /** SHA-512 of the leaf certificate's DER, hex. */
  readonly certificateSha512: string;
  readonly subject: string;
  readonly selfSigned: boolean;
}

export interface DxCertificateInput {
  /** The DX name asked for (SNI, STARTTLS argument, host-name check). */
  readonly host: string;
  readonly record: Pick<ManagementRecord, 'pok' | 'tls'>;
  readonly dnssec: 'secure' | 'insecure';
  /** The server's leaf certificate, DER. */
  readonly certificate: Uint8Array;
  /** node's chain verdict (TLSSocket.authorized / authorizationError). */
  readonly authorized: boolean;
  readonly authorizationError?: string | Error | null;
  /** For the host-name check; built from `certificate` when absent. */
  readonly peer?: tls.PeerCertificate;
}

function isSelfSigned(x: X509Certificate): boolean {
  try {
    return x.checkIssued(x) && x.verify(x.publicKey);
  } catch {
    return false;
  }
}

/** A PeerCertificate good enough for tls.checkServerIdentity (subject CN and subjectaltname). */
function peerOf(x: X509Certificate): tls.PeerCertificate {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1];
  return {
    subject: cn === undefined ? {} : { CN: cn },
    subjectaltname: x.subjectAltName ?? undefined,
  } as unknown as tls.PeerCertificate;
}

/** Applies the rules above; returns the verdict or throws TLS_UNTRUSTED (`context.reason`). */
export function checkDxCertificate(input: DxCertificateInput): DxCertificateVerdict {
  if (input.certificate.length === 0) {
    throw tlsUntrusted('no-certificate', `${input.host} presented no certificate`);
  }
  const x = new X509Certificate(input.certificate);
  const digest = tlsCertificateDigest(input.certificate);
  const base = {
    certificateSha512: toHex(digest),
    subject: x.subject.replace(/\n/g, ', '),
    selfSigned: isSelfSigned(x),
  };
  const ctx = { host: input.host, certificateSha512: base.certificateSha512 };
  const hasPins = input.record.tls.length > 0;
  const pinned = hasPins && verifyTlsBindingDigest(input.record, digest);

  if (hasPins) {
    if (!pinned) {
      throw tlsUntrusted(
        'pin-mismatch',
        `the certificate of ${input.host} matches none of the record's tls pins (${input.record.tls.length} tls × ${input.record.pok.length} pok tried)`,
        ctx,
      );
    }
    if (input.dnssec === 'secure') {
      return { ...base, check: 'pin', pinned: true, hostname: 'skipped', chain: 'skipped', ocsp: 'skipped' };
    }
  } else if (base.selfSigned) {
    throw tlsUntrusted(
      'self-signed',
      `${input.host} presented a self-signed certificate and the record pins none`,
      ctx,
    );
  }

  const identity = tls.checkServerIdentity(input.host, input.peer ?? peerOf(x));
  if (identity) {
    throw tlsUntrusted('hostname', `certificate of ${input.host}: ${identity.message}`, ctx);
  }
  if (!input.authorized) {
    const why = input.authorizationError;
    const text = why instanceof Error ? why.message : (why ?? 'not trusted');
    throw tlsUntrusted('chain', `certificate chain of ${input.host} does not validate: ${text}`, {
      ...ctx,
      authorizationError: text,
    });
  }
  return {
    ...base,
    check: hasPins ? 'pin+x509' : 'x509',
    pinned,
    hostname: 'ok',
    chain: 'ok',
    ocsp: hasPins ? 'skipped' : 'not-checked',
  };
}
