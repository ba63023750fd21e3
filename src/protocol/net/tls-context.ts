/**
 * Server TLS contexts. DMTP needs TLS 1.2 or later and libdime's one suite, ECDHE-RSA-AES256-GCM-SHA384
 * (dmtp.md §1, §8 D16; an RSA certificate); the TLS 1.3 AES-256-GCM suite is allowed too. SMTP
 * (STARTTLS on 25/587, implicit TLS on 465) uses node's default suites, TLS 1.2 minimum.
 */

import tls from 'node:tls';

export const DMTP_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
].join(':');

export interface CertificateMaterial {
  key: string | Buffer;
  /** Leaf first, then the chain (libdime's OCSP step wants the issuer in the chain, D15). */
  cert: string | Buffer;
}

export function createServerSecureContext(
  material: CertificateMaterial,
  profile: 'smtp' | 'dmtp',
): tls.SecureContext {
  return tls.createSecureContext({
    key: material.key,
    cert: material.cert,
    minVersion: 'TLSv1.2',
    ...(profile === 'dmtp' ? { ciphers: DMTP_CIPHERS } : {}),
    honorCipherOrder: true,
  });
}

/** OCSP stapling for the listeners (an OcspStapler, src/protocol/tls/ocsp-stapler.ts). */
export interface OcspStapling {
  /**
   * The DER OCSPResponse to staple for `certificate` (the leaf the handshake sends), or null for
   * none. Must settle quickly (the handshake waits for it) and should not reject.
   */
  staple(certificate?: Uint8Array | null): Promise<Buffer | null>;
}

/** TLS material for a listener: one context for SMTP STARTTLS/implicit TLS, one for DMTP. */
export interface ServerTlsOptions {
  smtp: tls.SecureContext;
  dmtp: tls.SecureContext;
  /** Per-SNI contexts (libdime sends SNI only on port 26, D3). */
  SNICallback?: tls.TlsOptions['SNICallback'];
  /** Handshake time limit in ms, default 30 000. */
  handshakeTimeoutMs?: number;
  /** Staples an OCSP response when the client asks for one (status_request); none: never. */
  ocsp?: OcspStapling;
}

export function serverTlsOptions(material: CertificateMaterial): ServerTlsOptions {
  return {
    smtp: createServerSecureContext(material, 'smtp'),
    dmtp: createServerSecureContext(material, 'dmtp'),
  };
}
