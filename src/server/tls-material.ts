/**
 * The server's TLS key and certificate: configured PEM files, or a self-made RSA certificate for the
 * hostname (RSA: libdime's DMTP client needs ECDHE-RSA-AES256-GCM-SHA384, dmtp.md §8 D16) whose key
 * is kept PKCS#8-encrypted under the server passphrase.
 */

import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DimeError } from '../errors/index.js';
import { createSelfSignedCertificate } from '../protocol/tls/self-signed.js';
import { type DataPaths, readFileOrThrow, writeFileAtomic } from './data-dir.js';

export interface TlsMaterial {
  /** The private key, PEM, decrypted (memory only). */
  keyPem: string;
  /** Leaf first, then any chain. */
  certPem: string;
  /** The leaf certificate, DER (what the `_dx` record's `tls=` pins, record.md §5). */
  certDer: Uint8Array;
  /** DNS names of the leaf (subjectAltName). */
  names: string[];
  source: 'self-made' | 'configured';
  created: boolean;
}

function leafDer(certPem: string): { der: Uint8Array; names: string[] } {
  let x: X509Certificate;
  try {
    x = new X509Certificate(certPem);
  } catch (e) {
    throw new DimeError('BAD_INPUT', `not a PEM certificate: ${(e as Error).message}`);
  }
  const names = (x.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  return { der: new Uint8Array(x.raw), names };
}

function decryptKey(pem: string, passphrase: string | undefined, what: string): string {
  try {
    return createPrivateKey({ key: pem, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
  } catch (e) {
    throw new DimeError('DECRYPT_FAILED', `cannot open ${what}: ${(e as Error).message}`);
  }
}

/** PKCS#8 PEM encrypted with AES-256-CBC under `passphrase` (scrypt-less PBES2, OpenSSL's default KDF). */
export function encryptKeyPem(keyPem: string, passphrase: string): string {
  return createPrivateKey(keyPem)
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    .toString();
}

/**
 * Loads (or, the first time, makes) the TLS material. Configured files win; the self-made
 * certificate is remade when the hostname is not among its names (a changed --hostname).
 */
export async function loadTlsMaterial(
  paths: DataPaths,
  hostname: string,
  passphrase: string,
  configured?: { key: string; cert: string; keyPassphrase?: string | undefined },
): Promise<TlsMaterial> {
  if (configured) {
    const keyPem = decryptKey(
      readFileOrThrow(paths.resolve(configured.key)).toString('utf8'),
      configured.keyPassphrase,
      configured.key,
    );
    const certPem = readFileOrThrow(paths.resolve(configured.cert)).toString('utf8');
    const { der, names } = leafDer(certPem);
    return { keyPem, certPem, certDer: der, names, source: 'configured', created: false };
  }
  if (existsSync(paths.tlsKey) && existsSync(paths.tlsCert)) {
    const certPem = readFileOrThrow(paths.tlsCert).toString('utf8');
    const { der, names } = leafDer(certPem);
    if (names.includes(hostname)) {
      const keyPem = decryptKey(readFileOrThrow(paths.tlsKey).toString('utf8'), passphrase, paths.tlsKey);
      return { keyPem, certPem, certDer: der, names, source: 'self-made', created: false };
    }
  }
  const made = await createSelfSignedCertificate({
    hostnames: [hostname, 'localhost', '127.0.0.1', '::1'],
    keyType: 'rsa',
    days: 825,
  });
  writeFileAtomic(paths.tlsKey, encryptKeyPem(made.keyPem, passphrase), 0o600, false);
  writeFileAtomic(paths.tlsCert, made.certPem, 0o644, false);
  return {
    keyPem: made.keyPem,
    certPem: made.certPem,
    certDer: made.certDer,
    names: leafDer(made.certPem).names,
    source: 'self-made',
    created: true,
  };
}

/** The SHA-256 of the certificate's SubjectPublicKeyInfo, hex (TLSA 3 1 1). */
export function spkiSha256Hex(certPem: string): string {
  const x = new X509Certificate(certPem);
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}
