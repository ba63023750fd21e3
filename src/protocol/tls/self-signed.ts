/**
 * Self-signed server certificates (PEM key + certificate) for test listeners and first start-up:
 * the key pair comes from node's crypto.generateKeyPairSync, the certificate is built and signed
 * by @peculiar/x509 over WebCrypto. RSA is what libdime's DMTP client needs (ECDHE-RSA-AES256-GCM-SHA384,
 * dmtp.md §8 D16); EC (P-256) suits ordinary SMTP clients.
 */

import { generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { DimeError } from '../../errors/index.js';

export interface SelfSignedOptions {
  /** DNS names (and IP addresses) for the subjectAltName; the first one is the subject CN. */
  hostnames: readonly string[];
  /** Default 'rsa'. */
  keyType?: 'rsa' | 'ec';
  /** RSA modulus size, default 2048. */
  rsaBits?: 2048 | 3072 | 4096;
  /** Validity in days from now (starting one hour back), default 365. */
  days?: number;
}

export interface SelfSignedCertificate {
  /** PKCS#8 private key, PEM. */
  keyPem: string;
  /** X.509 certificate, PEM. */
  certPem: string;
  /** The certificate, DER. */
  certDer: Uint8Array;
}

type WebCryptoKey = Parameters<typeof webcrypto.subtle.exportKey>[1];

export async function createSelfSignedCertificate(opts: SelfSignedOptions): Promise<SelfSignedCertificate> {
  const names = [...opts.hostnames];
  if (names.length === 0) throw new DimeError('BAD_INPUT', 'a certificate needs at least one host name');
  const keyType = opts.keyType ?? 'rsa';
  const days = opts.days ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new DimeError('BAD_INPUT', 'days must be 1…3650');

  const pair =
    keyType === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: opts.rsaBits ?? 2048, publicExponent: 0x10001 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const algorithm =
    keyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const subtle = webcrypto.subtle;
  const privateKey = (await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign'])) as WebCryptoKey;
  const publicKey = (await subtle.importKey('spki', spki, algorithm, true, ['verify'])) as WebCryptoKey;

  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive
  const now = Date.now();
  const cn = names[0]!.replace(/[,+="<>#;\\]/g, '');
  const crypto = webcrypto as unknown as Crypto;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(serial).toString('hex'),
      name: `CN=${cn}`,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + days * 86_400_000),
      keys: { privateKey, publicKey } as unknown as CryptoKeyPair,
      signingAlgorithm: keyType === 'rsa' ? algorithm : { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        // keyCertSign: OpenSSL's X509_check_issued(cert, cert) (libdime's self-signed test) needs it.
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature |
            x509.KeyUsageFlags.keyCertSign |
            (keyType === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : 0),
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          names.map((n) =>
            isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n },
          ),
        ),
      ],
    },
    crypto,
  );
  return {
    keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: cert.toString('pem'),
    certDer: new Uint8Array(cert.rawData),
  };
}
