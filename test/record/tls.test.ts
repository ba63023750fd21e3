import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { DimeError } from '../../src/errors/index.js';
import { certificateToDer } from '../../src/record/certificate.js';
import {
  buildRecordText,
  parseRecord,
  tlsCertificateDigest,
  tlsCertificateSignature,
  verifyTlsBinding,
} from '../../src/record/index.js';
import { bytesOf } from './helpers.js';
import { selfSignedCertificate } from './self-signed.js';

const seedA = bytesOf(32, 11);
const seedB = bytesOf(32, 12);
const pokA = crypto().ed25519PublicKey(seedA);
const pokB = crypto().ed25519PublicKey(seedB);
const cert = selfSignedCertificate(bytesOf(32, 13), 'dx.example.org');
const other = selfSignedCertificate(bytesOf(32, 14), 'dx.example.org');

describe('certificateToDer', () => {
  it('PEM → the DER the certificate was made of', () => {
    expect(certificateToDer(cert.pem)).toEqual(cert.der);
    expect(new X509Certificate(cert.pem).subject).toBe('CN=dx.example.org');
  });

  it('takes the first certificate of a chain file, and accepts DER', () => {
    expect(certificateToDer(`junk\n${cert.pem}${other.pem}`)).toEqual(cert.der);
    expect(certificateToDer(cert.der)).toEqual(cert.der);
  });

  it('rejects what is not a certificate with BAD_INPUT', () => {
    for (const bad of [
      '',
      'hello',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      new Uint8Array(8),
    ]) {
      let err: unknown;
      try {
        certificateToDer(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DimeError);
      expect((err as DimeError).code).toBe('BAD_INPUT');
    }
  });
});

describe('tls certificate binding (record.md §5)', () => {
  it('signature = Ed25519(seed, SHA-512(DER)), deterministic', () => {
    const sig = tlsCertificateSignature(cert.der, seedA);
    expect(sig).toHaveLength(64);
    expect(tlsCertificateDigest(cert.der)).toEqual(crypto().sha512(cert.der));
    expect(sig).toEqual(crypto().ed25519Sign(seedA, crypto().sha512(cert.der)));
    expect(crypto().ed25519Verify(pokA, crypto().sha512(cert.der), sig)).toBe(true);
    expect(tlsCertificateSignature(cert.der, seedA)).toEqual(sig);
  });

  it('verifies through a built and parsed record', () => {
    const text = buildRecordText({ pok: [pokA], tls: [tlsCertificateSignature(cert.der, seedA)] });
    const r = parseRecord([text]);
    expect(verifyTlsBinding(r, cert.der)).toBe(true);
    expect(verifyTlsBinding(r, other.der)).toBe(false);
  });

  it('tries every (tls, pok) pair, not only the first tls value (libdime bug)', () => {
    const r = parseRecord([
      buildRecordText({
        pok: [pokA, pokB],
        tls: [tlsCertificateSignature(other.der, seedA), tlsCertificateSignature(cert.der, seedB)],
      }),
    ]);
    expect(verifyTlsBinding(r, cert.der)).toBe(true);
    expect(verifyTlsBinding(r, other.der)).toBe(true);
    const third = selfSignedCertificate(bytesOf(32, 15), 'x');
    expect(verifyTlsBinding(r, third.der)).toBe(false);
  });

  it('a signature by a key that is not a pok of the record does not count', () => {
    const r = parseRecord([
      buildRecordText({ pok: [pokA], tls: [tlsCertificateSignature(cert.der, seedB)] }),
    ]);
    expect(verifyTlsBinding(r, cert.der)).toBe(false);
  });

  it('no tls values: false', () => {
    expect(verifyTlsBinding(parseRecord([buildRecordText({ pok: [pokA] })]), cert.der)).toBe(false);
  });

  it('bad seed length is BAD_KEY_LENGTH; empty certificate BAD_INPUT', () => {
    expect(() => tlsCertificateSignature(cert.der, new Uint8Array(31))).toThrow(DimeError);
    expect(() => tlsCertificateDigest(new Uint8Array(0))).toThrow(DimeError);
  });
});
