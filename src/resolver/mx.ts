import type { DnsClient } from './client.js';
import { normalizeName } from './names.js';
import type { UsableDnssecState } from './types.js';

export interface MxHost {
  /** Normalized host name. */
  readonly exchange: string;
  readonly preference: number;
}

export interface MxLookup {
  readonly domain: string;
  /** Ascending preference; equal preferences keep answer order. Empty when there are none. */
  readonly hosts: readonly MxHost[];
  /** The domain published a null MX (RFC 7505, exchange "."): it takes no mail by SMTP. */
  readonly nullMx: boolean;
  readonly dnssec: UsableDnssecState;
  /** Seconds; null when there was no MX RRset. */
  readonly ttl: number | null;
  /** Exchanges that are not valid host names (left out). */
  readonly skipped: readonly string[];
}

/**
 * MX records of a normalized domain. NXDOMAIN/NODATA → no hosts. Throws DNS_BOGUS / DNS_TEMPFAIL
 * like every lookup.
 */
export async function lookupMx(client: DnsClient, domain: string): Promise<MxLookup> {
  const answer = await client.lookup(domain, 'MX');
  if (answer.status === 'absent') {
    return { domain, hosts: [], nullMx: false, dnssec: answer.dnssec, ttl: null, skipped: [] };
  }
  const hosts: MxHost[] = [];
  const skipped: string[] = [];
  let nullMx = false;
  for (const r of answer.records) {
    if (r.exchange === '.' || r.exchange === '') {
      nullMx = true;
      continue;
    }
    try {
      hosts.push({ exchange: normalizeName(r.exchange, 'host'), preference: r.preference });
    } catch {
      skipped.push(r.exchange);
    }
  }
  hosts.sort((a, b) => a.preference - b.preference); // Array.prototype.sort is stable
  return { domain, hosts, nullMx, dnssec: answer.dnssec, ttl: answer.ttl, skipped };
}
