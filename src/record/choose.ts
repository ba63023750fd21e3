import { DimeError } from '../errors/index.js';
import { sameRecord } from './equal.js';
import { parseRecord } from './parse.js';
import { recordError, recordFailureReason } from './record-error.js';
import type { ManagementRecord } from './types.js';

/**
 * Picks the management record among all TXT RRs found at `_dx.<domain>` (record.md §2 Decision),
 * each RR given as its character-strings (the shape of node:dns `resolveTxt`):
 *
 * * every RR is parsed on its own; RRs that fail to parse are ignored;
 * * exactly one parses → that record;
 * * several parse and all are the same record (equal after parsing, see sameRecord) → the first;
 * * several parse and differ → BAD_RECORD, reason `ambiguous`. The spec treats this like a missing
 *   record and wants it logged as an operator error, so it gets its own reason;
 * * none parses (or there are no RRs) → BAD_RECORD, reason `missing`; `context.failures` lists the
 *   reasons of the RRs that were rejected, for logging.
 *
 * `missing` and `ambiguous` are not in the vectors' vocabulary: parseRecord never uses them.
 */
export function chooseRecord(rrs: readonly (readonly string[])[]): ManagementRecord {
  const parsed: ManagementRecord[] = [];
  const failures: string[] = [];
  for (const rr of rrs) {
    try {
      parsed.push(parseRecord(rr));
    } catch (e) {
      if (!(e instanceof DimeError)) throw e; // a bug, not a bad record
      failures.push(recordFailureReason(e) ?? e.code);
    }
  }
  const first = parsed[0];
  if (first === undefined) {
    throw recordError('missing', 'no valid DIME management record', { rrs: rrs.length, failures });
  }
  if (parsed.some((r) => !sameRecord(first, r))) {
    throw recordError('ambiguous', 'several different DIME management records at one name', {
      rrs: rrs.length,
      valid: parsed.length,
    });
  }
  return first;
}
