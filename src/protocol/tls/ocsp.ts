/**
 * OCSP (RFC 6960) for the DX certificate check of the DMTP client: record.md §5 case 2 (the record
 * has no `tls` pin) ends with "then OCSP" after the self-signed, host-name and chain checks.
 *
 * What libdime does (`_do_ocsp_validation`, src/providers/dime/signet-resolver/ssl.c, called from
 * `_verify_dx_certificate` in dmtp.c; -1 "error" and 0 "failed" both end the connection):
 * * the leaf's issuer must be in the peer's chain, else error;
 * * a cached successful response is re-verified (signature, CertID, validity) and used;
 * * **no OCSP URL in the leaf → passes** ("fallthrough"); only the first URL is used;
 * * the request is one SHA-1 CertID plus a nonce, POSTed over plain HTTP without a time limit;
 *   **responder unreachable, HTTP error, unreadable answer → error** (the connection fails);
 * * **responseStatus other than `successful` (tryLater, internalError, unauthorized, …) → passes**
 *   ("fallthrough");
 * * no BasicOCSPResponse → error; nonce echoed but different → error; no nonce → warning only;
 * * `OCSP_basic_verify(basic, peer chain, trust store, 0)`: the signer is the issuer or a delegated
 *   responder certificate issued by it with id-kp-OCSPSigning, and the signature verifies; else fail;
 * * no SingleResponse for the CertID → fail;
 * * `OCSP_check_validity(thisUpdate, nextUpdate, 300, -1)`: thisUpdate more than 5 minutes in the
 *   future, or nextUpdate more than 5 minutes in the past → fail; no nextUpdate is fine, no max age;
 * * the certificate status itself is **never read**: a revoked or unknown certificate passes;
 * * a stapled response is requested; its callback only parses it: a staple that does not parse as
 *   an OCSPResponse aborts the handshake, a parsable one is otherwise ignored.
 *
 * **Decisions** (this module follows the above, except where said):
 * * `revoked` → the connection is refused (libdime's ignoring the status is a bug: revocation is the
 *   point of the check). `unknown` → accepted and reported (libdime accepts it).
 * * no OCSP URL → accepted, reported as `no-url`; a non-successful responseStatus → accepted,
 *   reported as `declined` with the status; both as libdime (soft-fail).
 * * responder unreachable, time limit (default 10 s, libdime has none), HTTP status ≠ 200, an answer
 *   over 100 KiB (OpenSSL's limit) or one that does not parse → the connection is refused (hard-fail,
 *   as libdime). A URL that is not `http://` is refused too (libdime connects plainly to it anyway).
 * * a stapled response is checked first, the same way (no nonce: a staple never carries ours). A
 *   staple that is not an OCSPResponse at all refuses the connection (libdime's callback aborts the
 *   handshake); a verified staple gives the answer (good, revoked, unknown) and no request is sent;
 *   any other staple (non-successful status, bad signature, other certificate, stale) is set aside
 *   with a note and the responder is asked, which is all libdime ever does.
 * * signatures: RSA PKCS#1 v1.5 and ECDSA with SHA-1/SHA-2, Ed25519, Ed448; RSA-PSS is not supported
 *   (refused as `signature`). A delegated responder certificate must be inside its validity period;
 *   it is not itself checked for revocation (OpenSSL does not either, id-pkix-ocsp-nocheck or not).
 * * the CertID must match exactly (SHA-1, as requested; OpenSSL's OCSP_id_cmp).
 * * responder answers are cached when the caller gives an OcspCache (the server keeps one; libdime
 *   has one): reused until nextUpdate (at most an hour), re-verified on each use.
 * * the issuer comes from node's chain (`getPeerCertificate(true)`), which adds the issuer from the
 *   trust store when the server sent only its leaf; libdime needs it in the sent chain (D15).
 *
 * ASN.1 is @peculiar/asn1-ocsp / asn1-x509 / asn1-schema; hashes and signatures are node:crypto.
 */

