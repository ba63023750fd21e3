import { DimeError } from '../../errors/index.js';
import { FLAG_DELETED } from '../flags.js';
import { uids as checkUids } from '../validate.js';
import { deleteOrphanBlobs } from './blobs.js';
import type { StoreContext } from './context.js';
import type { SqlValue, Tx } from './engine.js';
import { addUsage, lockUserOfFolders } from './locks.js';

/** Deletes messages of a locked folder, records them as expunged at a new modseq; returns bytes/blob ids. */
export async function removeFromFolder(
  ctx: StoreContext,
  tx: Tx,
  folderId: number,
  highestModseq: number,
  uids: readonly number[],
): Promise<void> {
  const d = ctx.engine.dialect;
  const modseq = highestModseq + 1;
  await tx.run('UPDATE folders SET highest_modseq = ? WHERE id = ?', [modseq, folderId]);
  await tx.run(`DELETE FROM messages WHERE folder_id = ? AND uid IN (${d.intValues})`, [
    folderId,
    d.intArray(uids),
  ]);
  await tx.run(
    `INSERT INTO expunged (folder_id, uid, modseq) SELECT CAST(? AS BIGINT), value, CAST(? AS BIGINT) FROM (${d.intValues}) AS v`,
    [folderId, modseq, d.intArray(uids)],
  );
}

export function expunge(
  ctx: StoreContext,
  folderId: number,
  options: { uids?: readonly number[]; requireDeleted?: boolean } = {},
): Promise<number[]> {
  const requireDeleted = options.requireDeleted ?? true;
  const only = options.uids === undefined ? undefined : checkUids(options.uids);
  if (!requireDeleted && only === undefined) {
    throw new DimeError('BAD_PARAMETER', 'removing messages regardless of \\Deleted needs their UIDs');
  }
  const d = ctx.engine.dialect;
  return ctx.engine.transaction(async (tx) => {
    const { userId, folders } = await lockUserOfFolders(ctx, tx, [folderId]);
    if (only !== undefined && only.length === 0) return [];
    const where = ['folder_id = ?'];
    const params: SqlValue[] = [folderId];
    if (requireDeleted) where.push(`(system_flags & ${FLAG_DELETED}) <> 0`);
    if (only !== undefined) {
      where.push(`uid IN (${d.intValues})`);
      params.push(d.intArray(only));
    }
    const rows = await tx.all(
      `SELECT uid, size, blob_id FROM messages WHERE ${where.join(' AND ')} ORDER BY uid`,
      params,
    );
    if (rows.length === 0) return [];
    const uids = rows.map((r) => Number(r.uid));
    await removeFromFolder(ctx, tx, folderId, Number(folders.get(folderId)!.highest_modseq), uids);
    await deleteOrphanBlobs(
      tx,
      d,
      rows.map((r) => Number(r.blob_id)),
    );
    const bytes = rows.reduce((s, r) => s + Number(r.size), 0);
    await addUsage(tx, userId, -bytes, -rows.length);
    return uids;
  });
}
