import type { DnsResponse } from './response.js';
import { RCODE, type RData, type UsableDnssecState } from './types.js';

/**
 * Extended DNS Errors (RFC 8914) that say the resolver's DNSSEC validation failed: 1–12
 * (unsupported algorithm/digest, stale answer, forged answer, indeterminate, bogus, signature
 * expired/not yet valid, DNSKEY/RRSIG/NSEC missing, no zone key bit).
 */
export const EDE_DNSSEC_FAILURE: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
/** EDE codes that say the resolver could not get an answer at all: 14 Not Ready, 22 No Reachable Authority, 23 Network Error. */
export const EDE_UNREACHABLE: ReadonlySet<number> = new Set([14, 22, 23]);

/** What one response means for the lookup (record.md §4 Decision). */
export type Outcome =
  | {
      readonly kind: 'data';
      readonly records: readonly RData[];
      readonly canonicalName: string;
      readonly ttl: number;
      readonly dnssec: UsableDnssecState;
    }
  | {
      /** NXDOMAIN, or NOERROR without an RR of the query type (NODATA). */
      readonly kind: 'absent';
      readonly nxdomain: boolean;
      readonly negativeTtl: number | null;
      readonly dnssec: UsableDnssecState;
    }
  | { readonly kind: 'bogus'; readonly ede: readonly number[] }
  /** Ask another resolver or try again; if none answers better, a temporary failure. */
  | { readonly kind: 'retry'; readonly rcode: number; readonly ede: readonly number[]; readonly why: string };

/**
 * Interprets a (non-truncated) response from a resolver; `trusted` says whether its AD bit is
 * believed (server-address.ts).
 *
 * * NOERROR with RRs of the query type → data, `secure` when AD and trusted, else `insecure`.
 * * NOERROR without them (NODATA) or NXDOMAIN → absent (same DNSSEC state rule).
 * * SERVFAIL → bogus (record.md §4: SERVFAIL from the validating resolver is validated = −1, fatal).
 *   Exception (our decision): a SERVFAIL whose Extended DNS Errors are only "unreachable" codes
 *   (14, 22, 23) and none of the DNSSEC ones is the resolver failing to reach the zone, not a
 *   forgery signal, so it is retried and ends as a temporary failure.
 * * REFUSED, FORMERR, NOTIMP and any other code (also extended ones such as BADVERS) → retry.
 */
export function classifyResponse(r: DnsResponse, trusted: boolean): Outcome {
  const dnssec: UsableDnssecState = trusted && r.authenticated ? 'secure' : 'insecure';
  switch (r.rcode) {
    case RCODE.NOERROR:
      if (r.records.length > 0) {
        return { kind: 'data', records: r.records, canonicalName: r.canonicalName, ttl: r.ttl ?? 0, dnssec };
      }
      return { kind: 'absent', nxdomain: false, negativeTtl: r.negativeTtl, dnssec };
    case RCODE.NXDOMAIN:
      return { kind: 'absent', nxdomain: true, negativeTtl: r.negativeTtl, dnssec };
    case RCODE.SERVFAIL: {
      const dnssecFailure = r.ede.some((c) => EDE_DNSSEC_FAILURE.has(c));
      const unreachable = r.ede.length > 0 && r.ede.every((c) => EDE_UNREACHABLE.has(c));
      if (!dnssecFailure && unreachable) {
        return { kind: 'retry', rcode: r.rcode, ede: r.ede, why: 'resolver could not reach the zone' };
      }
      return { kind: 'bogus', ede: r.ede };
    }
    default:
      return { kind: 'retry', rcode: r.rcode, ede: r.ede, why: `response code ${r.rcode}` };
  }
}