import { createHash, type KeyObject, randomBytes, verify, X509Certificate } from 'node:crypto';
import http from 'node:http';
import {
  BasicOCSPResponse,
  CertID,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  type SingleResponse,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityInfoAccessSyntax,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  id_ad_ocsp,
  id_ce_extKeyUsage,
  id_pe_authorityInfoAccess,
  type Name,
} from '@peculiar/asn1-x509';
import { bytesEqual } from '../../encoding/bytes.js';
import { toHex } from '../../encoding/hex.js';
import { DimeError } from '../../errors/index.js';

/** libdime's OCSP_check_validity skew: 5 minutes. */
export const OCSP_CLOCK_SKEW_SECONDS = 300;
export const OCSP_DEFAULT_TIMEOUT_MS = 10_000;
/** OpenSSL's default maximum OCSP response length. */
export const OCSP_MAX_RESPONSE_BYTES = 100 * 1024;
const NONCE_BYTES = 16;

/** Why an OCSP answer could not be used (every one refuses the connection). */
export type OcspFailure =
  /** the leaf's issuer is not known, or did not issue it */
  | 'no-issuer'
  /** the leaf's OCSP URL is not an http:// URL */
  | 'url'
  /** no TCP connection, or no complete answer within the time limit */
  | 'unreachable'
  /** HTTP status other than 200, or an answer over the size limit */
  | 'http'
  /** not an OCSPResponse / BasicOCSPResponse, or fields out of range */
  | 'malformed'
  /** the response echoes a nonce other than ours */
  | 'nonce'
  /** no certificate authorised to sign for the issuer matches the responder id */
  | 'signer'
  /** the signature does not verify, or its algorithm is not supported */
  | 'signature'
  /** no SingleResponse for our certificate */
  | 'cert-id'
  /** thisUpdate more than the allowed skew in the future */
  | 'not-yet-valid'
  /** nextUpdate more than the allowed skew in the past */
  | 'stale';

/** An OCSP step that failed; `code` TLS_UNTRUSTED so that the DMTP client can throw it as it is. */
export class OcspError extends DimeError {
  readonly failure: OcspFailure;

  constructor(failure: OcspFailure, message: string, context: Record<string, unknown> = {}) {
    super('TLS_UNTRUSTED', message, { ...context, reason: 'ocsp-failed', ocsp: failure, temporary: true });
    this.name = 'OcspError';
    this.failure = failure;
  }
}

export type OcspResponseStatusName =
  | 'successful'
  | 'malformedRequest'
  | 'internalError'
  | 'tryLater'
  | 'sigRequired'
  | 'unauthorized';

const STATUS_NAMES: Readonly<Record<number, OcspResponseStatusName>> = {
  [OCSPResponseStatus.successful]: 'successful',
  [OCSPResponseStatus.malformedRequest]: 'malformedRequest',
  [OCSPResponseStatus.internalError]: 'internalError',
  [OCSPResponseStatus.tryLater]: 'tryLater',
  [OCSPResponseStatus.sigRequired]: 'sigRequired',
  [OCSPResponseStatus.unauthorized]: 'unauthorized',
};

const HASH_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SHA1_OID = '1.3.14.3.2.26';

/** Signature algorithm OID → node's digest name (null: the key type fixes it, EdDSA). */
const SIGNATURE_OIDS: Readonly<Record<string, { hash: string | null; key: string }>> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', key: 'rsa' },
  '1.2.840.113549.1.1.14': { hash: 'sha224', key: 'rsa' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' },
  '1.2.840.10045.4.1': { hash: 'sha1', key: 'ec' },
  '1.2.840.10045.4.3.1': { hash: 'sha224', key: 'ec' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' },
  '1.3.101.112': { hash: null, key: 'ed25519' },
  '1.3.101.113': { hash: null, key: 'ed448' },
};

const CRL_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unused',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

function bytes(b: ArrayBuffer | ArrayBufferView): Uint8Array {
  return b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function hash(alg: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(alg).update(data).digest());
}

/** An INTEGER's content bytes without redundant leading zero bytes, as hex (serial comparison). */
function integerHex(b: ArrayBuffer): string {
  const v = bytes(b);
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  return toHex(v.subarray(i));
}

function der(x: X509Certificate | Uint8Array): Uint8Array {
  return x instanceof X509Certificate ? new Uint8Array(x.raw) : x;
}

function parseCertificate(d: Uint8Array, what: string): Certificate {
  try {
    return AsnConvert.parse(d, Certificate);
  } catch (e) {
    throw new OcspError('malformed', `${what} is not an X.509 certificate: ${(e as Error).message}`);
  }
}

function nameDer(n: Name): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(n));
}

