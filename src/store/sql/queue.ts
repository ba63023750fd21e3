import { crypto } from '../../crypto/index.js';
import { DimeError } from '../../errors/index.js';
import { nextAttempt } from '../queue-policy.js';
import type { ClaimOptions, NewQueueItem, QueueItem, QueueState } from '../types.js';
import { count, positive } from '../validate.js';
import type { StoreContext } from './context.js';
import type { Tx } from './engine.js';
import { QUEUE_COLUMNS, toQueueItem } from './rows.js';

const MAX_ERROR = 1000;
const MAX_WORKER = 200;

function worker(w: string): string {
  if (w.length === 0 || w.length > MAX_WORKER) throw new DimeError('BAD_PARAMETER', 'bad worker id');
  return w;
}

function errorText(e: string): string {
  return e.length > MAX_ERROR ? e.slice(0, MAX_ERROR) : e;
}

async function itemById(tx: Tx, id: string): Promise<QueueItem | null> {
  const r = await tx.get(`SELECT ${QUEUE_COLUMNS} FROM queue WHERE id = ?`, [id]);
  return r ? toQueueItem(r) : null;
}

export function enqueue(ctx: StoreContext, item: NewQueueItem): Promise<QueueItem> {
  if (!(item.envelope instanceof Uint8Array) || !(item.blob instanceof Uint8Array)) {
    throw new DimeError('BAD_PARAMETER', 'envelope and blob are bytes');
  }
  const id = Buffer.from(crypto().randomBytes(16)).toString('hex');
  const now = ctx.clock();
  const due = count('nextAttemptAt', item.nextAttemptAt ?? now);
  return ctx.engine.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO queue (id, state, created_at, next_attempt_at, attempts, envelope, size, data)
       VALUES (?, 'ready', ?, ?, 0, ?, ?, ?)`,
      [id, now, due, item.envelope, item.blob.length, item.blob],
    );
    return (await itemById(tx, id))!;
  });
}

export function getQueueItem(ctx: StoreContext, id: string): Promise<QueueItem | null> {
  return ctx.engine.read((tx) => itemById(tx, id));
}

export function readQueueBlob(ctx: StoreContext, id: string): Promise<Uint8Array | null> {
  return ctx.engine.read(async (tx) => {
    const r = await tx.get('SELECT data FROM queue WHERE id = ?', [id]);
    return r ? (r.data as Uint8Array) : null;
  });
}

export function listQueue(ctx: StoreContext, state?: QueueState): Promise<QueueItem[]> {
  return ctx.engine.read(async (tx) => {
    const rows =
      state === undefined
        ? await tx.all(`SELECT ${QUEUE_COLUMNS} FROM queue ORDER BY next_attempt_at, id`)
        : await tx.all(`SELECT ${QUEUE_COLUMNS} FROM queue WHERE state = ? ORDER BY next_attempt_at, id`, [
            state,
          ]);
    return rows.map(toQueueItem);
  });
}

/**
 * Due items: ready and due, or leased with an expired lease (a worker that died). PostgreSQL
 * skips rows another claim has locked (FOR UPDATE SKIP LOCKED); SQLite's write transaction is
 * exclusive. Either way an item goes to one worker.
 */
export function claim(ctx: StoreContext, o: ClaimOptions): Promise<QueueItem[]> {
  const w = worker(o.worker);
  const lease = positive('leaseMs', o.leaseMs);
  const limit = positive('limit', o.limit ?? 1);
  const d = ctx.engine.dialect;
  return ctx.engine.transaction(async (tx) => {
    const now = ctx.clock();
    const due = await tx.all(
      `SELECT id FROM queue
       WHERE (state = 'ready' AND next_attempt_at <= ?) OR (state = 'leased' AND lease_until <= ?)
       ORDER BY next_attempt_at, id LIMIT ?${d.skipLocked}`,
      [now, now, limit],
    );
    const out: QueueItem[] = [];
    for (const r of due) {
      const row = await tx.get(
        `UPDATE queue SET state = 'leased', lease_owner = ?, lease_until = ?, attempts = attempts + 1
         WHERE id = ? RETURNING ${QUEUE_COLUMNS}`,
        [w, now + lease, String(r.id)],
      );
      if (row) out.push(toQueueItem(row));
    }
    return out;
  });
}

export function complete(ctx: StoreContext, id: string, w: string): Promise<boolean> {
  return ctx.engine.transaction(
    async (tx) =>
      (await tx.run("DELETE FROM queue WHERE id = ? AND state = 'leased' AND lease_owner = ?", [
        id,
        worker(w),
      ])) > 0,
  );
}

/** The item if `w` holds its lease, row-locked for the rest of the transaction. */
async function leased(ctx: StoreContext, tx: Tx, id: string, w: string): Promise<QueueItem | null> {
  const r = await tx.get(`SELECT ${QUEUE_COLUMNS} FROM queue WHERE id = ?${ctx.engine.dialect.forUpdate}`, [
    id,
  ]);
  const item = r ? toQueueItem(r) : null;
  return item && item.state === 'leased' && item.leaseOwner === w ? item : null;
}

export function retry(ctx: StoreContext, id: string, w: string, error: string): Promise<QueueItem | null> {
  worker(w);
  return ctx.engine.transaction(async (tx) => {
    const item = await leased(ctx, tx, id, w);
    if (!item) return null;
    const now = ctx.clock();
    const at = nextAttempt(ctx.policy, item, now);
    await tx.run(
      `UPDATE queue SET state = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
       WHERE id = ?`,
      [at === null ? 'dead' : 'ready', at ?? now, errorText(error), id],
    );
    return itemById(tx, id);
  });
}

export function fail(ctx: StoreContext, id: string, w: string, error: string): Promise<QueueItem | null> {
  worker(w);
  return ctx.engine.transaction(async (tx) => {
    if (!(await leased(ctx, tx, id, w))) return null;
    await tx.run(
      `UPDATE queue SET state = 'dead', last_error = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?`,
      [errorText(error), id],
    );
    return itemById(tx, id);
  });
}

export function release(ctx: StoreContext, id: string, w: string): Promise<boolean> {
  return ctx.engine.transaction(
    async (tx) =>
      (await tx.run(
        `UPDATE queue SET state = 'ready', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL
         WHERE id = ? AND state = 'leased' AND lease_owner = ?`,
        [id, worker(w)],
      )) > 0,
  );
}

/**
 * Makes ready items due now (an operator's "retry now"): one item, or every ready one. Leased and
 * dead items are left alone. Returns how many were rescheduled.
 */
export function expediteQueue(ctx: StoreContext, id?: string): Promise<number> {
  return ctx.engine.transaction(async (tx) => {
    const now = ctx.clock();
    return id === undefined
      ? tx.run("UPDATE queue SET next_attempt_at = ? WHERE state = 'ready' AND next_attempt_at > ?", [
          now,
          now,
        ])
      : tx.run(
          "UPDATE queue SET next_attempt_at = ? WHERE id = ? AND state = 'ready' AND next_attempt_at > ?",
          [now, id, now],
        );
  });
}

export function removeQueueItem(ctx: StoreContext, id: string): Promise<boolean> {
  return ctx.engine.transaction(async (tx) => (await tx.run('DELETE FROM queue WHERE id = ?', [id])) > 0);
}
