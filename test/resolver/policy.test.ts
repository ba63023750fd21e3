/** The sender's policy from the record's DNSSEC state and `pol` (record.md §3–§5, flow.md §3, §3.1). */
import { describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import { type ManagementRecord, type Policy, parseRecord } from '../../src/record/index.js';
import { deliveryPolicy, recordOutcome, type UsableDnssecState } from '../../src/resolver/index.js';
import { bytesOf } from '../record/helpers.js';
import { recordText } from './helpers.js';

function record(policy: Policy, tls = false): ManagementRecord {
  return parseRecord([recordText(1, { policy, tls: tls ? [bytesOf(64, 1)] : [] })]);
}

const outcome = (policy: Policy, dnssec: UsableDnssecState, tls = false) =>
  ({ kind: 'record', record: record(policy, tls), dnssec }) as const;

describe('deliveryPolicy', () => {
  it('bogus is fatal whatever the policy and the author allow', () => {
    for (const plaintextAllowed of [false, true]) {
      const p = deliveryPolicy({ kind: 'bogus' }, { plaintextAllowed });
      expect(p).toMatchObject({ action: 'fatal', onDmtpUnreachable: 'retry', certificateCheck: null });
    }
  });

  it('a temporary DNS failure is retried, never a fallback', () => {
    expect(deliveryPolicy({ kind: 'tempfail' }, { plaintextAllowed: true }).action).toBe('retry');
  });

  it('no record: not DIME-capable; SMTP only when plaintext is allowed, else bounce', () => {
    expect(deliveryPolicy({ kind: 'absent' }, { plaintextAllowed: true }).action).toBe('smtp');
    expect(deliveryPolicy({ kind: 'absent' }).action).toBe('bounce');
  });

  it('strict: DIME only, an unreachable DX is retried even when plaintext is allowed', () => {
    for (const dnssec of ['secure', 'insecure'] as const) {
      const p = deliveryPolicy(outcome('strict', dnssec), { plaintextAllowed: true });
      expect(p).toMatchObject({ action: 'dime', onDmtpUnreachable: 'retry', onCertificateFailure: 'retry' });
    }
  });

  it('mixed and experimental: SMTP fallback for an unreachable DX only when plaintext is allowed', () => {
    for (const pol of ['mixed', 'experimental'] as const) {
      expect(deliveryPolicy(outcome(pol, 'secure'), { plaintextAllowed: true })).toMatchObject({
        action: 'dime',
        onDmtpUnreachable: 'smtp',
        onCertificateFailure: 'retry',
        policy: pol,
      });
      expect(deliveryPolicy(outcome(pol, 'secure')).onDmtpUnreachable).toBe('retry');
    }
  });

  it('insecure records are used but marked, and a tls pin then needs x509 checks too (record.md §5)', () => {
    expect(deliveryPolicy(outcome('mixed', 'secure', true))).toMatchObject({
      recordAuthenticated: true,
      certificateCheck: 'pin',
    });
    const p = deliveryPolicy(outcome('mixed', 'insecure', true));
    expect(p).toMatchObject({ action: 'dime', recordAuthenticated: false, certificateCheck: 'pin+x509' });
    expect(p.reason).toMatch(/not authenticated/);
    expect(deliveryPolicy(outcome('mixed', 'secure', false)).certificateCheck).toBe('x509');
  });
});

describe('recordOutcome', () => {
  it('maps lookup results and errors', () => {
    const r = record('strict');
    expect(recordOutcome({ record: r, dnssec: 'secure' })).toEqual({
      kind: 'record',
      record: r,
      dnssec: 'secure',
    });
    expect(recordOutcome(new DimeError('RECORD_MISSING', 'x'))).toEqual({ kind: 'absent' });
    expect(recordOutcome(new DimeError('RECORD_INVALID', 'x'))).toEqual({ kind: 'absent' });
    expect(recordOutcome(new DimeError('DNS_BOGUS', 'x'))).toEqual({ kind: 'bogus' });
    expect(recordOutcome(new DimeError('DNS_TEMPFAIL', 'x'))).toEqual({ kind: 'tempfail' });
    expect(() => recordOutcome(new DimeError('BAD_INPUT', 'x'))).toThrow(DimeError);
    expect(() => recordOutcome(new TypeError('bug'))).toThrow(TypeError);
  });
});