/** The OCSP responder URLs of a certificate's Authority Information Access extension, in order. */
export function ocspUrls(certificate: X509Certificate | Uint8Array): string[] {
  const c = parseCertificate(der(certificate), 'the certificate');
  const ext = c.tbsCertificate.extensions?.find((e) => e.extnID === id_pe_authorityInfoAccess);
  if (!ext) return [];
  let aia: AuthorityInfoAccessSyntax;
  try {
    aia = AsnConvert.parse(ext.extnValue, AuthorityInfoAccessSyntax);
  } catch (e) {
    throw new OcspError('malformed', `bad Authority Information Access extension: ${(e as Error).message}`);
  }
  const urls: string[] = [];
  for (const d of aia) {
    const uri = d.accessLocation.uniformResourceIdentifier;
    if (d.accessMethod === id_ad_ocsp && uri !== undefined) urls.push(uri);
  }
  return urls;
}

/** What a CertID is computed from: the issuer's name and key, the leaf's serial. */
export interface CertIdSource {
  /** DER of the issuer's subject Name. */
  readonly issuerName: Uint8Array;
  /** The issuer's subjectPublicKey BIT STRING contents. */
  readonly issuerKey: Uint8Array;
  /** INTEGER content bytes of the leaf's serial number. */
  readonly serial: ArrayBuffer;
}

/**
 * The CertID source of `leaf` issued by `issuer`. Throws OcspError('no-issuer') when `issuer` did not
 * issue `leaf` (names and signature, X509_check_issued and more).
 */
export function certIdSource(leaf: X509Certificate, issuer: X509Certificate): CertIdSource {
  let issued = false;
  try {
    issued = leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey);
  } catch {
    issued = false;
  }
  if (!issued) {
    throw new OcspError(
      'no-issuer',
      `"${issuer.subject.replace(/\n/g, ', ')}" did not issue the certificate`,
    );
  }
  const i = parseCertificate(der(issuer), 'the issuer certificate');
  const l = parseCertificate(der(leaf), 'the certificate');
  return {
    issuerName: nameDer(i.tbsCertificate.subject),
    issuerKey: bytes(i.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey),
    serial: l.tbsCertificate.serialNumber,
  };
}

/** The CertID of `source` with the hash algorithm `hashOid` (SHA-1 unless said). */
export function certId(source: CertIdSource, hashOid = SHA1_OID): CertID {
  const alg = HASH_OIDS[hashOid];
  if (!alg) throw new OcspError('malformed', `unsupported CertID hash algorithm ${hashOid}`);
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: hashOid, parameters: null }),
    issuerNameHash: new OctetString(hash(alg, source.issuerName)),
    issuerKeyHash: new OctetString(hash(alg, source.issuerKey)),
    serialNumber: source.serial,
  });
}

export interface BuiltOcspRequest {
  /** DER of the OCSPRequest. */
  readonly der: Uint8Array;
  /** extnValue of the nonce extension as sent (an OCTET STRING holding the random bytes). */
  readonly nonce: Uint8Array | null;
}

/** An unsigned OCSPRequest for one certificate (SHA-1 CertID) with a random nonce (RFC 8954). */
export function buildOcspRequest(source: CertIdSource, options: { nonce?: boolean } = {}): BuiltOcspRequest {
  const nonce =
    options.nonce === false
      ? null
      : new Uint8Array(AsnConvert.serialize(new OctetString(new Uint8Array(randomBytes(NONCE_BYTES)))));
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new Request({ reqCert: certId(source) })],
      ...(nonce
        ? {
            requestExtensions: [
              new Extension({ extnID: id_pkix_ocsp_nonce, extnValue: new OctetString(nonce) }),
            ],
          }
        : {}),
    }),
  });
  return { der: new Uint8Array(AsnConvert.serialize(request)), nonce };
}

export interface ParsedOcspResponse {
  readonly status: OcspResponseStatusName;
  /** Present exactly when status is `successful`. */
  readonly basic: BasicOCSPResponse | null;
}

