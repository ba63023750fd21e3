import { isIP } from 'node:net';
import { DimeError } from '../errors/index.js';
import type { DnsClient, DnsLookup } from './client.js';
import { normalizeName } from './names.js';
import type { UsableDnssecState } from './types.js';

export interface HostAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface AddressLookup {
  readonly host: string;
  /** IPv4 first, then IPv6, each in answer order; empty when the host has none. */
  readonly addresses: readonly HostAddress[];
  /** `secure` only when every answer used was secure; an IP literal is `secure` (nothing looked up). */
  readonly dnssec: UsableDnssecState;
  /** One family failed temporarily and the other gave addresses: only those are listed. */
  readonly partial: boolean;
}

/**
 * A and AAAA of a host, asked in parallel. An IP literal is returned as is. A DNS_BOGUS on either
 * query throws (a forgery signal is never ignored); a DNS_TEMPFAIL throws unless the other family
 * gave addresses (`partial`). No addresses at all is an empty list, not an error.
 */
export async function lookupAddress(
  client: DnsClient,
  host: string,
  families: readonly (4 | 6)[] = [4, 6],
): Promise<AddressLookup> {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const fam = isIP(literal);
  if (fam === 4 || fam === 6) {
    return {
      host: literal,
      addresses: [{ address: literal, family: fam }],
      dnssec: 'secure',
      partial: false,
    };
  }
  const name = normalizeName(host, 'host');
  const wanted = families.length > 0 ? families : [4, 6];
  const settled = await Promise.allSettled(
    wanted.map((f) => (f === 4 ? client.lookup(name, 'A') : client.lookup(name, 'AAAA'))),
  );
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  const bogus = failures.find((e) => e instanceof DimeError && e.code === 'DNS_BOGUS');
  if (bogus) throw bogus;
  const answers = settled.flatMap((s) =>
    s.status === 'fulfilled' ? [s.value as DnsLookup<'A' | 'AAAA'>] : [],
  );
  const addresses: HostAddress[] = [];
  for (const a of answers) {
    if (a.status !== 'data') continue;
    for (const r of a.records) addresses.push({ address: r.address, family: r.type === 'A' ? 4 : 6 });
  }
  if (failures.length > 0 && addresses.length === 0) throw failures[0];
  return {
    host: name,
    addresses,
    dnssec: answers.every((a) => a.dnssec === 'secure') ? 'secure' : 'insecure',
    partial: failures.length > 0,
  };
}
