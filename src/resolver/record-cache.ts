import { DimeError } from '../errors/index.js';
import type { ManagementRecord } from '../record/index.js';
import type { RecordFetch } from './management-record.js';
import type { UsableDnssecState } from './types.js';

/** Soft limit bounds (record.md §7 Decision): the DNS TTL clamped to 60 s … 1 day. */
export const MIN_SOFT_TTL_SECONDS = 60;
export const MAX_SOFT_TTL_SECONDS = 86_400;
/** Negative cache (our decision): the zone's negative TTL clamped to 60 s … 15 min; 60 s without one. */
export const MIN_NEGATIVE_TTL_SECONDS = 60;
export const MAX_NEGATIVE_TTL_SECONDS = 900;
const DAY_MS = 86_400_000;

/** Milliseconds since the epoch; injectable for tests. */
export type Clock = () => number;

/** Where a returned record came from. */
export type RecordSource = 'dns' | 'cache' | 'stale' | 'static';

/** What lookupManagementRecord returns. */
export interface ManagementRecordLookup {
  readonly domain: string;
  readonly record: ManagementRecord;
  /**
   * The DNSSEC state the record was fetched with (never bogus: that is DNS_BOGUS). A static record
   * is `secure`: configured by the operator, it is trusted like a validated one (record.md §5).
   */
  readonly dnssec: UsableDnssecState;
  /** TTL of the TXT RRset when it was fetched, seconds (0 for a static record). */
  readonly ttl: number;
  /** dns = fetched now; cache = within the soft limit; stale = past it, refetch failed temporarily; static = configured. */
  readonly source: RecordSource;
  /** Clock times (ms): when this copy was fetched, when to refetch, when to drop it (Infinity for static). */
  readonly fetchedAt: number;
  readonly softLimit: number;
  readonly hardLimit: number;
  /** For `stale`: why the refetch did not replace the copy (DNS_TEMPFAIL, or a DNSSEC downgrade). */
  readonly staleReason?: string;
}

interface Entry {
  readonly record: ManagementRecord;
  readonly dnssec: UsableDnssecState;
  readonly ttl: number;
  readonly fetchedAt: number;
  readonly softLimit: number;
  readonly hardLimit: number;
}

interface NegativeEntry {
  readonly error: DimeError;
  readonly until: number;
}

const RANK: Readonly<Record<UsableDnssecState, number>> = { insecure: 0, secure: 1 };

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * The management-record cache of record.md §7 Decision, per normalized domain:
 *
 * * soft limit = fetch time + TTL clamped to 60 s … 86 400 s; hard limit = first fetch + `exp`
 *   days when the record has `exp`, else the soft limit;
 * * before the soft limit the cached copy is returned; past the hard limit it is dropped and the
 *   next fetch starts a new entry (new hard limit);
 * * between them the record is fetched again: a valid record replaces the copy and keeps the old
 *   hard limit (its soft limit never goes past it); a temporary failure (DNS_TEMPFAIL) serves the old
 *   copy (`stale`) until the hard limit; DNS_BOGUS drops the entry and fails; a record now missing or
 *   invalid drops the entry and fails;
 * * the DNSSEC state never goes down inside the window: an `insecure` refetch of a `secure` copy is
 *   handled as a temporary failure (our reading: an `insecure` copy is replaced by a `secure` one);
 * * static records (configured locally) never expire and are never fetched.
 *
 * Negative cache (our decision, record.md is silent): RECORD_MISSING and RECORD_INVALID are
 * remembered for the zone's negative TTL (SOA, RFC 2308) or the TXT TTL, clamped to 60 s … 15 min.
 * DNS_BOGUS and DNS_TEMPFAIL are never cached. Concurrent lookups of one domain share one fetch.
 */
export class ManagementRecordCache {
  private readonly entries = new Map<string, Entry>();
  private readonly negative = new Map<string, NegativeEntry>();
  private readonly statics = new Map<string, ManagementRecord>();
  private readonly inflight = new Map<string, Promise<ManagementRecordLookup>>();

  constructor(private readonly clock: Clock = Date.now) {}

  /** A locally configured record for `domain` (normalized): served as is, forever. */
  setStatic(domain: string, record: ManagementRecord): void {
    this.statics.set(domain, record);
  }

