import type { Dialect, Tx } from './engine.js';

/**
 * Message blobs live in their own table so that message rows stay small and COPY shares the bytes.
 * A blob is deleted with the last message that refers to it. Callers hold the owning user's row
 * lock (locks.ts), which serializes every operation that can add or drop a reference.
 */
export async function insertBlob(tx: Tx, data: Uint8Array): Promise<number> {
  const r = await tx.get('INSERT INTO blobs (size, data) VALUES (?, ?) RETURNING id', [data.length, data]);
  return Number(r!.id);
}

export async function deleteOrphanBlobs(tx: Tx, dialect: Dialect, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.run(
    `DELETE FROM blobs WHERE id IN (${dialect.intValues}) AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = blobs.id)`,
    [dialect.intArray(ids)],
  );
}

/** Deletes every message of the folders (not the folders), then their blobs; returns bytes and count removed. */
export async function dropFolderMessages(
  tx: Tx,
  dialect: Dialect,
  folderIds: readonly number[],
): Promise<{ bytes: number; messages: number }> {
  if (folderIds.length === 0) return { bytes: 0, messages: 0 };
  const arr = dialect.intArray(folderIds);
  const totals = await tx.get(
    `SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM messages WHERE folder_id IN (${dialect.intValues})`,
    [arr],
  );
  const blobRows = await tx.all(
    `SELECT DISTINCT blob_id FROM messages WHERE folder_id IN (${dialect.intValues})`,
    [arr],
  );
  await tx.run(`DELETE FROM messages WHERE folder_id IN (${dialect.intValues})`, [arr]);
  await deleteOrphanBlobs(
    tx,
    dialect,
    blobRows.map((r) => Number(r.blob_id)),
  );
  return { bytes: Number(totals?.bytes ?? 0), messages: Number(totals?.n ?? 0) };
}