/**
 * Parses an OCSPResponse and, for a successful one, its BasicOCSPResponse. Anything that is not one
 * (garbage, truncated or mutated DER, another response type, a missing signed part) throws
 * OcspError('malformed'); nothing else escapes.
 */
export function parseOcspResponse(d: Uint8Array): ParsedOcspResponse {
  if (d.length === 0) throw new OcspError('malformed', 'empty OCSP response');
  if (d.length > OCSP_MAX_RESPONSE_BYTES) {
    throw new OcspError('malformed', `OCSP response over ${OCSP_MAX_RESPONSE_BYTES} bytes`);
  }
  let outer: OCSPResponse;
  try {
    outer = AsnConvert.parse(d, OCSPResponse);
  } catch (e) {
    throw new OcspError('malformed', `not an OCSPResponse: ${(e as Error).message}`);
  }
  const status = STATUS_NAMES[outer.responseStatus as number];
  if (status === undefined) {
    throw new OcspError('malformed', `unknown OCSP responseStatus ${String(outer.responseStatus)}`);
  }
  if (status !== 'successful') return { status, basic: null };
  const rb = outer.responseBytes;
  if (!rb) throw new OcspError('malformed', 'successful OCSP response without responseBytes');
  if (rb.responseType !== id_pkix_ocsp_basic) {
    throw new OcspError('malformed', `OCSP response type ${rb.responseType} is not id-pkix-ocsp-basic`);
  }
  let basic: BasicOCSPResponse;
  try {
    basic = AsnConvert.parse(rb.response.buffer, BasicOCSPResponse);
  } catch (e) {
    throw new OcspError('malformed', `not a BasicOCSPResponse: ${(e as Error).message}`);
  }
  const data = basic.tbsResponseData;
  if (!basic.tbsResponseDataRaw || !data || !Array.isArray(data.responses)) {
    throw new OcspError('malformed', 'BasicOCSPResponse without its signed data');
  }
  if (!validDate(data.producedAt))
    throw new OcspError('malformed', 'BasicOCSPResponse with an unreadable producedAt');
  if (!data.responderID || (data.responderID.byName === undefined && data.responderID.byKey === undefined)) {
    throw new OcspError('malformed', 'BasicOCSPResponse without a responder id');
  }
  if (!(basic.signature instanceof ArrayBuffer) || !basic.signatureAlgorithm?.algorithm) {
    throw new OcspError('malformed', 'BasicOCSPResponse without a signature');
  }
  for (const r of data.responses) {
    const s = r.certStatus;
    if (!s || (s.good === undefined && s.revoked === undefined && s.unknown === undefined)) {
      throw new OcspError('malformed', 'SingleResponse without a certificate status');
    }
    if (!validDate(r.thisUpdate) || (r.nextUpdate !== undefined && !validDate(r.nextUpdate))) {
      throw new OcspError('malformed', 'SingleResponse with an unreadable thisUpdate/nextUpdate');
    }
    if (s.revoked !== undefined && !validDate(s.revoked.revocationTime)) {
      throw new OcspError('malformed', 'RevokedInfo with an unreadable revocationTime');
    }
  }
  return { status, basic };
}

function validDate(d: unknown): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime());
}

export type OcspCertStatus = 'good' | 'revoked' | 'unknown';

export interface VerifiedOcspResponse {
  readonly status: OcspCertStatus;
  /** Who signed: the issuer itself, or a delegated responder certificate it issued. */
  readonly signer: 'issuer' | 'delegated';
  readonly producedAt: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  /** `matched`: our nonce echoed; `absent`: none in the response; `not-sent`: a staple. */
  readonly nonce: 'matched' | 'absent' | 'not-sent';
  readonly revocationTime?: Date;
  readonly revocationReason?: string;
}

export interface OcspVerifyInput {
  readonly source: CertIdSource;
  readonly issuer: X509Certificate;
  /** The nonce extnValue sent (null: none was sent, e.g. a stapled response). */
  readonly nonce: Uint8Array | null;
  /** Milliseconds since the epoch, default Date.now(). */
  readonly now?: number;
  /** Default 300 (libdime). */
  readonly skewSeconds?: number;
}

