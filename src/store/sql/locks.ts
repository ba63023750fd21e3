import { DimeError } from '../../errors/index.js';
import { notFound } from './constraint.js';
import type { StoreContext } from './context.js';
import type { Row, Tx } from './engine.js';

/**
 * Lock order, the same everywhere: user rows (ascending id), then folder rows (ascending id).
 * Every operation that changes a user's messages, quota counters or blobs takes the user row
 * first, so they run one at a time per user on PostgreSQL (SQLite's write transaction is exclusive
 * anyway). Flag changes take only the folder row.
 */
export async function lockUsers(
  ctx: StoreContext,
  tx: Tx,
  ids: readonly number[],
): Promise<Map<number, Row>> {
  const d = ctx.engine.dialect;
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const rows = await tx.all(
    `SELECT id, quota_bytes, quota_messages, used_bytes, used_messages FROM users WHERE id IN (${d.intValues}) ORDER BY id${d.forUpdate}`,
    [d.intArray(sorted)],
  );
  const out = new Map<number, Row>();
  for (const r of rows) out.set(Number(r.id), r);
  for (const id of sorted) if (!out.has(id)) notFound('user', { userId: id });
  return out;
}

export async function lockFolders(
  ctx: StoreContext,
  tx: Tx,
  ids: readonly number[],
): Promise<Map<number, Row>> {
  const d = ctx.engine.dialect;
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const rows = await tx.all(`SELECT * FROM folders WHERE id IN (${d.intValues}) ORDER BY id${d.forUpdate}`, [
    d.intArray(sorted),
  ]);
  const out = new Map<number, Row>();
  for (const r of rows) out.set(Number(r.id), r);
  for (const id of sorted) if (!out.has(id)) notFound('folder', { folderId: id });
  return out;
}

/** The owners of folders (a folder never changes owner, so no lock is needed to read it). */
export async function folderOwners(
  ctx: StoreContext,
  tx: Tx,
  folderIds: readonly number[],
): Promise<Map<number, number>> {
  const d = ctx.engine.dialect;
  const rows = await tx.all(`SELECT id, user_id FROM folders WHERE id IN (${d.intValues})`, [
    d.intArray([...new Set(folderIds)]),
  ]);
  const out = new Map<number, number>();
  for (const r of rows) out.set(Number(r.id), Number(r.user_id));
  for (const id of folderIds) if (!out.has(id)) notFound('folder', { folderId: id });
  return out;
}

/** Owner lock then folder lock for operations on folders of one user. */
export async function lockUserOfFolders(
  ctx: StoreContext,
  tx: Tx,
  folderIds: readonly number[],
): Promise<{ userId: number; user: Row; folders: Map<number, Row> }> {
  const owners = await folderOwners(ctx, tx, folderIds);
  const userIds = [...new Set(owners.values())];
  if (userIds.length !== 1) {
    throw new DimeError('BAD_PARAMETER', 'folders belong to different users');
  }
  const userId = userIds[0]!;
  const users = await lockUsers(ctx, tx, [userId]);
  const folders = await lockFolders(ctx, tx, folderIds);
  return { userId, user: users.get(userId)!, folders };
}

/** Writes back the quota counters of a locked user. */
export async function addUsage(tx: Tx, userId: number, bytes: number, messages: number): Promise<void> {
  if (bytes === 0 && messages === 0) return;
  await tx.run(
    'UPDATE users SET used_bytes = used_bytes + ?, used_messages = used_messages + ? WHERE id = ?',
    [bytes, messages, userId],
  );
}
