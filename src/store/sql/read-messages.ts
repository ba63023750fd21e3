import type { ListOptions, MessageInfo } from '../types.js';
import { count } from '../validate.js';
import type { StoreContext } from './context.js';
import type { SqlValue } from './engine.js';
import { MESSAGE_COLUMNS, toMessage } from './rows.js';

export function getMessage(ctx: StoreContext, folderId: number, uid: number): Promise<MessageInfo | null> {
  return ctx.engine.read(async (tx) => {
    const r = await tx.get(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE folder_id = ? AND uid = ?`, [
      folderId,
      uid,
    ]);
    return r ? toMessage(r) : null;
  });
}

export function listMessages(
  ctx: StoreContext,
  folderId: number,
  o: ListOptions = {},
): Promise<MessageInfo[]> {
  const where = ['folder_id = ?'];
  const params: SqlValue[] = [folderId];
  if (o.fromUid !== undefined) {
    where.push('uid >= ?');
    params.push(count('fromUid', o.fromUid));
  }
  if (o.toUid !== undefined) {
    where.push('uid <= ?');
    params.push(count('toUid', o.toUid));
  }
  if (o.changedSince !== undefined) {
    where.push('modseq > ?');
    params.push(count('changedSince', o.changedSince));
  }
  let sql = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where.join(' AND ')} ORDER BY uid`;
  if (o.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(count('limit', o.limit));
  }
  return ctx.engine.read(async (tx) => (await tx.all(sql, params)).map(toMessage));
}

export function readBlob(ctx: StoreContext, folderId: number, uid: number): Promise<Uint8Array | null> {
  return ctx.engine.read(async (tx) => {
    const r = await tx.get(
      'SELECT b.data AS data FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.folder_id = ? AND m.uid = ?',
      [folderId, uid],
    );
    return r ? (r.data as Uint8Array) : null;
  });
}

export function vanishedSince(ctx: StoreContext, folderId: number, sinceModseq: number): Promise<number[]> {
  return ctx.engine.read(async (tx) =>
    (
      await tx.all('SELECT uid FROM expunged WHERE folder_id = ? AND modseq > ? ORDER BY uid', [
        folderId,
        count('modseq', sinceModseq),
      ])
    ).map((r) => Number(r.uid)),
  );
}
