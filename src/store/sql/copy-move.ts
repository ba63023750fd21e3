import { DimeError } from '../../errors/index.js';
import type { CopyResult } from '../types.js';
import { uids as checkUids } from '../validate.js';
import { MAX_UID } from './append.js';
import type { StoreContext } from './context.js';
import { removeFromFolder } from './expunge.js';
import { addUsage, lockUserOfFolders } from './locks.js';

const COPIED =
  'system_flags, keywords, internal_date, size, blob_id, kind, origin_domain, origin_fingerprint, ' +
  'transaction_id, verification, trace, plain_size';

/**
 * COPY and MOVE between folders of one user, in one transaction. Copies share the source's blob.
 * COPY counts against the quota (all or nothing: QUOTA_EXCEEDED); MOVE does not change usage.
 */
export function copyOrMove(
  ctx: StoreContext,
  sourceId: number,
  uidList: readonly number[],
  targetId: number,
  move: boolean,
): Promise<CopyResult> {
  const uids = checkUids(uidList);
  if (move && sourceId === targetId)
    throw new DimeError('BAD_PARAMETER', 'cannot move messages into their own folder');
  const d = ctx.engine.dialect;
  return ctx.engine.transaction(async (tx) => {
    const { userId, user, folders } = await lockUserOfFolders(ctx, tx, [sourceId, targetId]);
    const target = folders.get(targetId)!;
    const uidValidity = Number(target.uidvalidity);
    if (uids.length === 0) return { uidValidity, mapping: [] };
    const rows = await tx.all(
      `SELECT uid, size FROM messages WHERE folder_id = ? AND uid IN (${d.intValues}) ORDER BY uid`,
      [sourceId, d.intArray(uids)],
    );
    if (rows.length === 0) return { uidValidity, mapping: [] };
    const bytes = rows.reduce((s, r) => s + Number(r.size), 0);
    if (!move) {
      const maxBytes = user.quota_bytes === null ? null : Number(user.quota_bytes);
      const maxMessages = user.quota_messages === null ? null : Number(user.quota_messages);
      if (
        (maxBytes !== null && Number(user.used_bytes) + bytes > maxBytes) ||
        (maxMessages !== null && Number(user.used_messages) + rows.length > maxMessages)
      ) {
        throw new DimeError('QUOTA_EXCEEDED', 'the copies do not fit the quota', { userId });
      }
    }
    let uidNext = Number(target.uidnext);
    if (uidNext + rows.length - 1 > MAX_UID) {
      throw new DimeError('STORE_FAILED', 'target folder has used every UID', { folderId: targetId });
    }
    const modseq = Number(target.highest_modseq) + 1;
    const mapping: Array<[number, number]> = [];
    for (const r of rows) {
      const uid = uidNext++;
      await tx.run(
        `INSERT INTO messages (folder_id, uid, modseq, ${COPIED})
         SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), ${COPIED} FROM messages WHERE folder_id = ? AND uid = ?`,
        [targetId, uid, modseq, sourceId, Number(r.uid)],
      );
      mapping.push([Number(r.uid), uid]);
    }
    await tx.run('UPDATE folders SET uidnext = ?, highest_modseq = ? WHERE id = ?', [
      uidNext,
      modseq,
      targetId,
    ]);
    if (move) {
      const sourceModseq = sourceId === targetId ? modseq : Number(folders.get(sourceId)!.highest_modseq);
      await removeFromFolder(
        ctx,
        tx,
        sourceId,
        sourceModseq,
        mapping.map((m) => m[0]),
      );
    } else {
      await addUsage(tx, userId, bytes, rows.length);
    }
    return { uidValidity, mapping };
  });
}
