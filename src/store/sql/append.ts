import { DimeError } from '../../errors/index.js';
import { encodeFlags } from '../flags.js';
import type { AppendOutcome, AppendRequest, NewMessage } from '../types.js';
import { count } from '../validate.js';
import { insertBlob } from './blobs.js';
import type { StoreContext } from './context.js';
import type { Tx } from './engine.js';
import { folderOwners, lockFolders, lockUsers } from './locks.js';

export const MAX_UID = 0xffffffff;
const MAX_TEXT = 255;

interface Prepared {
  folderId: number;
  blob: Uint8Array;
  bits: number;
  keywords: string;
  internalDate: number;
  dedupKey: Uint8Array | null;
  meta: (string | number | Uint8Array | null)[];
}

function text(what: string, s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  if (s.length > MAX_TEXT || /[\x00-\x1f\x7f]/.test(s)) throw new DimeError('BAD_PARAMETER', `bad ${what}`);
  return s;
}

function prepare(
  ctx: StoreContext,
  folderId: number,
  m: NewMessage,
  dedupKey: Uint8Array | undefined,
): Prepared {
  if (!(m.blob instanceof Uint8Array) || m.blob.length === 0) {
    throw new DimeError('BAD_PARAMETER', 'a message needs a non-empty blob');
  }
  if (m.metadata.kind !== 'dime' && m.metadata.kind !== 'sealed') {
    throw new DimeError('BAD_PARAMETER', `unknown message kind ${String(m.metadata.kind)}`);
  }
  if (dedupKey !== undefined && (dedupKey.length < 8 || dedupKey.length > 64)) {
    throw new DimeError('BAD_PARAMETER', 'a dedup key is 8 … 64 bytes');
  }
  const f = encodeFlags(m.flags ?? []);
  const md = m.metadata;
  return {
    folderId,
    blob: m.blob,
    bits: f.bits,
    keywords: f.keywords,
    internalDate: count('internal date', m.internalDate ?? ctx.clock()),
    dedupKey: dedupKey ?? null,
    meta: [
      md.kind,
      text('origin domain', md.originDomain),
      text('origin fingerprint', md.originFingerprint),
      text('transaction id', md.transactionId),
      text('verification result', md.verification),
      md.trace ?? null,
      md.plainSize === undefined || md.plainSize === null ? null : count('plain size', md.plainSize),
    ],
  };
}

async function claimDedupKey(tx: Tx, key: Uint8Array, now: number): Promise<boolean> {
  const r = await tx.all(
    'INSERT INTO dedup_keys (key, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING key',
    [key, now],
  );
  return r.length === 1;
}

/** Appends in one transaction; see MailStore.appendMessages. */
export function appendMessages(ctx: StoreContext, items: readonly AppendRequest[]): Promise<AppendOutcome[]> {
  const prepared = items.map((i) => prepare(ctx, i.folderId, i.message, i.dedupKey));
  if (prepared.length === 0) return Promise.resolve([]);
  const folderIds = [...new Set(prepared.map((p) => p.folderId))];
  return ctx.engine.transaction(async (tx) => {
    const now = ctx.clock();
    const owners = await folderOwners(ctx, tx, folderIds);
    const userRows = await lockUsers(ctx, tx, [...owners.values()]);
    const folderRows = await lockFolders(ctx, tx, folderIds);
    const users = new Map(
      [...userRows].map(([id, r]) => [
        id,
        {
          bytes: Number(r.used_bytes),
          messages: Number(r.used_messages),
          maxBytes: r.quota_bytes === null ? null : Number(r.quota_bytes),
          maxMessages: r.quota_messages === null ? null : Number(r.quota_messages),
          changed: false,
        },
      ]),
    );
    const folders = new Map(
      [...folderRows].map(([id, r]) => [
        id,
        {
          uidNext: Number(r.uidnext),
          modseq: Number(r.highest_modseq),
          uidValidity: Number(r.uidvalidity),
          changed: false,
        },
      ]),
    );
    const out: AppendOutcome[] = [];
    for (const p of prepared) {
      const u = users.get(owners.get(p.folderId)!)!;
      const f = folders.get(p.folderId)!;
      if (p.dedupKey && !(await claimDedupKey(tx, p.dedupKey, now))) {
        out.push({ status: 'duplicate', folderId: p.folderId });
        continue;
      }
      const overBytes = u.maxBytes !== null && u.bytes + p.blob.length > u.maxBytes;
      const overCount = u.maxMessages !== null && u.messages + 1 > u.maxMessages;
      if (overBytes || overCount) {
        if (p.dedupKey) await tx.run('DELETE FROM dedup_keys WHERE key = ?', [p.dedupKey]);
        out.push({ status: 'over_quota', folderId: p.folderId });
        continue;
      }
      if (f.uidNext > MAX_UID) {
        throw new DimeError('STORE_FAILED', 'folder has used every UID; it must be recreated', {
          folderId: p.folderId,
        });
      }
      const uid = f.uidNext++;
      const modseq = ++f.modseq;
      f.changed = true;
      const blobId = await insertBlob(tx, p.blob);
      await tx.run(
        `INSERT INTO messages (folder_id, uid, modseq, system_flags, keywords, internal_date, size, blob_id,
           kind, origin_domain, origin_fingerprint, transaction_id, verification, trace, plain_size)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [p.folderId, uid, modseq, p.bits, p.keywords, p.internalDate, p.blob.length, blobId, ...p.meta],
      );
      u.bytes += p.blob.length;
      u.messages += 1;
      u.changed = true;
      out.push({ status: 'stored', folderId: p.folderId, uid, modseq, uidValidity: f.uidValidity });
    }
    for (const [id, f] of folders) {
      if (f.changed) {
        await tx.run('UPDATE folders SET uidnext = ?, highest_modseq = ? WHERE id = ?', [
          f.uidNext,
          f.modseq,
          id,
        ]);
      }
    }
    for (const [id, u] of users) {
      if (u.changed) {
        await tx.run('UPDATE users SET used_bytes = ?, used_messages = ? WHERE id = ?', [
          u.bytes,
          u.messages,
          id,
        ]);
      }
    }
    return out;
  });
}

export async function appendMessage(
  ctx: StoreContext,
  folderId: number,
  message: NewMessage,
): Promise<{ uid: number; modseq: number; uidValidity: number }> {
  const [r] = await appendMessages(ctx, [{ folderId, message }]);
  if (r?.status !== 'stored')
    throw new DimeError('QUOTA_EXCEEDED', 'the message does not fit the quota', { folderId });
  return { uid: r.uid, modseq: r.modseq, uidValidity: r.uidValidity };
}

export function purgeDedupKeys(ctx: StoreContext, before: number): Promise<number> {
  return ctx.engine.transaction((tx) => tx.run('DELETE FROM dedup_keys WHERE created_at < ?', [before]));
}
