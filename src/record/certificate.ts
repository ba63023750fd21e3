import { X509Certificate } from 'node:crypto';
import { DimeError } from '../errors/index.js';

/**
 * The only Node-specific part of src/record: turns a certificate (PEM text or DER bytes; with PEM,
 * the first CERTIFICATE block, i.e. the leaf of a chain file) into its DER encoding, checking that it
 * really is an X.509 certificate. The DER is what `tls=` signatures cover (record.md §5).
 */
export function certificateToDer(certificate: string | Uint8Array): Uint8Array {
  let input: string | Buffer;
  if (typeof certificate === 'string') {
    const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(certificate);
    if (!block) throw new DimeError('BAD_INPUT', 'no PEM CERTIFICATE block found');
    input = block[0];
  } else {
    input = Buffer.from(certificate.buffer, certificate.byteOffset, certificate.byteLength);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(input);
  } catch (e) {
    throw new DimeError('BAD_INPUT', 'not a valid X.509 certificate', {
      cause: e instanceof Error ? e.message : String(e),
    });
  }
  return new Uint8Array(cert.raw);
}