interface Candidate {
  readonly x: X509Certificate;
  readonly asn: Certificate;
  readonly key: KeyObject;
  readonly spki: Uint8Array;
}

/** A certificate from a response as a candidate signer; null when node cannot read it or its key. */
function candidate(d: Uint8Array, asn?: Certificate): Candidate | null {
  try {
    const x = new X509Certificate(d);
    const key = x.publicKey;
    return {
      x,
      asn: asn ?? AsnConvert.parse(d, Certificate),
      key,
      spki: new Uint8Array(key.export({ type: 'spki', format: 'der' })),
    };
  } catch {
    return null;
  }
}

/**
 * The first SingleResponse for our certificate (OpenSSL's OCSP_resp_find/OCSP_id_cmp): same hash
 * algorithm as the request's (SHA-1), same issuer name and key hashes, same serial.
 */
function findSingle(responses: readonly SingleResponse[], source: CertIdSource): SingleResponse | undefined {
  const serial = integerHex(source.serial);
  const ours = certId(source);
  return responses.find((r) => {
    if (r.certID?.hashAlgorithm?.algorithm !== SHA1_OID) return false;
    return (
      integerHex(r.certID.serialNumber) === serial &&
      bytesEqual(bytes(r.certID.issuerNameHash.buffer), bytes(ours.issuerNameHash.buffer)) &&
      bytesEqual(bytes(r.certID.issuerKeyHash.buffer), bytes(ours.issuerKeyHash.buffer))
    );
  });
}

function hasOcspSigning(c: Certificate): boolean {
  const ext = c.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_extKeyUsage);
  if (!ext) return false;
  try {
    return AsnConvert.parse(ext.extnValue, ExtendedKeyUsage).includes(id_kp_OCSPSigning);
  } catch {
    return false;
  }
}

function verifySignature(basic: BasicOCSPResponse, key: KeyObject): boolean {
  const alg = SIGNATURE_OIDS[basic.signatureAlgorithm.algorithm];
  if (!alg || key.asymmetricKeyType !== alg.key) return false;
  try {
    return verify(alg.hash, bytes(basic.tbsResponseDataRaw!), key, bytes(basic.signature));
  } catch {
    return false;
  }
}

/**
 * Verifies a successful response for our certificate (libdime's checks, see the head comment):
 * nonce, signer (issuer, or a certificate in the response that the issuer issued, valid now, with
 * id-kp-OCSPSigning) and signature, the SingleResponse for our CertID, thisUpdate/nextUpdate within
 * the skew. Throws OcspError; returns the certificate status.
 */
export function verifyOcspResponse(parsed: ParsedOcspResponse, input: OcspVerifyInput): VerifiedOcspResponse {
  try {
    return verifyParsed(parsed, input);
  } catch (e) {
    if (e instanceof OcspError) throw e;
    throw new OcspError('malformed', `OCSP response not usable: ${(e as Error)?.message ?? String(e)}`);
  }
}