  /** The cached positive entry, if any (diagnostics and tests). */
  peek(domain: string): Readonly<Entry> | undefined {
    return this.entries.get(domain);
  }

  /** Forgets every fetched entry (positive and negative); static records stay. */
  clear(): void {
    this.entries.clear();
    this.negative.clear();
  }

  /** Looks `domain` up, calling `fetch` when the cache says a network fetch is due. */
  lookup(domain: string, fetch: () => Promise<RecordFetch>): Promise<ManagementRecordLookup> {
    const running = this.inflight.get(domain);
    if (running) return running;
    const p = this.resolve(domain, fetch).finally(() => this.inflight.delete(domain));
    this.inflight.set(domain, p);
    return p;
  }

  private async resolve(domain: string, fetch: () => Promise<RecordFetch>): Promise<ManagementRecordLookup> {
    const fixed = this.statics.get(domain);
    if (fixed) {
      return {
        domain,
        record: fixed,
        dnssec: 'secure',
        ttl: 0,
        source: 'static',
        fetchedAt: 0,
        softLimit: Number.POSITIVE_INFINITY,
        hardLimit: Number.POSITIVE_INFINITY,
      };
    }
    const now = this.clock();
    let entry = this.entries.get(domain);
    if (entry && now >= entry.hardLimit) {
      this.entries.delete(domain);
      entry = undefined;
    }
    if (entry && now < entry.softLimit) return view(domain, entry, 'cache');

    if (!entry) {
      const neg = this.negative.get(domain);
      if (neg && now < neg.until) {
        throw new DimeError(neg.error.code, neg.error.message, { ...neg.error.context, cached: true });
      }
      this.negative.delete(domain);
    }

    let result: RecordFetch;
    try {
      result = await fetch();
    } catch (e) {
      if (entry && e instanceof DimeError && e.code === 'DNS_TEMPFAIL' && this.clock() < entry.hardLimit) {
        return { ...view(domain, entry, 'stale'), staleReason: `DNS_TEMPFAIL: ${e.message}` };
      }
      if (e instanceof DimeError && e.code === 'DNS_BOGUS') this.entries.delete(domain);
      throw e;
    }

    const fetchedAt = this.clock();
    if (result.status !== 'found') {
      this.entries.delete(domain);
      const ttl = result.status === 'missing' ? (result.negativeTtl ?? MIN_NEGATIVE_TTL_SECONDS) : result.ttl;
      const seconds = clamp(ttl, MIN_NEGATIVE_TTL_SECONDS, MAX_NEGATIVE_TTL_SECONDS);
      this.negative.set(domain, { error: result.error, until: fetchedAt + seconds * 1000 });
      throw result.error;
    }

    const soft = fetchedAt + clamp(result.ttl, MIN_SOFT_TTL_SECONDS, MAX_SOFT_TTL_SECONDS) * 1000;
    if (entry) {
      if (RANK[result.dnssec] < RANK[entry.dnssec]) {
        return {
          ...view(domain, entry, 'stale'),
          staleReason: `DNSSEC downgrade (${entry.dnssec} → ${result.dnssec}) before the hard limit`,
        };
      }
      const next: Entry = {
        record: result.record,
        dnssec: result.dnssec,
        ttl: result.ttl,
        fetchedAt,
        softLimit: Math.min(soft, entry.hardLimit),
        hardLimit: entry.hardLimit,
      };
      this.entries.set(domain, next);
      return view(domain, next, 'dns');
    }
    const exp = result.record.exp;
    const hard = exp === null ? soft : Math.max(soft, fetchedAt + exp * DAY_MS);
    const created: Entry = {
      record: result.record,
      dnssec: result.dnssec,
      ttl: result.ttl,
      fetchedAt,
      softLimit: soft,
      hardLimit: hard,
    };
    this.entries.set(domain, created);
    return view(domain, created, 'dns');
  }
}

function view(domain: string, e: Entry, source: RecordSource): ManagementRecordLookup {
  return {
    domain,
    record: e.record,
    dnssec: e.dnssec,
    ttl: e.ttl,
    source,
    fetchedAt: e.fetchedAt,
    softLimit: e.softLimit,
    hardLimit: e.hardLimit,
  };
}
