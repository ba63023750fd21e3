/**
 * DMTP reception (flow.md §1 step 6, §3, §5; dmtp.md §3.1–§3.2): the Destination's side.
 *
 * * MAIL: the origin domain's org signet is resolved (DNSSEC record, SGNT over DMTP, POK check;
 *   cached by the SignetResolver) and a real fingerprint must name its current signet (550); a
 *   lookup that may succeed later is 451, a permanent failure (no record, bogus DNSSEC, POK or
 *   signature mismatch) 550.
 * * DATA: the object is opened as the destination with the org key of the RCPT domain: the
 *   envelope must name the MAIL origin domain and a local recipient of that domain whose current
 *   signet the envelope fingerprint names; every origin signature (248/249/255) is checked. Any
 *   failure is 554 and nothing is stored. Then the object is stored as received (the bytes after the
 *   tracing prefix) in the recipient's INBOX with server-visible metadata only (origin domain and
 *   fingerprint, transaction id, verification result, the tracing updated with our `received` line)
 *   through group commit, idempotently (the dedup key is an HMAC of the object's hash and the user).
 */

import { createHash, randomBytes } from 'node:crypto';
import { concatBytes } from '../../encoding/bytes.js';
import { DimeError } from '../../errors/index.js';
import { wipeKek } from '../../message/kek.js';
import { type OpenedSource, openSource } from '../../message/open.js';
import { envelopeFingerprint } from '../../message/parties.js';
import { MemorySource } from '../../message/source.js';
import { isTemporaryFailure } from '../../protocol/dmtp/client-errors.js';
import { signetFingerprints } from '../../protocol/dmtp/signets.js';
import type { Decision, DeliveryResult, MailFrom } from '../../protocol/index.js';
import { refuse } from '../../protocol/index.js';
import { parseUserSignet, type Signet } from '../../signet/index.js';
import { parseLogin } from '../../store/index.js';
import { dedupKey, type ServerContext } from '../context.js';

const MAX_TRACING = 0xffff;

/** The verified origin org signet of a DMTP transaction. */
export interface DmtpOrigin {
  domain: string;
  signet: Signet;
}

function describe(e: unknown): string {
  return e instanceof DimeError ? `${e.code}: ${e.message}` : String(e);
}

/** MAIL FROM in DMTP: resolve and check the origin org signet. */
export async function checkDmtpOrigin(
  ctx: ServerContext,
  from: Extract<MailFrom, { protocol: 'dmtp' }>,
): Promise<{ decision: Decision; origin: DmtpOrigin | null }> {
  const domain = from.domain.toLowerCase().replace(/\.$/, '');
  let signet: Signet;
  try {
    signet = (await ctx.signets.resolveOrg(domain)).signet;
  } catch (e) {
    const temporary = isTemporaryFailure(e) || (e instanceof DimeError && e.context.temporary === true);
    ctx.log.warn(
      { origin: domain, code: e instanceof DimeError ? e.code : 'ERROR' },
      'DMTP origin lookup failed',
    );
    return {
      decision: temporary
        ? refuse(451, `cannot verify the origin ${domain} now: ${describe(e)}`.slice(0, 400))
        : refuse(550, `origin ${domain} cannot be verified: ${describe(e)}`.slice(0, 400)),
      origin: null,
    };
  }
  if (from.fingerprint.kind === 'fingerprint' && !signetFingerprints(signet).has(from.fingerprint.value)) {
    return {
      decision: refuse(550, `fingerprint is not the current org signet of ${domain}`),
      origin: null,
    };
  }
  return { decision: null, origin: { domain, signet } };
}

function traceLine(hostname: string, action: 'received' | 'relayed'): Uint8Array {
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return new Uint8Array(Buffer.from(`${hostname} ${time} ${action}\r\n`, 'utf8'));
}

function reject554(message: string): DeliveryResult {
  return { accept: false, code: 554, message: message.replace(/[\r\n]+/g, ' ').slice(0, 400) };
}

