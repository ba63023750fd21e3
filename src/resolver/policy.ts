import { DimeError } from '../errors/index.js';
import type { ManagementRecord, Policy } from '../record/index.js';
import type { UsableDnssecState } from './types.js';

/** What the record lookup for a destination domain ended with. */
export type RecordOutcome =
  | { readonly kind: 'record'; readonly record: ManagementRecord; readonly dnssec: UsableDnssecState }
  /** RECORD_MISSING or RECORD_INVALID: the domain is not DIME-capable. */
  | { readonly kind: 'absent' }
  /** DNS_BOGUS. */
  | { readonly kind: 'bogus' }
  /** DNS_TEMPFAIL. */
  | { readonly kind: 'tempfail' };

/** Maps a lookup result or error to a RecordOutcome (other errors are rethrown). */
export function recordOutcome(
  result: { record: ManagementRecord; dnssec: UsableDnssecState } | unknown,
): RecordOutcome {
  if (result instanceof DimeError) {
    switch (result.code) {
      case 'RECORD_MISSING':
      case 'RECORD_INVALID':
        return { kind: 'absent' };
      case 'DNS_BOGUS':
        return { kind: 'bogus' };
      case 'DNS_TEMPFAIL':
        return { kind: 'tempfail' };
      default:
        throw result;
    }
  }
  if (result instanceof Error) throw result;
  const r = result as { record: ManagementRecord; dnssec: UsableDnssecState };
  return { kind: 'record', record: r.record, dnssec: r.dnssec };
}

/**
 * How a sender checks the DX certificate (record.md §5): `pin` = a (tls, pok) match alone is enough
 * (record secure and has tls values); `pin+x509` = a match plus host-name and chain checks (record
 * not secure, has tls values); `x509` = no tls values: host name, chain, OCSP, no self-signed.
 */
export type CertificateCheck = 'pin' | 'pin+x509' | 'x509';

export interface DeliveryPolicy {
  /**
   * What to do now: `dime` = deliver over DMTP; `smtp` = not DIME-capable and the author allows
   * plaintext: send by SMTP; `bounce` = not DIME-capable and plaintext not allowed ("destination not
   * DIME-capable"); `retry` = temporary DNS failure, queue and retry; `fatal` = DNSSEC validation
   * failed: no DMTP, no SMTP fallback (the origin bounces "DNSSEC failure" after its retry window).
   */
  readonly action: 'dime' | 'smtp' | 'bounce' | 'retry' | 'fatal';
  /** When no DX answers over DMTP: retry later (strict, or no plaintext allowed) or fall back to SMTP. */
  readonly onDmtpUnreachable: 'retry' | 'smtp';
  /** After a TLS or certificate failure: always retry, never SMTP (flow.md §3). */
  readonly onCertificateFailure: 'retry';
  /** The record was DNSSEC-validated; otherwise the outcome is marked "record not authenticated". */
  readonly recordAuthenticated: boolean;
  /** null unless action is `dime`. */
  readonly certificateCheck: CertificateCheck | null;
  /** The record's `pol`, or null without a record. */
  readonly policy: Policy | null;
  readonly reason: string;
}

export interface PolicyOptions {
  /** The author's account allows plaintext delivery and a plaintext form exists (flow.md §3.1 (b), (c)). Default false. */
  readonly plaintextAllowed?: boolean;
}

/**
 * The sender's behaviour for one destination (record.md §3 `pol`, §4, §5; flow.md §3, §3.1):
 *
 * * bogus → `fatal`, whatever the policy: never DMTP, never SMTP (downgrade protection);
 * * DNS temporary failure → `retry` (nothing is known, so no fallback);
 * * no valid record → not DIME-capable: `smtp` when plaintext is allowed, else `bounce`;
 * * a record → `dime`. `strict`: DIME only, an unreachable DX is a temporary failure, never SMTP.
 *   `mixed` and `experimental`: the domain also takes SMTP, so an unreachable DX may fall back to
 *   SMTP when plaintext is allowed (our reading: `experimental` means senders must not depend on
 *   DIME, which gives it the same fallback as `mixed`). A certificate failure never falls back.
 * * `insecure` DNSSEC never blocks delivery; it only sets recordAuthenticated = false and requires
 *   x509 checks on top of a tls pin (record.md §5).
 */
export function deliveryPolicy(outcome: RecordOutcome, options: PolicyOptions = {}): DeliveryPolicy {
  const plaintext = options.plaintextAllowed === true;
  const none = { onCertificateFailure: 'retry', certificateCheck: null, policy: null } as const;
  switch (outcome.kind) {
    case 'bogus':
      return {
        ...none,
        action: 'fatal',
        onDmtpUnreachable: 'retry',
        recordAuthenticated: false,
        reason: 'DNSSEC validation of the management record failed',
      };
    case 'tempfail':
      return {
        ...none,
        action: 'retry',
        onDmtpUnreachable: 'retry',
        recordAuthenticated: false,
        reason: 'temporary DNS failure looking up the management record',
      };
    case 'absent':
      return {
        ...none,
        action: plaintext ? 'smtp' : 'bounce',
        onDmtpUnreachable: plaintext ? 'smtp' : 'retry',
        recordAuthenticated: false,
        reason: plaintext
          ? 'destination not DIME-capable; plaintext delivery allowed'
          : 'destination not DIME-capable',
      };
    case 'record': {
      const { record, dnssec } = outcome;
      const secure = dnssec === 'secure';
      const certificateCheck: CertificateCheck =
        record.tls.length === 0 ? 'x509' : secure ? 'pin' : 'pin+x509';
      const fallback = record.policy !== 'strict' && plaintext;
      return {
        action: 'dime',
        onDmtpUnreachable: fallback ? 'smtp' : 'retry',
        onCertificateFailure: 'retry',
        recordAuthenticated: secure,
        certificateCheck,
        policy: record.policy,
        reason: secure ? `pol=${record.policy}` : `pol=${record.policy}; record not authenticated`,
      };
    }
  }
}
