/**
 * A test certificate authority and a leaf it signs (RSA, @peculiar/x509): for the x509 branches of
 * the DX certificate check (record.md §5: a pin on an insecure record, or no pin at all, need the
 * host name and a chain that validates against the client's trust store).
 */

import { generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type Pair = { privateKey: CryptoKey; publicKey: CryptoKey };

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const cryptoImpl = webcrypto as unknown as Crypto;

async function rsaPair(): Promise<{ pair: Pair; keyPem: string }> {
  const p = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey(
    'pkcs8',
    p.privateKey.export({ type: 'pkcs8', format: 'der' }),
    ALG,
    false,
    ['sign'],
  );
  const publicKey = await subtle.importKey(
    'spki',
    p.publicKey.export({ type: 'spki', format: 'der' }),
    ALG,
    true,
    ['verify'],
  );
  return {
    pair: { privateKey, publicKey } as unknown as Pair,
    keyPem: p.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function serial(): string {
  const s = randomBytes(16);
  s[0] = s[0]! & 0x7f;
  return Buffer.from(s).toString('hex');
}

export interface TestCa {
  readonly certPem: string;
  /** A server certificate for `hostnames` signed by this CA: key, leaf PEM, leaf + CA chain PEM, leaf DER. */
  issue(
    hostnames: readonly string[],
  ): Promise<{ keyPem: string; certPem: string; chainPem: string; certDer: Uint8Array }>;
}

export async function createTestCa(name = 'DIME Test CA'): Promise<TestCa> {
  const { pair } = await rsaPair();
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: `CN=${name}`,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 30 * 86_400_000),
      keys: pair as unknown as CryptoKeyPair,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(
          pair.publicKey as unknown as CryptoKey,
          false,
          cryptoImpl,
        ),
      ],
    },
    cryptoImpl,
  );
  const certPem = ca.toString('pem');
  return {
    certPem,
    async issue(hostnames) {
      const leafKeys = await rsaPair();
      const leaf = await x509.X509CertificateGenerator.create(
        {
          serialNumber: serial(),
          subject: `CN=${hostnames[0]}`,
          issuer: ca.subject,
          notBefore: new Date(now - 3600_000),
          notAfter: new Date(now + 30 * 86_400_000),
          signingKey: pair.privateKey as unknown as CryptoKey,
          publicKey: leafKeys.pair.publicKey as unknown as CryptoKey,
          signingAlgorithm: ALG,
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(
              x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
              true,
            ),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
            new x509.SubjectAlternativeNameExtension(
              hostnames.map((h) => ({ type: 'dns' as const, value: h })),
            ),
            await x509.AuthorityKeyIdentifierExtension.create(ca, false, cryptoImpl),
          ],
        },
        cryptoImpl,
      );
      const leafPem = leaf.toString('pem');
      return {
        keyPem: leafKeys.keyPem,
        certPem: leafPem,
        chainPem: `${leafPem}\n${certPem}\n`,
        certDer: new Uint8Array(leaf.rawData),
      };
    },
  };
}
