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
 * 2. no `tls` values: a self-signed certificate is rejected; then host name and chain, then OCSP
 *    (src/protocol/tls/ocsp.ts, which writes down libdime's outcomes and ours): a stapled response
 *    first, else the leaf's responder. `revoked` and every failure (responder unreachable, bad
 *    signature, stale answer, …) refuse the connection (TLS_UNTRUSTED `ocsp-revoked` /
 *    `ocsp-failed`); `good`, `unknown`, no OCSP URL (`no-url`) and a non-successful responder
 *    status (`declined`) are accepted, as libdime does, and the verdict says which.
 *
 * Chain validation is node's (OpenSSL's) against the trust store the connection was made with:
 * node's bundled roots, or the `ca` option of the client.
 */

import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { toHex } from '../../encoding/hex.js';
import { tlsCertificateDigest, verifyTlsBindingDigest } from '../../record/tls.js';
import type { ManagementRecord } from '../../record/types.js';
import { checkOcsp, type OcspCache, type OcspResponseStatusName } from '../tls/ocsp.js';
import { tlsUntrusted } from './client-errors.js';

/** `pin`: pin alone (secure record); `pin+x509`: pin, host name and chain; `x509`: no pins. */
export type DxCertificateCheck = 'pin' | 'pin+x509' | 'x509';

export type DxOcspState = 'skipped' | 'good' | 'unknown' | 'no-url' | 'declined';

export interface DxOcspDetail {
  /** Where the answer came from: the handshake's staple or the responder (null: no URL). */
  readonly source: 'stapled' | 'responder' | null;
  readonly url: string | null;
  /** `declined`: the responder's OCSPResponseStatus. */
  readonly responseStatus?: OcspResponseStatusName;
  /** good/unknown: who signed, the times (ISO 8601), whether our nonce came back. */
  readonly signer?: 'issuer' | 'delegated';
  readonly producedAt?: string;
  readonly thisUpdate?: string;
  readonly nextUpdate?: string | null;
  readonly nonce?: 'matched' | 'absent' | 'not-sent';
  /** What happened on the way (a staple set aside, further URLs not used). */
  readonly notes: readonly string[];
}

export interface DxCertificateVerdict {
  readonly check: DxCertificateCheck;
  /** A (tls, pok) pair of the record signs this certificate. */
  readonly pinned: boolean;
  readonly hostname: 'ok' | 'skipped';
  readonly chain: 'ok' | 'skipped';
  /**
   * record.md §5: `skipped` with a pin; without one the OCSP answer that let the certificate through:
   * `good`, `unknown`, `no-url` (the leaf names no responder) or `declined` (the responder answered
   * a non-successful status). A revoked certificate or a failed check never gets a verdict.
   */
  readonly ocsp: DxOcspState;
  /** How the OCSP state was reached (null when skipped). */
  readonly ocspDetail: DxOcspDetail | null;
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
  /** The leaf's issuer from the peer's chain, DER (OCSP: the CertID and the response signer). */
  readonly issuer?: Uint8Array | null;
  /** The OCSP response the server stapled in the handshake, if any. */
  readonly stapledOcsp?: Uint8Array | null;
  /** Time limit of the OCSP request, default 10 s. */
  readonly ocspTimeoutMs?: number;
  /** Responder answers to reuse and keep (none: ask every time). */
  readonly ocspCache?: OcspCache | null;
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

/** Applies the rules above; resolves with the verdict or rejects with TLS_UNTRUSTED (`context.reason`). */
export async function checkDxCertificate(input: DxCertificateInput): Promise<DxCertificateVerdict> {
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
      return {
        ...base,
        check: 'pin',
        pinned: true,
        hostname: 'skipped',
        chain: 'skipped',
        ocsp: 'skipped',
        ocspDetail: null,
      };
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
  if (hasPins) {
    return {
      ...base,
      check: 'pin+x509',
      pinned,
      hostname: 'ok',
      chain: 'ok',
      ocsp: 'skipped',
      ocspDetail: null,
    };
  }

  const r = await checkOcsp({
    certificate: x,
    issuer: input.issuer ?? null,
    stapled: input.stapledOcsp ?? null,
    ...(input.ocspTimeoutMs !== undefined ? { timeoutMs: input.ocspTimeoutMs } : {}),
    ...(input.ocspCache ? { cache: input.ocspCache } : {}),
  });
  const where = { ...ctx, ocspSource: r.source, ocspUrl: r.url, ocspNotes: r.notes };
  if (r.outcome === 'error') {
    throw tlsUntrusted('ocsp-failed', `OCSP check of the certificate of ${input.host} failed: ${r.message}`, {
      ...where,
      ocsp: r.failure,
    });
  }
  if (r.outcome === 'revoked') {
    throw tlsUntrusted(
      'ocsp-revoked',
      `the certificate of ${input.host} is revoked (OCSP, ${r.source === 'stapled' ? 'stapled response' : r.url}): ` +
        `${r.revocationTime?.toISOString() ?? '?'}${r.revocationReason ? `, ${r.revocationReason}` : ''}`,
      {
        ...where,
        ocsp: 'revoked',
        revocationTime: r.revocationTime?.toISOString() ?? null,
        revocationReason: r.revocationReason ?? null,
      },
    );
  }
  let ocspDetail: DxOcspDetail;
  if (r.outcome === 'no-url') {
    ocspDetail = { source: null, url: null, notes: r.notes };
  } else if (r.outcome === 'declined') {
    ocspDetail = { source: r.source, url: r.url, responseStatus: r.responseStatus, notes: r.notes };
  } else {
    ocspDetail = {
      source: r.source,
      url: r.url,
      signer: r.signer,
      producedAt: r.producedAt.toISOString(),
      thisUpdate: r.thisUpdate.toISOString(),
      nextUpdate: r.nextUpdate?.toISOString() ?? null,
      nonce: r.nonce,
      notes: r.notes,
    };
  }
  return { ...base, check: 'x509', pinned, hostname: 'ok', chain: 'ok', ocsp: r.outcome, ocspDetail };
}
