import { createPrivateKey, createPublicKey, sign } from 'node:crypto';

/**
 * Builds a minimal self-signed Ed25519 X.509 v3 certificate in DER, by hand, so that the tests need
 * no certificate file and no openssl binary. Deterministic for a given seed and common name.
 */

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  return new Uint8Array(Buffer.concat([Buffer.from([tag, ...len(body.length)]), body]));
}

const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const ED25519_ALG = seq(tlv(0x06, Uint8Array.of(0x2b, 0x65, 0x70))); // 1.3.101.112

function name(cn: string): Uint8Array {
  return seq(tlv(0x31, seq(tlv(0x06, Uint8Array.of(0x55, 0x04, 0x03)), tlv(0x0c, ascii(cn)))));
}

/** PKCS#8 wrapper of a raw Ed25519 seed (RFC 8410). */
function pkcs8(seed: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
}

export interface TestCertificate {
  der: Uint8Array;
  pem: string;
}

export function selfSignedCertificate(seed: Uint8Array, commonName: string, serial = 1): TestCertificate {
  const key = createPrivateKey({ key: pkcs8(seed), format: 'der', type: 'pkcs8' });
  const publicDer = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Uint8Array.of(2))), // version v3
    tlv(0x02, Uint8Array.of(serial & 0x7f)),
    ED25519_ALG,
    name(commonName),
    seq(tlv(0x17, ascii('250101000000Z')), tlv(0x17, ascii('491231235959Z'))),
    name(commonName),
    publicDer,
  );
  const signature = sign(null, tbs, key);
  const der = seq(tbs, ED25519_ALG, tlv(0x03, Uint8Array.of(0), new Uint8Array(signature)));
  const b = Buffer.from(der).toString('base64');
  const lines = b.match(/.{1,64}/g) ?? [];
  const pem = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
  return { der, pem };
}