function verifyParsed(parsed: ParsedOcspResponse, input: OcspVerifyInput): VerifiedOcspResponse {
  const basic = parsed.basic;
  if (parsed.status !== 'successful' || !basic) {
    throw new OcspError('malformed', `OCSP response status ${parsed.status}, nothing to verify`);
  }
  const now = input.now ?? Date.now();
  const skewMs = (input.skewSeconds ?? OCSP_CLOCK_SKEW_SECONDS) * 1000;
  const data = basic.tbsResponseData;

  // nonce (OCSP_check_nonce: a different one is an error, a missing one a warning)
  let nonce: VerifiedOcspResponse['nonce'] = 'not-sent';
  if (input.nonce) {
    const ext = data.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    if (!ext) nonce = 'absent';
    else if (bytesEqual(bytes(ext.extnValue.buffer), input.nonce)) nonce = 'matched';
    else throw new OcspError('nonce', 'the OCSP response carries another nonce than the request');
  }

  // signer: match the responder id among the issuer and the response's certificates
  const issuerC = candidate(der(input.issuer));
  if (!issuerC) throw new OcspError('no-issuer', 'the issuer certificate cannot be read');
  const candidates: Candidate[] = [issuerC];
  for (const c of basic.certs ?? []) {
    let d: Uint8Array;
    try {
      d = new Uint8Array(AsnConvert.serialize(c));
    } catch {
      continue;
    }
    const k = candidate(d, c);
    if (k) candidates.push(k); // an unreadable extra certificate cannot be the signer
  }
  const rid = data.responderID;
  const byName = rid.byName ? nameDer(rid.byName) : null;
  const byKey = rid.byKey ? bytes(rid.byKey.buffer) : null;
  const matching = candidates.filter((c) =>
    byName
      ? bytesEqual(nameDer(c.asn.tbsCertificate.subject), byName)
      : byKey !== null &&
        bytesEqual(hash('sha1', bytes(c.asn.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)), byKey),
  );
  if (matching.length === 0) {
    throw new OcspError('signer', 'no certificate matches the OCSP responder id');
  }
  let signer: VerifiedOcspResponse['signer'] | null = null;
  let authorised = 0;
  const refusals: string[] = [];
  for (const c of matching) {
    let kind: 'issuer' | 'delegated';
    if (bytesEqual(c.spki, issuerC.spki) && c.x.subject === input.issuer.subject) {
      kind = 'issuer';
    } else {
      let issued = false;
      try {
        issued = c.x.checkIssued(input.issuer) && c.x.verify(issuerC.key);
      } catch {
        issued = false;
      }
      if (!issued) {
        refusals.push('the responder certificate was not issued by the certificate issuer');
        continue;
      }
      if (!hasOcspSigning(c.asn)) {
        refusals.push('the responder certificate lacks id-kp-OCSPSigning');
        continue;
      }
      if (now < Date.parse(c.x.validFrom) || now > Date.parse(c.x.validTo)) {
        refusals.push('the responder certificate is outside its validity period');
        continue;
      }
      kind = 'delegated';
    }
    authorised++;
    if (verifySignature(basic, c.key)) {
      signer = kind;
      break;
    }
  }
  if (!signer) {
    if (authorised === 0)
      throw new OcspError('signer', `OCSP response signer not authorised: ${refusals.join('; ')}`);
    throw new OcspError(
      'signature',
      `the OCSP response signature (${basic.signatureAlgorithm.algorithm}) does not verify with the responder's key`,
    );
  }

  const single = findSingle(data.responses, input.source);
  if (!single) throw new OcspError('cert-id', 'the OCSP response holds no status for this certificate');
  const thisUpdate = single.thisUpdate;
  const nextUpdate = single.nextUpdate ?? null;
  if (thisUpdate.getTime() > now + skewMs) {
    throw new OcspError(
      'not-yet-valid',
      `OCSP response thisUpdate ${thisUpdate.toISOString()} is in the future`,
    );
  }
  if (nextUpdate && nextUpdate.getTime() < now - skewMs) {
    throw new OcspError('stale', `OCSP response expired: nextUpdate ${nextUpdate.toISOString()} has passed`);
  }
  const s = single.certStatus;
  const base = { signer, producedAt: data.producedAt, thisUpdate, nextUpdate, nonce };
  if (s.revoked !== undefined) {
    const reason = s.revoked.revocationReason;
    return {
      ...base,
      status: 'revoked',
      revocationTime: s.revoked.revocationTime,
      ...(reason !== undefined
        ? { revocationReason: CRL_REASONS[Number(reason.reason)] ?? String(reason.reason) }
        : {}),
    };
  }
  return { ...base, status: s.good !== undefined ? 'good' : 'unknown' };
}

