import { isIP } from 'node:net';
import { DimeError } from '../errors/index.js';
import type { MxLookup } from './mx.js';
import { normalizeName } from './names.js';
import type { ManagementRecordLookup } from './record-cache.js';
import type { UsableDnssecState } from './types.js';

/** DMTP over TLS from the first byte (dmtp.md; record.md §6). */
export const DMTP_PORT = 26;
/** Dual mode: SMTP, then `STARTTLS <host> MODE=DMTPv1`. */
export const SMTP_PORT = 25;
export const SUBMISSION_PORT = 587;
/** libdime tries at most the first three MX hosts. */
export const MAX_MX_HOSTS = 3;

/** One place to try, in order. */
export interface DxCandidate {
  readonly host: string;
  readonly port: number;
  /** `dmtp`: TLS at once (port 26); `dual`: SMTP with STARTTLS MODE=DMTPv1 (ports 25, 587). */
  readonly mode: 'dmtp' | 'dual';
  readonly source: 'dx' | 'mx' | 'domain';
}

export type DxPlan =
  | {
      /** No valid management record: not DIME-capable (record.md §6 Decision). No host is probed. */
      readonly capable: false;
      readonly domain: string;
      /** RECORD_MISSING or RECORD_INVALID. */
      readonly error: DimeError;
    }
  | {
      readonly capable: true;
      readonly domain: string;
      readonly record: ManagementRecordLookup;
      /** Where the hosts came from: the record's dx list, MX, or the bare domain. */
      readonly source: 'dx' | 'mx' | 'domain';
      /** Host names in the order to try. */
      readonly hosts: readonly string[];
      readonly candidates: readonly DxCandidate[];
      /** DNSSEC state of the MX answer when MX was used, else null. */
      readonly mxDnssec: UsableDnssecState | null;
      /** dx values that are not host names or IP addresses (left out). */
      readonly skipped: readonly string[];
    };

export interface DxHostDeps {
  lookupManagementRecord(domain: string): Promise<ManagementRecordLookup>;
  lookupMx(domain: string): Promise<MxLookup>;
}

function hostOrNull(v: string): string | null {
  const literal = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
  if (isIP(literal) !== 0) return literal;
  try {
    return normalizeName(v, 'host');
  } catch {
    return null;
  }
}

/**
 * Where to deliver DIME mail for a domain (record.md §6, flow.md §2):
 * 1. the management record; missing or invalid → `capable: false` (no MX or port-26 probing);
 *    DNS_BOGUS and DNS_TEMPFAIL are thrown;
 * 2. the record's `dx` hosts in the order written, port 26 only (never MX after them);
 * 3. else the MX hosts (ascending preference, at most 3), each port 26, then 25 and 587 in dual mode;
 * 4. else port 26 on the bare domain.
 * An MX lookup that is bogus or fails temporarily throws (never silently skipped to step 4).
 */
export async function chooseDxHosts(domain: string, deps: DxHostDeps): Promise<DxPlan> {
  let record: ManagementRecordLookup;
  try {
    record = await deps.lookupManagementRecord(domain);
  } catch (e) {
    if (e instanceof DimeError && (e.code === 'RECORD_MISSING' || e.code === 'RECORD_INVALID')) {
      return { capable: false, domain, error: e };
    }
    throw e;
  }
  if (record.record.dx.length > 0) {
    const hosts: string[] = [];
    const skipped: string[] = [];
    for (const dx of record.record.dx) {
      const h = hostOrNull(dx);
      if (h === null) skipped.push(dx);
      else if (!hosts.includes(h)) hosts.push(h);
    }
    return {
      capable: true,
      domain: record.domain,
      record,
      source: 'dx',
      hosts,
      candidates: hosts.map((host) => ({ host, port: DMTP_PORT, mode: 'dmtp', source: 'dx' })),
      mxDnssec: null,
      skipped,
    };
  }
  const mx = await deps.lookupMx(record.domain);
  const hosts = mx.hosts.slice(0, MAX_MX_HOSTS).map((h) => h.exchange);
  if (hosts.length > 0) {
    const candidates: DxCandidate[] = [];
    for (const host of hosts) {
      candidates.push({ host, port: DMTP_PORT, mode: 'dmtp', source: 'mx' });
      candidates.push({ host, port: SMTP_PORT, mode: 'dual', source: 'mx' });
      candidates.push({ host, port: SUBMISSION_PORT, mode: 'dual', source: 'mx' });
    }
    return {
      capable: true,
      domain: record.domain,
      record,
      source: 'mx',
      hosts,
      candidates,
      mxDnssec: mx.dnssec,
      skipped: [],
    };
  }
  return {
    capable: true,
    domain: record.domain,
    record,
    source: 'domain',
    hosts: [record.domain],
    candidates: [{ host: record.domain, port: DMTP_PORT, mode: 'dmtp', source: 'domain' }],
    mxDnssec: mx.dnssec,
    skipped: [],
  };
}
