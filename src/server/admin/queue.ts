/**
 * `dime admin queue`: the outbound queue as an operator sees it (mailq, postqueue -f, postsuper -d).
 * Envelopes are sealed to the spool key in the store, so listing opens them with the spool key
 * under the server passphrase; the message bytes are never opened here.
 */

import { DimeError } from '../../errors/index.js';
import type { QueueItem } from '../../store/types.js';
import { openEnvelope } from '../outbound/envelope.js';
import { SpoolKey } from '../spool.js';
import type { Admin } from './admin.js';

export interface QueueEntry {
  id: string;
  state: QueueItem['state'];
  /** dmtp (a DIME message) or smtp (legacy mail). */
  kind: 'dmtp' | 'smtp';
  recipient: string;
  domain: string;
  /** The local author (empty for a DSN or relayed mail). */
  author: string;
  size: number;
  attempts: number;
  created: string;
  next_attempt: string;
  last_error: string | null;
}

export async function listQueue(admin: Admin): Promise<{ items: QueueEntry[] }> {
  const items = await admin.store.listQueue();
  if (items.length === 0) return { items: [] };
  const spool = SpoolKey.load(admin.paths, admin.passphrase(), false);
  try {
    return {
      items: items.map((q) => {
        const env = openEnvelope(spool, q.envelope);
        return {
          id: q.id,
          state: q.state,
          kind: env.kind,
          recipient: env.recipient,
          domain: env.domain,
          author: env.author,
          size: q.size,
          attempts: q.attempts,
          created: new Date(q.createdAt).toISOString(),
          next_attempt: new Date(q.nextAttemptAt).toISOString(),
          last_error: q.lastError,
        };
      }),
    };
  } finally {
    spool.destroy();
  }
}

/** Ready items (one, or all) due now; the server's queue worker takes them at its next poll. */
export async function retryQueue(admin: Admin, id?: string): Promise<{ rescheduled: number }> {
  if (id !== undefined && !(await admin.store.getQueueItem(id))) {
    throw new DimeError('NOT_FOUND', `no queue item ${id}`);
  }
  return { rescheduled: await admin.store.expediteQueue(id) };
}

/** Drops an item without delivering or bouncing it (the author is not told). */
export async function removeQueueItem(admin: Admin, id: string): Promise<{ id: string; removed: true }> {
  const item = await admin.store.getQueueItem(id);
  if (!item) throw new DimeError('NOT_FOUND', `no queue item ${id}`);
  if (item.state === 'leased' && (item.leaseUntil ?? 0) > Date.now()) {
    throw new DimeError('CONFLICT', `queue item ${id} is being delivered right now; try again in a moment`);
  }
  await admin.store.removeQueueItem(id);
  return { id, removed: true };
}
