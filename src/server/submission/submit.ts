/**
 * A message submitted by an authenticated user (587/465), recipient by recipient (flow.md §1–§3.1):
 *
 * * local recipient → sealed for that user into their INBOX;
 * * remote domain with a management record (DIME-capable) → a DIME message written here as the
 *   author with the user key this session opened (trustful accounts, keys.md §5): the MIME message
 *   mapped to parts (message.md §8), sealed to the recipient's and the destination's signets (fetched
 *   and verified by the SignetResolver), origin-signed with the org key, and queued for DMTP;
 * * remote domain without a record (not DIME-capable) → flow.md §3.1 fallback: when the account
 *   policy allows plaintext, DKIM-signed and queued for SMTP; otherwise bounced "destination not
 *   DIME-capable". The same fallback serves a DIME-capable domain whose policy is not `strict` when
 *   the account cannot write DIME (cautious/paranoid: no key on the server) or its DX cannot be
 *   reached now (deliveryPolicy onDmtpUnreachable);
 * * a failure that is permanent (unknown recipient: SGNT 550; bad signets; DNSSEC bogus) → a bounce
 *   (DSN) to the author's INBOX with the reason.
 *
 * A DIME message can only be written while the session holds the author key, so anything that
 * might work later (DNS temporary failure, DX unreachable under `strict`, a TLS or certificate
 * failure — never an SMTP fallback after one) answers the whole DATA with 451 before anything is
 * stored or queued: the client keeps the message and tries again. Otherwise the queue items are
 * written, then one group-commit unit holds the local copies, the Sent copy (sealed for the author)
 * and the bounces; the 250 follows.
 */

import { randomBytes } from 'node:crypto';
import { DimeError } from '../../errors/index.js';
import { mimeToParts } from '../../message/mime/index.js';
import { signAsOrigin } from '../../message/origin-sign.js';
import { envelopeFingerprint } from '../../message/parties.js';
import { sealMessage } from '../../message/seal.js';
import { isTemporaryFailure } from '../../protocol/dmtp/client-errors.js';
import type { DeliveryResult } from '../../protocol/index.js';
import { deliveryPolicy, type RecordOutcome, recordOutcome } from '../../resolver/policy.js';
import { parseUserSignet } from '../../signet/index.js';
import type { AppendRequest, Session, User } from '../../store/index.js';
import type { ServerContext } from '../context.js';
import type { LocalDomain } from '../domains.js';
import { bounceAppend, canReceive, sealedAppend, subjectOf } from '../local-delivery.js';
import { type DmtpEnvelope, type SmtpEnvelope, sealEnvelope } from '../outbound/envelope.js';

export interface Submission {
  session: Session;
  /** The authenticated address (MAIL FROM, checked to be the user's). */
  from: string;
  recipients: readonly string[];
  message: Uint8Array;
  sessionId: string;
}

type Planned =
  | { kind: 'local'; address: string; user: User }
  | { kind: 'dmtp'; address: string; envelope: DmtpEnvelope; object: Uint8Array }
  | { kind: 'smtp'; address: string; domain: string }
  | { kind: 'bounce'; address: string; reason: string; code: number; status: string };

class TryLater extends Error {}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

async function lookupOutcome(ctx: ServerContext, domain: string): Promise<RecordOutcome> {
  try {
    return recordOutcome(await ctx.resolver.lookupManagementRecord(domain));
  } catch (e) {
    return recordOutcome(e);
  }
}

function code(e: unknown): string {
  return e instanceof DimeError ? e.code : 'ERROR';
}

/** Writes the DIME message for one remote recipient (message.md §7.1, §7.2). */
async function composeDime(
  ctx: ServerContext,
  s: Submission,
  author: LocalDomain,
  address: string,
  parts: Awaited<ReturnType<typeof mimeToParts>>,
): Promise<{ envelope: DmtpEnvelope; object: Uint8Array }> {
  const keys = s.session.userKeys!;
  const authorSignet = parseUserSignet(s.session.user.signet!);
  const rcpt = await ctx.signets.resolveUser(address, { requireCurrent: true });
  const destination = rcpt.org.signet;
  const sealed = sealMessage({
    author: { keys, signet: authorSignet, address: s.from },
    // SGNT serves the full split (no ID field 254, README "SGNT signet form"): name the parties
    recipient: { signet: rcpt.signet, address: rcpt.address },
    origin: { signet: author.orgSignet, domain: author.name },
    destination: { signet: destination, domain: rcpt.domain },
    commonHeaders: parts.commonFields,
    otherHeaders: parts.otherHeaders,
    display: parts.display.length > 0 ? parts.display.map((d) => ({ data: d })) : [{ data: '\r\n' }],
    attachments: parts.attachments.map((d) => ({ data: d })),
  });
  const object = signAsOrigin(sealed, author.orgKeys, {
    author: authorSignet,
    origin: author.orgSignet,
    destination,
  });
  return {
    object,
    envelope: {
      v: 1,
      kind: 'dmtp',
      recipient: address,
      domain: rcpt.domain,
      authorUserId: s.session.user.id,
      author: s.from,
      subject: parts.commonFields.subject || null,
      originDomain: author.name,
      originFingerprint: envelopeFingerprint(author.orgSignet),
      destinationFingerprint: envelopeFingerprint(destination),
    },
  };
}

