/**
 * `dime admin dns DOMAIN`: every DNS record a local domain needs published.
 *
 * | name | type | value |
 * |---|---|---|
 * | DOMAIN | MX | `10 HOSTNAME.` |
 * | `_dx.DOMAIN` | TXT | the management record (record.md §8): the org signet's POK, the `tls=` pin of the server certificate signed by the POK (record.md §5), `pol=`, `dx=HOSTNAME` |
 * | `SELECTOR._domainkey.DOMAIN` | TXT | the DKIM public key |
 * | DOMAIN | TXT | SPF `v=spf1 mx -all` |
 * | `_dmarc.DOMAIN` | TXT | `v=DMARC1; p=quarantine; adkim=s; aspf=s` |
 * | `_25._tcp.HOSTNAME`, `_26._tcp.HOSTNAME` | TLSA | `3 1 1 <SHA-256 of the certificate's public key>` (DANE-EE) |
 *
 * HOSTNAME is the name the server certificate carries (its first DNS name), unless given.
 */

import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DimeError } from '../../errors/index.js';
import { buildRecordText, tlsCertificateSignature, zoneLine } from '../../record/index.js';
import { readFileOrThrow } from '../data-dir.js';
import { normalizeDomainName, openLocalDomain } from '../domains.js';
import { spkiSha256Hex } from '../tls-material.js';
import type { Admin } from './admin.js';

export interface DnsRecord {
  name: string;
  type: 'MX' | 'TXT' | 'TLSA';
  value: string;
}

function certificate(admin: Admin): { pem: string; der: Uint8Array; firstName: string | null } {
  const path = admin.config.tls ? admin.paths.resolve(admin.config.tls.cert) : admin.paths.tlsCert;
  if (!existsSync(path)) {
    throw new DimeError('NOT_FOUND', `no server certificate at ${path} (start the server once)`);
  }
  const pem = readFileOrThrow(path).toString('utf8');
  const x = new X509Certificate(pem);
  const first = (x.subjectAltName ?? '')
    .split(/,\s*/)
    .find((s) => s.startsWith('DNS:'))
    ?.slice(4)
    .toLowerCase();
  return { pem, der: new Uint8Array(x.raw), firstName: first ?? null };
}

export async function dnsRecords(
  admin: Admin,
  name: string,
  o: { hostname?: string } = {},
): Promise<DnsRecord[]> {
  const domain = normalizeDomainName(name);
  const row = await admin.store.getDomain(domain);
  if (!row) throw new DimeError('NOT_FOUND', `domain ${domain} is not local`);
  const cert = certificate(admin);
  const hostname = (o.hostname ?? cert.firstName ?? admin.config.hostname).toLowerCase();
  const d = openLocalDomain(admin.paths, row, admin.passphrase(), admin.config.dkim.selector);
  try {
    const record = buildRecordText({
      pok: [d.orgKeys.signingPublic],
      tls: [tlsCertificateSignature(cert.der, d.orgKeys.signingSeed)],
      policy: admin.config.record.policy,
      dx: [hostname],
    });
    const tlsa = `3 1 1 ${spkiSha256Hex(cert.pem)}`;
    const out: DnsRecord[] = [
      { name: domain, type: 'MX', value: `10 ${hostname}.` },
      { name: `_dx.${domain}`, type: 'TXT', value: record },
    ];
    if (d.dkim?.publicKeyDnsValue) {
      out.push({
        name: `${d.dkim.selector}._domainkey.${domain}`,
        type: 'TXT',
        value: d.dkim.publicKeyDnsValue,
      });
    }
    out.push(
      { name: domain, type: 'TXT', value: 'v=spf1 mx -all' },
      { name: `_dmarc.${domain}`, type: 'TXT', value: 'v=DMARC1; p=quarantine; adkim=s; aspf=s' },
      { name: `_25._tcp.${hostname}`, type: 'TLSA', value: tlsa },
      { name: `_26._tcp.${hostname}`, type: 'TLSA', value: tlsa },
    );
    return out;
  } finally {
    d.orgKeys.signingSeed.fill(0);
    d.orgKeys.encryptionPrivate.fill(0);
  }
}

/** Zone-file lines (TXT values quoted and split into ≤ 255-byte strings). */
export function zoneText(records: readonly DnsRecord[], ttl = 3600): string {
  return records
    .map((r) => `${r.name}. ${ttl} IN ${r.type} ${r.type === 'TXT' ? zoneLine(r.value) : r.value}`)
    .join('\n')
    .concat('\n');
}
