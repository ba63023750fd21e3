/**
 * What a queue item carries, sealed to the spool key (the store sees opaque bytes only):
 * the envelope below as JSON, and the message (a DIME object for DMTP, an RFC 5322 message for SMTP).
 */

import { DimeError } from '../../errors/index.js';
import type { SpoolKey } from '../spool.js';

export interface QueuedEnvelopeBase {
  v: 1;
  /** The recipient (one per item). */
  recipient: string;
  /** The recipient's domain. */
  domain: string;
  /** Local author to bounce to (null: a DSN or other mail nobody local wrote). */
  authorUserId: number | null;
  /** The author's address (for the DSN text). */
  author: string;
  /** Short, for the bounce text only. */
  subject: string | null;
}

export interface DmtpEnvelope extends QueuedEnvelopeBase {
  kind: 'dmtp';
  originDomain: string;
  /** Crypto fingerprints (unpadded base64): MAIL and RCPT. */
  originFingerprint: string;
  destinationFingerprint: string;
}

export interface SmtpEnvelope extends QueuedEnvelopeBase {
  kind: 'smtp';
  /** MAIL FROM (empty: the null sender of a DSN, which is never bounced). */
  mailFrom: string;
  /** HELO name and the local domain the message leaves from. */
  fromDomain: string;
}

export type QueuedEnvelope = DmtpEnvelope | SmtpEnvelope;

export function sealEnvelope(spool: SpoolKey, env: QueuedEnvelope): Uint8Array {
  return spool.seal(new Uint8Array(Buffer.from(JSON.stringify(env), 'utf8')));
}

export function openEnvelope(spool: SpoolKey, sealed: Uint8Array): QueuedEnvelope {
  const text = Buffer.from(spool.open(sealed)).toString('utf8');
  const env = JSON.parse(text) as QueuedEnvelope;
  if (env?.v !== 1 || (env.kind !== 'dmtp' && env.kind !== 'smtp')) {
    throw new DimeError('BAD_INPUT', 'queue envelope of an unknown version');
  }
  return env;
}