/** Permanent signet problems become bounces; anything that may pass later, TryLater (451). */
function signetFailure(e: unknown, address: string): Planned {
  if (isTemporaryFailure(e) || (e instanceof DimeError && e.context.temporary === true)) {
    throw new TryLater(`${code(e)} for ${domainOf(address)}`);
  }
  if (e instanceof DimeError && e.code === 'SIGNET_NOT_FOUND') {
    return {
      kind: 'bounce',
      address,
      reason: 'unknown recipient (no signet: SGNT 550)',
      code: 550,
      status: '5.1.1',
    };
  }
  if (e instanceof DimeError && e.code === 'DNS_BOGUS') {
    return { kind: 'bounce', address, reason: 'DNSSEC failure', code: 550, status: '5.7.1' };
  }
  const msg = e instanceof DimeError ? `${e.code}: ${e.message}` : String(e);
  return { kind: 'bounce', address, reason: `recipient signet refused: ${msg}`, code: 550, status: '5.7.1' };
}

async function planRemote(
  ctx: ServerContext,
  s: Submission,
  author: LocalDomain,
  address: string,
  parts: () => Promise<Awaited<ReturnType<typeof mimeToParts>>>,
): Promise<Planned> {
  const domain = domainOf(address);
  const plaintext = ctx.config.accounts.allowPlaintext;
  let outcome: RecordOutcome;
  try {
    outcome = await lookupOutcome(ctx, domain);
  } catch (e) {
    return { kind: 'bounce', address, reason: `bad destination: ${code(e)}`, code: 550, status: '5.1.2' };
  }
  const policy = deliveryPolicy(outcome, { plaintextAllowed: plaintext });
  switch (policy.action) {
    case 'retry':
      throw new TryLater(`temporary DNS failure for ${domain}`);
    case 'fatal':
      return { kind: 'bounce', address, reason: 'DNSSEC failure', code: 550, status: '5.7.1' };
    case 'bounce':
      return { kind: 'bounce', address, reason: 'destination not DIME-capable', code: 550, status: '5.7.1' };
    case 'smtp':
      return { kind: 'smtp', address, domain };
    case 'dime':
      break;
  }
  const canAuthor = s.session.userKeys !== null && s.session.user.signet !== null;
  if (!canAuthor) {
    if (policy.onDmtpUnreachable === 'smtp') return { kind: 'smtp', address, domain };
    return {
      kind: 'bounce',
      address,
      reason:
        'the account key is not held by the server (cautious/paranoid): send DIME mail from a DIME client',
      code: 550,
      status: '5.7.1',
    };
  }
  try {
    const made = await composeDime(ctx, s, author, address, await parts());
    return { kind: 'dmtp', address, ...made };
  } catch (e) {
    const unreachable = e instanceof DimeError && (e.code === 'CONNECT_FAILED' || e.code === 'DMTP_TIMEOUT');
    if (unreachable && policy.onDmtpUnreachable === 'smtp') return { kind: 'smtp', address, domain };
    if (e instanceof DimeError && (e.code === 'BAD_MIME' || e.code === 'BAD_INPUT')) {
      return {
        kind: 'bounce',
        address,
        reason: `message cannot be written as DIME: ${e.message}`,
        code: 554,
        status: '5.6.0',
      };
    }
    return signetFailure(e, address);
  }
}

