/**
 * Legacy mail on port 25 for local recipients (issue 7): checked with SPF/DKIM/DMARC/ARC (a DNS
 * temperror is recorded in the Authentication-Results and passed on, never a rejection by itself),
 * passed to the spam filter when one is configured (unreachable: a warning, the mail flows), then
 * sealed for each recipient (src/crypto/sealed-box.ts) and stored through group commit; the 250
 * is sent once the transaction is on disk. A recipient over quota: all of them → 452 (the sender
 * retries); some → the others are stored and a DSN goes back to the sender.
 */

import { randomBytes } from 'node:crypto';
import type { DeliveryResult } from '../../protocol/index.js';
import type { User } from '../../store/index.js';
import type { ServerContext } from '../context.js';
import { sealedAppend, subjectOf } from '../local-delivery.js';
import type { InboundAuthOutcome, SpamVerdict } from '../mail-services.js';
import { type SmtpEnvelope, sealEnvelope } from '../outbound/envelope.js';

export interface LegacyDelivery {
  message: Uint8Array;
  mailFrom: string;
  recipients: readonly { address: string; user: User }[];
  ip: string;
  helo: string;
  secure: boolean;
  sessionId: string;
}

function rfc5322Date(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

const REJECT = new Set(['reject']);
const TEMPFAIL = new Set(['soft reject', 'greylist']);
const JUNK = new Set(['add header', 'rewrite subject']);

export async function receiveLegacy(ctx: ServerContext, d: LegacyDelivery): Promise<DeliveryResult> {
  const txid = randomBytes(9).toString('base64url');
  let auth: InboundAuthOutcome;
  try {
    auth = await ctx.mail.checkInbound({ message: d.message, mailFrom: d.mailFrom, ip: d.ip, helo: d.helo });
  } catch (e) {
    ctx.log.warn(
      { session: d.sessionId, err: e instanceof Error ? e.message : String(e) },
      'authentication checks failed',
    );
    auth = {
      summary: { spf: 'temperror', dkim: 'temperror', dmarc: 'temperror', arc: 'temperror' },
      temperror: true,
      headerText: `Authentication-Results: ${ctx.config.hostname}; spf=temperror; dkim=temperror; dmarc=temperror\r\n`,
    };
  }
  let spam: SpamVerdict | null = null;
  if (ctx.mail.spamCheck) {
    spam = await ctx.mail.spamCheck(d.message, {
      ip: d.ip,
      helo: d.helo,
      mailFrom: d.mailFrom,
      rcpt: d.recipients.map((r) => r.address),
      authResults: auth.headerText,
      queueId: txid,
    });
    if (spam.status === 'unavailable') {
      ctx.log.warn(
        { session: d.sessionId, error: spam.error },
        'spam filter unavailable: accepting without it',
      );
    } else if (REJECT.has(spam.action)) {
      ctx.log.info({ session: d.sessionId, score: spam.score }, 'rejected as spam');
      return { accept: false, code: 550, message: '5.7.1 message rejected as spam' };
    } else if (TEMPFAIL.has(spam.action)) {
      return { accept: false, code: 451, message: '4.7.1 try again later' };
    }
  }
  const junk = spam?.status === 'ok' && JUNK.has(spam.action);
  const received = `Received: from ${d.helo} ([${d.ip}]) by ${ctx.config.hostname} with ${
    d.secure ? 'ESMTPS' : 'ESMTP'
  } id ${txid}; ${rfc5322Date(new Date())}`;
  const prefix = new Uint8Array(
    Buffer.from(
      `${received}\r\n${auth.headerText}${spam?.status === 'ok' ? spam.headerText : ''}${
        spam?.status === 'unavailable' ? 'X-Spam-Checked: no (filter unavailable)\r\n' : ''
      }`,
      'utf8',
    ),
  );
  const full = new Uint8Array(prefix.length + d.message.length);
  full.set(prefix, 0);
  full.set(d.message, prefix.length);

  const verification = `spf=${auth.summary.spf} dkim=${auth.summary.dkim} dmarc=${auth.summary.dmarc}${
    auth.temperror ? ' temperror' : ''
  }`;
  const unit = [];
  for (const r of d.recipients) {
    unit.push(
      await sealedAppend(ctx.store, r.user, junk ? 'Junk' : 'INBOX', full, {
        transactionId: txid,
        verification,
      }),
    );
  }
  const outcomes = await ctx.committer.append(unit);
  const over = d.recipients.filter((_, i) => outcomes[i]?.status === 'over_quota');
  if (over.length === d.recipients.length) {
    return { accept: false, code: 452, message: '4.2.2 mailbox full' };
  }
  if (over.length > 0 && d.mailFrom !== '') {
    const fromDomain = d.recipients[0]!.address.split('@')[1]!;
    const subject = subjectOf(d.message);
    for (const r of over) {
      const dsn = ctx.mail.buildDsn({
        reportingMta: ctx.config.hostname,
        to: d.mailFrom,
        recipient: r.address,
        reason: 'mailbox full',
        code: 552,
        status: '5.2.2',
        original: d.message,
        subject,
        arrivalDate: new Date(),
      });
      const env: SmtpEnvelope = {
        v: 1,
        kind: 'smtp',
        recipient: d.mailFrom,
        domain: d.mailFrom.slice(d.mailFrom.lastIndexOf('@') + 1).toLowerCase(),
        authorUserId: null,
        author: '',
        subject: null,
        mailFrom: '',
        fromDomain,
      };
      await ctx.store.enqueue({ envelope: sealEnvelope(ctx.spool, env), blob: ctx.spool.seal(dsn) });
    }
    ctx.outbound.kick();
  }
  ctx.log.info(
    {
      session: d.sessionId,
      tx: txid,
      recipients: d.recipients.length,
      overQuota: over.length,
      auth: verification,
      junk,
      size: d.message.length,
    },
    'legacy message stored',
  );
  return { accept: true, id: txid };
}
