import { DimeError } from '../errors/index.js';

/**
 * Why a record was rejected: `context.reason` of the BAD_RECORD DimeError. The first ten are the test
 * vectors' vocabulary (vectors/README.md); `missing` and `ambiguous` come from chooseRecord only.
 */
export const RECORD_FAILURE_REASONS = [
  'version',
  'missing_pok',
  'pok_length',
  'tls_length',
  'policy',
  'subdomain',
  'exp',
  'syntax',
  'too_long',
  'too_many',
  'missing',
  'ambiguous',
] as const;

export type RecordFailureReason = (typeof RECORD_FAILURE_REASONS)[number];

export function recordError(
  reason: RecordFailureReason,
  message: string,
  context: Record<string, unknown> = {},
): DimeError {
  return new DimeError('BAD_RECORD', message, { ...context, reason });
}

/** The reason of a BAD_RECORD error, or null for anything else. */
export function recordFailureReason(e: unknown): RecordFailureReason | null {
  if (!(e instanceof DimeError) || e.code !== 'BAD_RECORD') return null;
  const r = e.context.reason;
  return typeof r === 'string' && (RECORD_FAILURE_REASONS as readonly string[]).includes(r)
    ? (r as RecordFailureReason)
    : null;
}
