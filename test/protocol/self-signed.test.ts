import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  createSelfSignedCertificate,
  createServerSecureContext,
  DMTP_CIPHERS,
} from '../../src/protocol/index.js';

describe('createSelfSignedCertificate', () => {
  it('RSA: PEM key and certificate, SAN with DNS names and IPs, usable by node TLS', async () => {
    const c = await createSelfSignedCertificate({ hostnames: ['dx.beta.test', 'mx.beta.test', '127.0.0.1'] });
    const x = new X509Certificate(c.certPem);
    expect(x.subject).toBe('CN=dx.beta.test');
    expect(x.subjectAltName).toBe('DNS:dx.beta.test, DNS:mx.beta.test, IP Address:127.0.0.1');
    expect(x.publicKey.asymmetricKeyType).toBe('rsa');
    expect(x.checkIssued(x)).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkHost('mx.beta.test')).toBe('mx.beta.test');
    expect(new Uint8Array(x.raw)).toEqual(c.certDer);
    expect(new Date(x.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    expect(c.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(() => createServerSecureContext({ key: c.keyPem, cert: c.certPem }, 'dmtp')).not.toThrow();
    expect(DMTP_CIPHERS).toContain('ECDHE-RSA-AES256-GCM-SHA384');
  });

  it('EC (P-256) for SMTP clients', async () => {
    const c = await createSelfSignedCertificate({ hostnames: ['mx.beta.test'], keyType: 'ec', days: 30 });
    const x = new X509Certificate(c.certPem);
    expect(x.publicKey.asymmetricKeyType).toBe('ec');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(() => tls.createSecureContext({ key: c.keyPem, cert: c.certPem })).not.toThrow();
  });

  it('refuses an empty host list and silly lifetimes', async () => {
    await expect(createSelfSignedCertificate({ hostnames: [] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(createSelfSignedCertificate({ hostnames: ['a.test'], days: 0 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });
});
