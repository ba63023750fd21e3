import { FLAG_SEEN } from '../flags.js';
import type { Folder, FolderSummary } from '../types.js';
import { folderName } from '../validate.js';
import { dropFolderMessages } from './blobs.js';
import { notFound, rethrowConstraint } from './constraint.js';
import type { StoreContext } from './context.js';
import type { Tx } from './engine.js';
import { addUsage, lockUserOfFolders } from './locks.js';
import { toFolder } from './rows.js';

/**
 * UIDVALIDITY comes from a database-wide counter, so a folder deleted and created again under the
 * same name never reuses one (RFC 3501 §2.3.1.1).
 */
async function nextUidValidity(tx: Tx): Promise<number> {
  const r = await tx.get("UPDATE counters SET value = value + 1 WHERE name = 'uidvalidity' RETURNING value");
  return Number(r!.value);
}

export async function insertFolder(
  ctx: StoreContext,
  tx: Tx,
  userId: number,
  name: string,
  subscribed: boolean,
): Promise<Folder> {
  const n = folderName(name);
  const uidValidity = await nextUidValidity(tx);
  try {
    const r = await tx.get(
      'INSERT INTO folders (user_id, name, uidvalidity, uidnext, highest_modseq, subscribed, created_at) VALUES (?, ?, ?, 1, 1, ?, ?) RETURNING *',
      [userId, n, uidValidity, subscribed ? 1 : 0, ctx.clock()],
    );
    return toFolder(r!);
  } catch (e) {
    rethrowConstraint(ctx.engine.dialect, e, `folder ${n} already exists (or the user does not)`);
  }
}

export function createFolder(
  ctx: StoreContext,
  userId: number,
  name: string,
  options: { subscribed?: boolean } = {},
): Promise<Folder> {
  return ctx.engine.transaction((tx) => insertFolder(ctx, tx, userId, name, options.subscribed ?? true));
}

export async function folderById(tx: Tx, id: number): Promise<Folder | null> {
  const r = await tx.get('SELECT * FROM folders WHERE id = ?', [id]);
  return r ? toFolder(r) : null;
}

export function getFolder(ctx: StoreContext, userId: number, name: string): Promise<Folder | null> {
  const n = folderName(name);
  return ctx.engine.read(async (tx) => {
    const r = await tx.get('SELECT * FROM folders WHERE user_id = ? AND name = ?', [userId, n]);
    return r ? toFolder(r) : null;
  });
}

export function getFolderById(ctx: StoreContext, id: number): Promise<Folder | null> {
  return ctx.engine.read((tx) => folderById(tx, id));
}

export function listFolders(ctx: StoreContext, userId: number): Promise<Folder[]> {
  return ctx.engine.read(async (tx) =>
    (await tx.all('SELECT * FROM folders WHERE user_id = ? ORDER BY name', [userId])).map(toFolder),
  );
}

export function summarizeFolders(ctx: StoreContext, userId: number): Promise<FolderSummary[]> {
  return ctx.engine.read(async (tx) => {
    const rows = await tx.all(
      `SELECT f.*, COUNT(m.uid) AS n, COALESCE(SUM(m.size), 0) AS bytes,
              COALESCE(SUM(CASE WHEN (m.system_flags & ${FLAG_SEEN}) = 0 THEN 1 ELSE 0 END), 0) AS unseen
       FROM folders f LEFT JOIN messages m ON m.folder_id = f.id
       WHERE f.user_id = ? GROUP BY f.id ORDER BY f.name`,
      [userId],
    );
    return rows.map((r) => ({
      folder: toFolder(r),
      messages: Number(r.n),
      bytes: Number(r.bytes),
      unseen: Number(r.unseen),
    }));
  });
}

export function renameFolder(ctx: StoreContext, folderId: number, newName: string): Promise<Folder> {
  const n = folderName(newName);
  return ctx.engine.transaction(async (tx) => {
    try {
      const r = await tx.get('UPDATE folders SET name = ? WHERE id = ? RETURNING *', [n, folderId]);
      return r ? toFolder(r) : notFound('folder', { folderId });
    } catch (e) {
      rethrowConstraint(ctx.engine.dialect, e, `folder ${n} already exists`);
    }
  });
}

export function setSubscribed(ctx: StoreContext, folderId: number, subscribed: boolean): Promise<Folder> {
  return ctx.engine.transaction(async (tx) => {
    const r = await tx.get('UPDATE folders SET subscribed = ? WHERE id = ? RETURNING *', [
      subscribed ? 1 : 0,
      folderId,
    ]);
    return r ? toFolder(r) : notFound('folder', { folderId });
  });
}

export function deleteFolder(ctx: StoreContext, folderId: number): Promise<void> {
  return ctx.engine.transaction(async (tx) => {
    const { userId } = await lockUserOfFolders(ctx, tx, [folderId]);
    const removed = await dropFolderMessages(tx, ctx.engine.dialect, [folderId]);
    await tx.run('DELETE FROM folders WHERE id = ?', [folderId]);
    await addUsage(tx, userId, -removed.bytes, -removed.messages);
  });
}
