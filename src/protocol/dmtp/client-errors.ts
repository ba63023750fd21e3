/**
 * Errors of the DMTP client (docs/errors.md "DMTP client and signet resolution"). Every one carries
 * `context.temporary`: true when a later retry may succeed (the delivery queue's decision).
 */

import { DimeError } from '../../errors/index.js';
import type { DmtpReply } from './client-reader.js';

export type ConnectFailure = 'refused' | 'unreachable' | 'timeout' | 'closed' | 'dns' | 'error';

export function connectFailed(
  reason: ConnectFailure,
  message: string,
  context: Record<string, unknown> = {},
): DimeError {
  return new DimeError('CONNECT_FAILED', message, { ...context, reason, temporary: true });
}

export function tlsFailed(message: string, context: Record<string, unknown> = {}): DimeError {
  return new DimeError('TLS_FAILED', message, { ...context, temporary: true });
}

export type UntrustedReason =
  | 'pin-mismatch'
  | 'self-signed'
  | 'hostname'
  | 'chain'
  | 'no-certificate'
  /** OCSP says revoked (record.md §5, no pin) */
  | 'ocsp-revoked'
  /** OCSP could not vouch for it: responder unreachable, bad answer (`context.ocsp` says which) */
  | 'ocsp-failed';

export function tlsUntrusted(
  reason: UntrustedReason,
  message: string,
  context: Record<string, unknown> = {},
): DimeError {
  // flow.md §3: a certificate failure is retried later (the DX or the record may change), never
  // answered with a plaintext fallback.
  return new DimeError('TLS_UNTRUSTED', message, { ...context, reason, temporary: true });
}

export function refused(command: string, r: DmtpReply): DimeError {
  return new DimeError(
    'DMTP_REFUSED',
    `${command} refused: ${r.lines.map((l) => `${r.code} ${l}`).join(' / ')}`,
    {
      command,
      code: r.code,
      reply: r.lines,
      temporary: r.code >= 400 && r.code < 500,
    },
  );
}

export type ProtocolReason =
  | 'line-too-long'
  | 'reply-too-large'
  | 'malformed-reply'
  | 'unexpected-code'
  | 'banner'
  | 'mode'
  | 'unsolicited'
  | 'bad-answer'
  | 'hash-mismatch';

export function protocolError(
  reason: ProtocolReason,
  message: string,
  context: Record<string, unknown> = {},
): DimeError {
  return new DimeError('DMTP_PROTOCOL', message, { ...context, reason, temporary: true });
}

export function timedOut(what: string, ms: number): DimeError {
  return new DimeError('DMTP_TIMEOUT', `no reply to ${what} within ${ms} ms`, {
    command: what,
    timeoutMs: ms,
    temporary: true,
  });
}

const TEMPORARY_CODES = new Set([
  'CONNECT_FAILED',
  'TLS_FAILED',
  'TLS_UNTRUSTED',
  'DMTP_PROTOCOL',
  'DMTP_TIMEOUT',
  'DNS_TEMPFAIL',
]);

/**
 * True for failures worth retrying later (delivery queue): unreachable hosts, TLS problems,
 * timeouts, garbage from the server, temporary DNS failures and 4xx replies. False for everything
 * else (5xx, DNSSEC bogus, missing record, bad signets).
 */
export function isTemporaryFailure(e: unknown): boolean {
  if (!(e instanceof DimeError)) return false;
  if (e.code === 'DMTP_REFUSED') return e.context.temporary === true;
  return TEMPORARY_CODES.has(e.code);
}
