/** The parsed DIME management record (record.md §3). */

export const POLICIES = ['experimental', 'mixed', 'strict'] as const;
export type Policy = (typeof POLICIES)[number];

export const SUBDOMAIN_POLICIES = ['strict', 'relaxed', 'explicit'] as const;
export type SubdomainPolicy = (typeof SUBDOMAIN_POLICIES)[number];

export interface ManagementRecord {
  /** Always 1 (the only version). */
  readonly version: 1;
  /** Ed25519 primary organizational keys (32 bytes each), in order of appearance; at least one. */
  readonly pok: readonly Uint8Array[];
  /** Ed25519 signatures (64 bytes each) over SHA-512 of a DX certificate's DER (record.md §5). */
  readonly tls: readonly Uint8Array[];
  readonly policy: Policy;
  /** Raw `syn=` value, kept but not used for lookups (record.md §3 Decision). */
  readonly syndicates: string | null;
  /** DX host names, as written, in order. */
  readonly dx: readonly string[];
  /** Maximum cache age in days (1…3650), or null when absent. */
  readonly exp: number | null;
  readonly subdomain: SubdomainPolicy;
}

/** JSON form of a record, the shape of the test vectors' `expect.record` (pok/tls in lower-case hex). */
export interface RecordJson {
  version: 1;
  pok: string[];
  tls: string[];
  policy: Policy;
  syndicates: string | null;
  dx: string[];
  exp: number | null;
  subdomain: SubdomainPolicy;
}