/** POSTs an OCSP request (RFC 6960 A.1) over plain HTTP; resolves with the body of a 200 answer. */
export function postOcspRequest(
  url: string,
  body: Uint8Array,
  options: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<Uint8Array> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new OcspError('url', `OCSP URL ${JSON.stringify(url)} does not parse`, { url }));
  }
  if (u.protocol !== 'http:') {
    return Promise.reject(new OcspError('url', `OCSP URL ${url} is not http://`, { url }));
  }
  const timeoutMs = options.timeoutMs ?? OCSP_DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? OCSP_MAX_RESPONSE_BYTES;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: OcspError | null, out?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve(out!);
    };
    const req = http.request({
      hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: u.port === '' ? 80 : Number(u.port),
      path: `${u.pathname || '/'}${u.search}`,
      method: 'POST',
      agent: false,
      headers: {
        'Content-Type': 'application/ocsp-request',
        Accept: 'application/ocsp-response',
        'Content-Length': body.length,
      },
    });
    const timer = setTimeout(
      () =>
        finish(
          new OcspError('unreachable', `no answer from the OCSP responder ${url} within ${timeoutMs} ms`, {
            url,
          }),
        ),
      timeoutMs,
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      finish(
        new OcspError('unreachable', `OCSP responder ${url} unreachable: ${e.message}`, {
          url,
          ...(e.code ? { errno: e.code } : {}),
        }),
      ),
    );
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish(new OcspError('http', `OCSP responder ${url} answered HTTP ${res.statusCode}`, { url }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          finish(new OcspError('http', `OCSP answer from ${url} is over ${maxBytes} bytes`, { url }));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(null, new Uint8Array(Buffer.concat(chunks))));
      res.on('error', (e) =>
        finish(new OcspError('unreachable', `OCSP answer from ${url} broken off: ${e.message}`, { url })),
      );
      res.on('aborted', () =>
        finish(new OcspError('unreachable', `OCSP answer from ${url} broken off`, { url })),
      );
    });
    req.end(Buffer.from(body));
  });
}

/**
 * Verified responder answers by CertID, reused until their nextUpdate and at most `maxAgeMs`
 * (libdime keeps such a cache too, and re-verifies a cached answer before it uses it, as get()'s
 * caller does). Bounded: the oldest entry goes first.
 */
export class OcspCache {
  private readonly entries = new Map<
    string,
    { der: Uint8Array; url: string; fetched: number; expires: number }
  >();

  constructor(
    readonly maxEntries = 1024,
    readonly maxAgeMs = 3_600_000,
  ) {}

