import { DimeError } from '../errors/index.js';
import { chooseRecord, type ManagementRecord, recordFailureReason } from '../record/index.js';
import type { DnsClient } from './client.js';
import { dxRecordName } from './names.js';
import type { UsableDnssecState } from './types.js';

/** The result of one network fetch of `_dx.<domain>` (no cache). */
export type RecordFetch =
  | {
      readonly status: 'found';
      readonly record: ManagementRecord;
      readonly dnssec: UsableDnssecState;
      /** TTL of the TXT RRset, seconds. */
      readonly ttl: number;
    }
  | {
      /** NXDOMAIN or NODATA: RECORD_MISSING. */
      readonly status: 'missing';
      readonly error: DimeError;
      readonly negativeTtl: number | null;
      readonly dnssec: UsableDnssecState;
    }
  | {
      /** TXT RRs exist but none is a valid record, or several differ: RECORD_INVALID. */
      readonly status: 'invalid';
      readonly error: DimeError;
      readonly ttl: number;
      readonly dnssec: UsableDnssecState;
    };

/**
 * Fetches the management record of a normalized domain at `_dx.<domain>` TXT (record.md §1) and
 * picks one among the TXT RRs with chooseRecord (§2 Decision). Throws DNS_BOGUS and DNS_TEMPFAIL
 * from the client; a missing or unusable record is a result, not a throw, so the cache can keep it.
 *
 * RECORD_INVALID carries `context.reason`, a BAD_RECORD reason: `ambiguous` when several RRs parse
 * to different records, else the reason of the first rejected RR; `context.failures` lists them all.
 */
export async function fetchManagementRecord(client: DnsClient, domain: string): Promise<RecordFetch> {
  const name = dxRecordName(domain);
  const answer = await client.lookup(name, 'TXT');
  if (answer.status === 'absent') {
    return {
      status: 'missing',
      negativeTtl: answer.negativeTtl,
      dnssec: answer.dnssec,
      error: new DimeError('RECORD_MISSING', `no DIME management record at ${name}`, {
        domain,
        name,
        nxdomain: answer.nxdomain,
        dnssec: answer.dnssec,
      }),
    };
  }
  const rrs = answer.records.map((r) => r.strings);
  try {
    const record = chooseRecord(rrs);
    return { status: 'found', record, dnssec: answer.dnssec, ttl: answer.ttl };
  } catch (e) {
    const reason = recordFailureReason(e);
    if (reason === null) throw e;
    const failures = (e as DimeError).context.failures;
    const list = Array.isArray(failures) ? failures.map(String) : [];
    return {
      status: 'invalid',
      ttl: answer.ttl,
      dnssec: answer.dnssec,
      error: new DimeError(
        'RECORD_INVALID',
        reason === 'ambiguous'
          ? `several different DIME management records at ${name}`
          : `no valid DIME management record among the ${rrs.length} TXT RRs at ${name}`,
        {
          domain,
          name,
          reason: reason === 'ambiguous' ? 'ambiguous' : (list[0] ?? reason),
          failures: list,
          rrs: rrs.length,
          dnssec: answer.dnssec,
        },
      ),
    };
  }
}
