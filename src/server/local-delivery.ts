/**
 * Mail for local users that is not a DIME object (legacy mail from port 25, submissions to local
 * users, Sent copies, bounces) is sealed on arrival to the user's encryption public key
 * (src/crypto/sealed-box.ts): from then on only a session holding the user key can read it.
 * Nothing of it — headers, subject, addresses, body — is visible in the store.
 */

import { sealForUser } from '../crypto/sealed-box.js';
import { DimeError } from '../errors/index.js';
import { envelopeFingerprint } from '../message/parties.js';
import { parseUserSignet } from '../signet/index.js';
import type { AppendRequest, MailStore, User } from '../store/index.js';
import type { ServerContext } from './context.js';
import type { DsnInput } from './mail-services.js';
import { buildDimeBounce, type DimeBounceInput } from './outbound/dime-bounce.js';

/** The id of a user's folder, creating it when missing (a user may have deleted Sent or Junk). */
export async function folderIdOf(store: MailStore, userId: number, name: string): Promise<number> {
  const f = await store.getFolder(userId, name);
  if (f) return f.id;
  try {
    return (await store.createFolder(userId, name)).id;
  } catch (e) {
    const again = await store.getFolder(userId, name);
    if (again) return again.id;
    throw e;
  }
}

/** True when mail can be sealed for the user (it has an encryption public key). */
export function canReceive(user: User): boolean {
  return user.encryptionPublicKey !== null && user.encryptionPublicKey.length === 33 && !user.disabled;
}

/** An append of `message` sealed for `user`. */
export async function sealedAppend(
  store: MailStore,
  user: User,
  folder: string,
  message: Uint8Array,
  o: {
    transactionId: string;
    verification?: string | null;
    flags?: readonly string[];
    dedupKey?: Uint8Array;
  },
): Promise<AppendRequest> {
  if (!user.encryptionPublicKey) {
    throw new DimeError('NOT_FOUND', 'the user has no encryption key to seal mail to', { userId: user.id });
  }
  const blob = sealForUser(user.encryptionPublicKey, message);
  return {
    folderId: await folderIdOf(store, user.id, folder),
    message: {
      blob,
      ...(o.flags ? { flags: o.flags } : {}),
      metadata: {
        kind: 'sealed',
        transactionId: o.transactionId,
        verification: o.verification ?? null,
        plainSize: message.length,
      },
    },
    ...(o.dedupKey ? { dedupKey: o.dedupKey } : {}),
  };
}

/** A bounce (DSN) for a local author, sealed into their INBOX; null when the author is gone. */
export async function bounceAppend(
  ctx: ServerContext,
  authorUserId: number,
  dsn: Omit<DsnInput, 'reportingMta' | 'arrivalDate'> & { arrivalDate?: Date },
  transactionId: string,
): Promise<AppendRequest | null> {
  const user = await ctx.store.getUser(authorUserId);
  if (!user || !canReceive(user)) return null;
  const message = ctx.mail.buildDsn({
    ...dsn,
    reportingMta: ctx.config.hostname,
    arrivalDate: dsn.arrivalDate ?? new Date(),
  });
  return sealedAppend(ctx.store, user, 'INBOX', message, { transactionId, verification: 'bounce' });
}

/**
 * The DIME bounce (flow.md §3.2) of a DIME object a local author sent, stored in the author's INBOX
 * as the DIME object it is (like one received over DMTP); null when the author is gone, has no
 * signet, or the origin domain is not ours any more.
 */
export async function dimeBounceAppend(
  ctx: ServerContext,
  authorUserId: number,
  b: Omit<DimeBounceInput, 'origin' | 'hostname' | 'author'> & { originDomain: string; author: string },
  transactionId: string,
): Promise<AppendRequest | null> {
  const user = await ctx.store.getUser(authorUserId);
  if (!user || user.disabled || !user.signet) return null;
  const origin = await ctx.domains.get(b.originDomain);
  if (!origin) return null;
  const { originDomain, author, ...rest } = b;
  const object = await buildDimeBounce({
    ...rest,
    origin,
    hostname: ctx.config.hostname,
    author: { address: author, signet: parseUserSignet(user.signet) },
  });
  return {
    folderId: await folderIdOf(ctx.store, user.id, 'INBOX'),
    message: {
      blob: object,
      metadata: {
        kind: 'dime',
        originDomain,
        originFingerprint: envelopeFingerprint(origin.orgSignet),
        transactionId,
        verification: 'bounce',
        trace: null,
        plainSize: null,
      },
    },
  };
}

/** The Subject of an RFC 5322 message (unfolded, at most 200 characters), or null. */
export function subjectOf(message: Uint8Array): string | null {
  const text = Buffer.from(message.subarray(0, Math.min(message.length, 64 * 1024))).toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const m = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head);
  return m
    ? m[1]!
        .replace(/\r?\n[ \t]/g, ' ')
        .trim()
        .slice(0, 200)
    : null;
}