  private static key(src: CertIdSource): string {
    return [src.issuerName, src.issuerKey, new Uint8Array(src.serial)].map((b) => toHex(b)).join('/');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached answer for the certificate, unless it expired (then it is dropped). */
  get(src: CertIdSource, now: number): { der: Uint8Array; url: string; fetched: number } | null {
    const k = OcspCache.key(src);
    const e = this.entries.get(k);
    if (!e) return null;
    if (now >= e.expires) {
      this.entries.delete(k);
      return null;
    }
    return { der: e.der, url: e.url, fetched: e.fetched };
  }

  /** Keeps a verified answer until min(nextUpdate, now + maxAgeMs). */
  set(src: CertIdSource, der: Uint8Array, url: string, verified: VerifiedOcspResponse, now: number): void {
    const expires = Math.min(verified.nextUpdate?.getTime() ?? Number.POSITIVE_INFINITY, now + this.maxAgeMs);
    if (expires <= now) return;
    const k = OcspCache.key(src);
    this.entries.delete(k);
    this.entries.set(k, { der: new Uint8Array(der), url, fetched: now, expires });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(src: CertIdSource): void {
    this.entries.delete(OcspCache.key(src));
  }

  clear(): void {
    this.entries.clear();
  }
}

export interface OcspCheckInput {
  /** The leaf certificate. */
  readonly certificate: X509Certificate | Uint8Array;
  /** Its issuer (null/absent: not known, an error as in libdime). */
  readonly issuer?: X509Certificate | Uint8Array | null;
  /** A stapled OCSPResponse from the handshake, if the server sent one. */
  readonly stapled?: Uint8Array | null;
  readonly timeoutMs?: number;
  /** Milliseconds since the epoch for the validity checks, default Date.now(). */
  readonly now?: number;
  readonly skewSeconds?: number;
  /** Responder answers to reuse and to keep (none: every check asks the responder). */
  readonly cache?: OcspCache | null;
}

interface OcspAnswerInfo {
  readonly source: 'stapled' | 'responder';
  /** The responder URL asked (null for a staple). */
  readonly url: string | null;
  /** What happened before this answer (a staple set aside, other URLs ignored). */
  readonly notes: readonly string[];
}

export type OcspCheckResult =
  | ({ readonly outcome: OcspCertStatus } & OcspAnswerInfo & VerifiedOcspResponse)
  /** The leaf names no OCSP responder: accepted (libdime). */
  | {
      readonly outcome: 'no-url';
      readonly source: null;
      readonly url: null;
      readonly notes: readonly string[];
    }
  /** The responder answered a non-successful responseStatus: accepted (libdime). */
  | ({ readonly outcome: 'declined'; readonly responseStatus: OcspResponseStatusName } & OcspAnswerInfo)
  /** Any failure: the connection must be refused (libdime's -1 and 0). */
  | {
      readonly outcome: 'error';
      readonly failure: OcspFailure;
      readonly message: string;
      readonly source: 'stapled' | 'responder' | null;
      readonly url: string | null;
      readonly notes: readonly string[];
    };

/** A certificate given parsed, as DER or as PEM. */
export function toX509(c: X509Certificate | Uint8Array | string): X509Certificate {
  return c instanceof X509Certificate ? c : new X509Certificate(c);
}

/**
 * The whole OCSP step for one leaf: a stapled response first, then the leaf's first OCSP URL, with
 * libdime's outcomes (head comment). Never throws: failures come back as `outcome: 'error'`.
 */
export async function checkOcsp(input: OcspCheckInput): Promise<OcspCheckResult> {
  const notes: string[] = [];
  let source: 'stapled' | 'responder' | null = null;
  let url: string | null = null;
  try {
    const leaf = toX509(input.certificate);
    if (!input.issuer) throw new OcspError('no-issuer', 'the issuer of the certificate is not known');
    const issuer = toX509(input.issuer);
    const src = certIdSource(leaf, issuer);
    const verifyInput = {
      source: src,
      issuer,
      ...(input.now !== undefined ? { now: input.now } : {}),
      ...(input.skewSeconds !== undefined ? { skewSeconds: input.skewSeconds } : {}),
    };

    if (input.stapled && input.stapled.length > 0) {
      source = 'stapled';
      const parsed = parseOcspResponse(input.stapled); // unparsable: refused, as libdime's callback
      if (parsed.status !== 'successful') {
        notes.push(`stapled response set aside: responseStatus ${parsed.status}`);
      } else {
        try {
          const v = verifyOcspResponse(parsed, { ...verifyInput, nonce: null });
          return { outcome: v.status, source, url: null, notes, ...v };
        } catch (e) {
          if (!(e instanceof OcspError)) throw e;
          notes.push(`stapled response set aside (${e.failure}): ${e.message}`);
        }
      }
    }

    source = null;
    const urls = ocspUrls(leaf);
    if (urls.length === 0) return { outcome: 'no-url', source: null, url: null, notes };
    url = urls[0]!;
    if (urls.length > 1)
      notes.push(`${urls.length - 1} further OCSP URL(s) not used (libdime asks the first)`);
    source = 'responder';
    const now = input.now ?? Date.now();
    const cached = input.cache?.get(src, now);
    if (cached) {
      try {
        // a cached answer is checked again (signature, CertID, times), as libdime does
        const v = verifyOcspResponse(parseOcspResponse(cached.der), { ...verifyInput, nonce: null });
        notes.push(`answer cached at ${new Date(cached.fetched).toISOString()}`);
        return { outcome: v.status, source, url: cached.url, notes, ...v };
      } catch (e) {
        if (!(e instanceof OcspError)) throw e;
        input.cache!.delete(src);
        notes.push(`cached answer no longer usable (${e.failure}); asked again`);
      }
    }
    const request = buildOcspRequest(src);
    const body = await postOcspRequest(url, request.der, {
      ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
    });
    const parsed = parseOcspResponse(body);
    if (parsed.status !== 'successful') {
      return { outcome: 'declined', responseStatus: parsed.status, source, url, notes };
    }
    const v = verifyOcspResponse(parsed, { ...verifyInput, nonce: request.nonce });
    input.cache?.set(src, body, url, v, now);
    return { outcome: v.status, source, url, notes, ...v };
  } catch (e) {
    const err =
      e instanceof OcspError
        ? e
        : new OcspError('malformed', `OCSP check failed: ${(e as Error)?.message ?? String(e)}`);
    return { outcome: 'error', failure: err.failure, message: err.message, source, url, notes };
  }
}