/** DATA in DMTP: open, verify and store the object for the local recipient it names. */
export async function receiveDmtpObject(
  ctx: ServerContext,
  o: { bytes: Uint8Array; origin: DmtpOrigin; destinationDomain: string; sessionId: string },
): Promise<DeliveryResult> {
  const destination = await ctx.domains.get(o.destinationDomain);
  if (!destination) return reject554(`${o.destinationDomain} is not a domain of this server`);
  const source = new MemorySource(o.bytes);
  // One checking pass as the destination (message.md §7.3): the envelope it can read (chunk 5) and
  // the origin signatures (248/249/255), verified with the origin signet. It runs in report mode
  // because the recipient's signet is only known from the envelope: its fingerprint is compared
  // below, and every origin signature must be valid (or, for the bounce ones, absent).
  let opened: OpenedSource;
  try {
    opened = openSource(source, {
      actor: 'destination',
      keys: destination.orgKeys,
      signets: { origin: o.origin.signet, destination: destination.orgSignet },
      report: true,
    });
  } catch (e) {
    return reject554(`message rejected: ${describe(e)}`);
  }
  wipeKek(opened.kek);
  const sig = opened.signatures;
  const bounceOk = (st: string) => st === 'valid' || st === 'absent';
  if (sig.originFull !== 'valid' || !bounceOk(sig.metaBounce) || !bounceOk(sig.displayBounce)) {
    ctx.log.info({ session: o.sessionId, origin: sig.originFull }, 'DMTP object refused: origin signature');
    return reject554(
      `message rejected: BAD_SIGNATURE: origin signatures full=${sig.originFull} meta=${sig.metaBounce} display=${sig.displayBounce}`,
    );
  }
  const layout = opened.layout;
  const env = opened.envelope;
  if (env.origin !== null && env.origin.toLowerCase() !== o.origin.domain) {
    return reject554(`the message names origin ${env.origin}, not ${o.origin.domain}`);
  }
  const originFingerprint = envelopeFingerprint(o.origin.signet);
  if (env.originFingerprint !== null && env.originFingerprint !== originFingerprint) {
    return reject554('the origin fingerprint in the message is not the origin org signet');
  }
  if (!env.recipient) return reject554('the message names no recipient');
  let local: { local: string; domain: string };
  try {
    local = parseLogin(env.recipient);
  } catch {
    return reject554('unknown recipient');
  }
  if (local.domain !== destination.name) return reject554('the recipient is not in the RCPT domain');
  const found = await ctx.domains.findUser(env.recipient);
  if (!found || found.user.disabled || !found.user.signet) return reject554('unknown recipient');
  const user = found.user;
  const recipientSignet = parseUserSignet(user.signet!);
  if (
    env.recipientFingerprint === null ||
    env.recipientFingerprint !== envelopeFingerprint(recipientSignet)
  ) {
    return reject554("the recipient fingerprint is not that user's current signet");
  }

  const object = o.bytes.subarray(layout.headerOffset);
  const old = layout.tracing
    ? o.bytes.subarray(layout.tracing.offset, layout.tracing.offset + layout.tracing.length)
    : null;
  let trace = concatBytes(old ?? new Uint8Array(0), traceLine(ctx.config.hostname, 'received'));
  if (trace.length > MAX_TRACING) trace = trace.subarray(trace.length - MAX_TRACING);
  const inbox = await ctx.store.getFolder(user.id, 'INBOX');
  if (!inbox) return { accept: false, code: 451, message: 'recipient mailbox unavailable' };
  const transactionId = randomBytes(9).toString('base64url');
  const hash = createHash('sha512').update(object).digest();
  const [outcome] = await ctx.committer.append([
    {
      folderId: inbox.id,
      message: {
        blob: new Uint8Array(object),
        metadata: {
          kind: 'dime',
          originDomain: o.origin.domain,
          originFingerprint,
          transactionId,
          verification: 'pass',
          trace,
          plainSize: null,
        },
      },
      dedupKey: dedupKey(ctx.serverSecret, 'dmtp', hash, user.id),
    },
  ]);
  if (outcome?.status === 'over_quota') return { accept: false, code: 552, message: 'mailbox full' };
  ctx.log.info(
    {
      session: o.sessionId,
      tx: transactionId,
      origin: o.origin.domain,
      size: object.length,
      status: outcome?.status,
    },
    'DMTP message stored',
  );
  return { accept: true, id: transactionId };
}
