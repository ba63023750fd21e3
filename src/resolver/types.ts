/** Shared types of the DNS resolver (record.md §4, §6; flow.md §2). */

/**
 * DNSSEC state of an answer (record.md §4 Decision): `secure` = NOERROR with AD from a trusted
 * validating resolver (libdime validated = 1), `insecure` = no AD or an untrusted resolver
 * (validated = 0), `bogus` = the validating resolver said SERVFAIL (validated = −1, fatal).
 */
export type DnssecState = 'secure' | 'insecure' | 'bogus';

/** The states an answer that can be used has; a bogus one is always a DNS_BOGUS error. */
export type UsableDnssecState = Exclude<DnssecState, 'bogus'>;

/** The record types this resolver asks for. */
export const QUERY_TYPES = ['TXT', 'MX', 'A', 'AAAA'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

/** Numeric RR type codes (RFC 1035, RFC 3596). */
export const TYPE_CODES: Readonly<Record<QueryType, number>> = { A: 1, MX: 15, TXT: 16, AAAA: 28 };

/** One TXT RR: its character-strings, decoded as UTF-8 (invalid bytes become U+FFFD). */
export interface TxtData {
  readonly type: 'TXT';
  readonly strings: readonly string[];
}

export interface MxData {
  readonly type: 'MX';
  readonly preference: number;
  /** Lower case, no trailing dot; '.' for a null MX (RFC 7505). */
  readonly exchange: string;
}

export interface AddressData {
  readonly type: 'A' | 'AAAA';
  readonly address: string;
}

export type RData = TxtData | MxData | AddressData;

/** The RDATA type that a query of type T returns. */
export type RDataOf<T extends QueryType> = T extends 'TXT' ? TxtData : T extends 'MX' ? MxData : AddressData;

/** Which transport carried the answer. */
export type Transport = 'udp' | 'tcp';

/** DNS response codes used here (RFC 1035, RFC 6891 extended codes are 16 and up). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;
