import { beforeEach, describe, expect, it } from 'vitest';
import type { MailStore } from '../../../src/store/mail-store.js';
import { exponentialBackoff } from '../../../src/store/queue-policy.js';
import type { HarnessFactory, StoreHarness } from '../harness.js';
import { useStore } from './context.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const MIN = 60_000;

export function queueTests(factory: HarnessFactory): void {
  describe('outbound queue', () => {
    const policy = exponentialBackoff({
      initialMs: MIN,
      factor: 2,
      maxMs: 8 * MIN,
      maxAttempts: 5,
      maxAgeMs: 60 * MIN,
    });
    const c = useStore(factory, { policy });
    let h: StoreHarness;
    let store: MailStore;
    beforeEach(() => {
      h = c.h;
      store = c.store;
    });

    it('enqueues durably and leases only due items, oldest first', async () => {
      const a = await store.enqueue({ envelope: bytes('env-a'), blob: bytes('blob-a') });
      h.clock.advance(1);
      const b = await store.enqueue({ envelope: bytes('env-b'), blob: bytes('blob-b') });
      await store.enqueue({
        envelope: bytes('env-c'),
        blob: bytes('c'),
        nextAttemptAt: h.clock.now + 10 * MIN,
      });
      expect(a.state).toBe('ready');
      expect(a.attempts).toBe(0);
      expect(a.size).toBe(6);
      expect(Buffer.from(a.envelope).toString()).toBe('env-a');
      expect(Buffer.from((await store.readQueueBlob(b.id))!).toString()).toBe('blob-b');
      const got = await store.claim({ worker: 'w1', leaseMs: MIN, limit: 10 });
      expect(got.map((i) => i.id)).toEqual([a.id, b.id]);
      expect(got[0]).toMatchObject({
        state: 'leased',
        leaseOwner: 'w1',
        attempts: 1,
        leaseUntil: h.clock.now + MIN,
      });
      expect(await store.claim({ worker: 'w2', leaseMs: MIN, limit: 10 })).toEqual([]);
      expect((await store.listQueue('leased')).length).toBe(2);
      expect((await store.listQueue('ready')).length).toBe(1);
      expect(await store.complete(a.id, 'w2')).toBe(false);
      expect(await store.complete(a.id, 'w1')).toBe(true);
      expect(await store.getQueueItem(a.id)).toBeNull();
      expect(await store.readQueueBlob(a.id)).toBeNull();
    });

    it('never gives one item to two workers claiming at once', async () => {
      const other = await h.open({ policy });
      const n = 30;
      for (let i = 0; i < n; i++) await store.enqueue({ envelope: bytes(`e${i}`), blob: bytes(`b${i}`) });
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? store : other).claim({ worker: `w${i}`, leaseMs: MIN, limit: 4 }),
        ),
      );
      const ids = claims.flat().map((x) => x.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(n);
      for (const [i, list] of claims.entries())
        for (const item of list) expect(item.leaseOwner).toBe(`w${i}`);
    });

    it('backs off exponentially on temporary failures, then gives up (dead)', async () => {
      const item = await store.enqueue({ envelope: bytes('e'), blob: bytes('b') });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 5; attempt++) {
        const [c] = await store.claim({ worker: 'w', leaseMs: MIN });
        expect(c?.attempts).toBe(attempt);
        const r = (await store.retry(item.id, 'w', `451 4.4.1 try ${attempt}`))!;
        if (attempt < 5) {
          expect(r.state).toBe('ready');
          delays.push(r.nextAttemptAt - h.clock.now);
          // not due before its time
          h.clock.advance(r.nextAttemptAt - h.clock.now - 1);
          expect(await store.claim({ worker: 'w', leaseMs: MIN })).toEqual([]);
          h.clock.advance(1);
        } else {
          expect(r.state).toBe('dead');
          expect(r.lastError).toBe('451 4.4.1 try 5');
        }
      }
      expect(delays).toEqual([1, 2, 4, 8].map((m) => m * MIN));
      h.clock.advance(24 * 60 * MIN);
      expect(await store.claim({ worker: 'w', leaseMs: MIN })).toEqual([]);
      expect((await store.listQueue('dead')).map((x) => x.id)).toEqual([item.id]);
      expect(await store.removeQueueItem(item.id)).toBe(true);
    });

    it('expedites ready items (one or all) to now; leased and dead items stay as they are', async () => {
      const a = await store.enqueue({
        envelope: bytes('a'),
        blob: bytes('a'),
        nextAttemptAt: h.clock.now + 30 * MIN,
      });
      const b = await store.enqueue({
        envelope: bytes('b'),
        blob: bytes('b'),
        nextAttemptAt: h.clock.now + 40 * MIN,
      });
      const leased = await store.enqueue({ envelope: bytes('c'), blob: bytes('c') });
      expect((await store.claim({ worker: 'w', leaseMs: MIN })).map((x) => x.id)).toEqual([leased.id]);
      expect(await store.expediteQueue('no-such-id')).toBe(0);
      expect(await store.expediteQueue(a.id)).toBe(1);
      expect((await store.getQueueItem(a.id))!.nextAttemptAt).toBe(h.clock.now);
      expect((await store.getQueueItem(b.id))!.nextAttemptAt).toBe(h.clock.now + 40 * MIN);
      expect((await store.claim({ worker: 'w', leaseMs: MIN })).map((x) => x.id)).toEqual([a.id]);
      expect(await store.expediteQueue()).toBe(1);
      expect((await store.getQueueItem(leased.id))!.state).toBe('leased');
      expect((await store.claim({ worker: 'w', leaseMs: MIN })).map((x) => x.id)).toEqual([b.id]);
      expect(await store.expediteQueue()).toBe(0);
    });

    it('gives up when the next attempt would be past the maximum age', async () => {
      const item = await store.enqueue({ envelope: bytes('e'), blob: bytes('b') });
      h.clock.advance(59 * MIN + 1);
      await store.claim({ worker: 'w', leaseMs: MIN });
      expect((await store.retry(item.id, 'w', '421 busy'))!.state).toBe('dead');
    });

    it('re-leases an item whose worker died; the late worker can no longer finish it', async () => {
      const item = await store.enqueue({ envelope: bytes('e'), blob: bytes('b') });
      await store.claim({ worker: 'dead-worker', leaseMs: MIN });
      h.clock.advance(MIN - 1);
      expect(await store.claim({ worker: 'w2', leaseMs: MIN })).toEqual([]);
      h.clock.advance(1);
      const [again] = await store.claim({ worker: 'w2', leaseMs: MIN });
      expect(again).toMatchObject({ id: item.id, leaseOwner: 'w2', attempts: 2 });
      expect(await store.complete(item.id, 'dead-worker')).toBe(false);
      expect(await store.retry(item.id, 'dead-worker', 'x')).toBeNull();
      expect(await store.fail(item.id, 'dead-worker', 'x')).toBeNull();
      expect(await store.release(item.id, 'w2')).toBe(true);
      const released = (await store.getQueueItem(item.id))!;
      expect(released).toMatchObject({ state: 'ready', attempts: 1, leaseOwner: null });
      await store.claim({ worker: 'w3', leaseMs: MIN });
      const failed = (await store.fail(item.id, 'w3', '550 5.1.1 no such user'))!;
      expect(failed.state).toBe('dead');
      expect(await store.complete(item.id, 'w3')).toBe(false);
    });

    it('keeps the queue across re-opening the store', async () => {
      const item = await store.enqueue({ envelope: bytes('e'), blob: new Uint8Array(5000).fill(7) });
      await store.close();
      const again = await h.open({ policy });
      const [c] = await again.claim({ worker: 'w', leaseMs: MIN });
      expect(c?.id).toBe(item.id);
      expect((await again.readQueueBlob(item.id))!.length).toBe(5000);
    });
  });
}
