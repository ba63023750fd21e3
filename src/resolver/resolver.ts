import { DimeError } from '../errors/index.js';
import { type ManagementRecord, parseRecord } from '../record/index.js';
import { type AddressLookup, lookupAddress } from './address.js';
import { DnsClient, type DnsClientOptions } from './client.js';
import { chooseDxHosts, type DxPlan } from './dx-hosts.js';
import { fetchManagementRecord } from './management-record.js';
import { lookupMx, type MxLookup } from './mx.js';
import { normalizeName } from './names.js';
import { type Clock, ManagementRecordCache, type ManagementRecordLookup } from './record-cache.js';

export interface DimeResolverOptions extends DnsClientOptions {
  /** Clock for the record cache (ms since the epoch); default Date.now. Timeouts use real time. */
  readonly clock?: Clock;
  /**
   * Locally configured records (record.md §7: never expire, never fetched), domain → record text
   * (or its character-strings) or a parsed record.
   */
  readonly staticRecords?: Readonly<Record<string, string | readonly string[] | ManagementRecord>>;
  /** Use this client instead of building one from the options. */
  readonly client?: DnsClient;
}

/**
 * The DIME lookups of one sender or server: management records (cached, record.md §7), MX, host
 * addresses and the DX host choice (record.md §6). Every method takes a domain or host name in any
 * case, with or without the final dot, IDN allowed (names.ts); a bad name is BAD_INPUT.
 */
export class DimeResolver {
  readonly client: DnsClient;
  readonly cache: ManagementRecordCache;

  constructor(options: DimeResolverOptions = {}) {
    this.client = options.client ?? new DnsClient(options);
    this.cache = new ManagementRecordCache(options.clock ?? Date.now);
    for (const [domain, value] of Object.entries(options.staticRecords ?? {})) {
      const record =
        typeof value === 'string' ? parseRecord([value]) : Array.isArray(value) ? parseRecord(value) : value;
      this.cache.setStatic(normalizeName(domain), record as ManagementRecord);
    }
  }

  /**
   * The management record at `_dx.<domain>` TXT, through the cache. Throws DimeError:
   * RECORD_MISSING (NXDOMAIN/NODATA), RECORD_INVALID (TXT RRs but none valid, or ambiguous;
   * `context.reason` is a BAD_RECORD reason), DNS_BOGUS (fatal), DNS_TEMPFAIL, BAD_INPUT.
   */
  async lookupManagementRecord(domain: string): Promise<ManagementRecordLookup> {
    const d = normalizeName(domain);
    return this.cache.lookup(d, () => fetchManagementRecord(this.client, d));
  }

  /** MX hosts of a domain, ascending preference (not cached here; the resolver caches). */
  async lookupMx(domain: string): Promise<MxLookup> {
    return lookupMx(this.client, normalizeName(domain));
  }

  /** A and AAAA of a host (not cached here). */
  async lookupAddress(host: string, families?: readonly (4 | 6)[]): Promise<AddressLookup> {
    return lookupAddress(this.client, host, families);
  }

  /** The DX hosts of record.md §6; `capable: false` when the domain has no valid record. */
  async chooseDxHosts(domain: string): Promise<DxPlan> {
    const d = normalizeName(domain);
    return chooseDxHosts(d, {
      lookupManagementRecord: (x) => this.lookupManagementRecord(x),
      lookupMx: (x) => this.lookupMx(x),
    });
  }
}

let shared: DimeResolver | null = null;

/** A resolver on the system's resolvers (resolv.conf; AD trusted only from loopback), made on first use. */
export function defaultResolver(): DimeResolver {
  shared ??= new DimeResolver();
  return shared;
}

/** defaultResolver().lookupManagementRecord(domain). */
export async function lookupManagementRecord(domain: string): Promise<ManagementRecordLookup> {
  return defaultResolver().lookupManagementRecord(domain);
}

/** Typed guard for the lookup errors of this module. */
export function isLookupError(
  e: unknown,
): e is DimeError & { code: 'DNS_BOGUS' | 'DNS_TEMPFAIL' | 'RECORD_MISSING' | 'RECORD_INVALID' } {
  return (
    e instanceof DimeError &&
    (e.code === 'DNS_BOGUS' ||
      e.code === 'DNS_TEMPFAIL' ||
      e.code === 'RECORD_MISSING' ||
      e.code === 'RECORD_INVALID')
  );
}