/** Handles DATA of a submission session: see the file comment. */
export async function submitMessage(ctx: ServerContext, s: Submission): Promise<DeliveryResult> {
  const txid = randomBytes(9).toString('base64url');
  const author = await ctx.domains.get(s.session.domain.name);
  if (!author) return { accept: false, code: 451, message: 'the sender domain is not available' };
  const subject = subjectOf(s.message);
  let partsCache: Promise<Awaited<ReturnType<typeof mimeToParts>>> | null = null;
  const parts = () => {
    partsCache ??= mimeToParts(s.message);
    return partsCache;
  };

  const plans: Planned[] = [];
  try {
    for (const address of [...new Set(s.recipients.map((r) => r.toLowerCase()))]) {
      const domain = domainOf(address);
      if (ctx.domains.isLocalDomain(domain)) {
        const found = await ctx.domains.findUser(address);
        if (found && canReceive(found.user)) plans.push({ kind: 'local', address, user: found.user });
        else plans.push({ kind: 'bounce', address, reason: 'unknown recipient', code: 550, status: '5.1.1' });
        continue;
      }
      plans.push(await planRemote(ctx, s, author, address, parts));
    }
  } catch (e) {
    if (e instanceof TryLater) {
      ctx.log.info({ session: s.sessionId, reason: e.message }, 'submission deferred (451)');
      return { accept: false, code: 451, message: `try again later: ${e.message}` };
    }
    throw e;
  }

  // queue first: a crash before the 250 leaves at worst a duplicate for the client's retry
  let queued = 0;
  const smtp = plans.filter((p): p is Extract<Planned, { kind: 'smtp' }> => p.kind === 'smtp');
  if (smtp.length > 0) {
    let signed = s.message;
    if (author.dkim) {
      signed = await ctx.mail.dkimSign(s.message, {
        domain: author.name,
        selector: author.dkim.selector,
        privateKeyPem: author.dkim.privateKeyPem,
      });
    }
    for (const p of smtp) {
      const env: SmtpEnvelope = {
        v: 1,
        kind: 'smtp',
        recipient: p.address,
        domain: p.domain,
        authorUserId: s.session.user.id,
        author: s.from,
        subject,
        mailFrom: s.from,
        fromDomain: author.name,
      };
      await ctx.store.enqueue({ envelope: sealEnvelope(ctx.spool, env), blob: ctx.spool.seal(signed) });
      queued++;
    }
  }
  for (const p of plans) {
    if (p.kind !== 'dmtp') continue;
    await ctx.store.enqueue({
      envelope: sealEnvelope(ctx.spool, p.envelope),
      blob: ctx.spool.seal(p.object),
    });
    queued++;
  }

  const unit: AppendRequest[] = [];
  const locals = plans.filter((p): p is Extract<Planned, { kind: 'local' }> => p.kind === 'local');
  for (const p of locals) {
    unit.push(
      await sealedAppend(ctx.store, p.user, 'INBOX', s.message, {
        transactionId: txid,
        verification: 'local',
      }),
    );
  }
  const authorUser = s.session.user;
  if (canReceive(authorUser)) {
    unit.push(
      await sealedAppend(ctx.store, authorUser, 'Sent', s.message, {
        transactionId: txid,
        verification: 'sent',
        flags: ['\\Seen'],
      }),
    );
  }
  for (const p of plans) {
    if (p.kind !== 'bounce') continue;
    const b = await bounceAppend(
      ctx,
      authorUser.id,
      {
        to: s.from,
        recipient: p.address,
        reason: p.reason,
        code: p.code,
        status: p.status,
        original: s.message,
        subject,
      },
      txid,
    );
    if (b) unit.push(b);
  }
  const outcomes = await ctx.committer.append(unit);
  const over = outcomes.filter((o) => o.status === 'over_quota').length;
  // a local recipient over quota: the author learns it from a bounce (nothing is lost silently)
  const full: AppendRequest[] = [];
  for (let i = 0; i < locals.length; i++) {
    if (outcomes[i]?.status !== 'over_quota') continue;
    const b = await bounceAppend(
      ctx,
      authorUser.id,
      {
        to: s.from,
        recipient: locals[i]!.address,
        reason: 'mailbox full',
        code: 552,
        status: '5.2.2',
        original: s.message,
        subject,
      },
      txid,
    );
    if (b) full.push(b);
  }
  if (full.length > 0) await ctx.committer.append(full);
  if (queued > 0) ctx.outbound.kick();
  ctx.log.info(
    {
      session: s.sessionId,
      tx: txid,
      local: plans.filter((p) => p.kind === 'local').length,
      dmtp: plans.filter((p) => p.kind === 'dmtp').length,
      smtp: smtp.length,
      bounced: plans.filter((p) => p.kind === 'bounce').length,
      reasons: plans.flatMap((p) => (p.kind === 'bounce' ? [p.reason] : [])),
      overQuota: over,
    },
    'submission accepted',
  );
  return { accept: true, id: txid };
}
