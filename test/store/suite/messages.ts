import { describe, expect, it } from 'vitest';
import { crypto } from '../../../src/crypto/index.js';
import { codeOf, message, seedUser } from '../fixtures/seed.js';
import type { HarnessFactory } from '../harness.js';
import { useStore } from './context.js';

const blobCount = async (q: (sql: string) => Promise<Record<string, unknown>[]>) =>
  Number((await q('SELECT COUNT(*) AS n FROM blobs'))[0]!.n);

export function messageTests(factory: HarnessFactory): void {
  describe('messages', () => {
    const c = useStore(factory);

    it('appends: UIDs and modseqs increase, blob and metadata come back as stored', async () => {
      const { user, inbox } = await seedUser(c.store, c.domain, 'alice');
      const blob = crypto().randomBytes(3000);
      const trace = new TextEncoder().encode('mx.origin.example 2025-01-01T00:00:00Z received\r\n');
      const a = await c.store.appendMessage(inbox, {
        blob,
        flags: ['\\Seen', '$Forwarded', '\\Recent'],
        internalDate: 1_700_000_000_000,
        metadata: {
          kind: 'dime',
          originDomain: 'origin.example',
          originFingerprint: 'abc+/=',
          transactionId: 'T1',
          verification: 'pass',
          trace,
          plainSize: 2900,
        },
      });
      const b = await c.store.appendMessage(inbox, message(10, { metadata: { kind: 'sealed' } }));
      expect(a.uid).toBe(1);
      expect(b.uid).toBe(2);
      expect(b.modseq).toBeGreaterThan(a.modseq);
      const folder = (await c.store.getFolderById(inbox))!;
      expect(a.uidValidity).toBe(folder.uidValidity);
      expect(folder.uidNext).toBe(3);
      expect(folder.highestModseq).toBe(b.modseq);
      const info = (await c.store.getMessage(inbox, 1))!;
      expect(info.flags).toEqual(['\\Seen', '$Forwarded']);
      expect(info.internalDate).toBe(1_700_000_000_000);
      expect(info.size).toBe(3000);
      expect(info.metadata).toEqual({
        kind: 'dime',
        originDomain: 'origin.example',
        originFingerprint: 'abc+/=',
        transactionId: 'T1',
        verification: 'pass',
        trace: expect.any(Uint8Array),
        plainSize: 2900,
      });
      expect(Buffer.from(info.metadata.trace!)).toEqual(Buffer.from(trace));
      expect((await c.store.getMessage(inbox, 2))!.internalDate).toBe(c.h.clock.now);
      expect(Buffer.from((await c.store.readBlob(inbox, 1))!)).toEqual(Buffer.from(blob));
      expect(await c.store.readBlob(inbox, 3)).toBeNull();
      expect(await c.store.usage(user.id)).toEqual({
        bytes: 3010,
        messages: 2,
        quota: { bytes: null, messages: null },
      });
      expect(await codeOf(c.store.appendMessage(inbox + 1000, message(5)))).toBe('NOT_FOUND');
      expect(await codeOf(() => c.store.appendMessage(inbox, message(5, { flags: ['\\Bogus'] })))).toBe(
        'BAD_INPUT',
      );
    });

    it('lists by UID range, CHANGEDSINCE and limit', async () => {
      const { inbox } = await seedUser(c.store, c.domain, 'alice');
      for (let i = 0; i < 6; i++) await c.store.appendMessage(inbox, message(10));
      expect((await c.store.listMessages(inbox)).map((m) => m.uid)).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await c.store.listMessages(inbox, { fromUid: 2, toUid: 4 })).map((m) => m.uid)).toEqual([
        2, 3, 4,
      ]);
      expect((await c.store.listMessages(inbox, { fromUid: 3, limit: 2 })).map((m) => m.uid)).toEqual([3, 4]);
      const m4 = (await c.store.getMessage(inbox, 4))!;
      expect((await c.store.listMessages(inbox, { changedSince: m4.modseq })).map((m) => m.uid)).toEqual([
        5, 6,
      ]);
    });

    it('group-commits a batch over several users with per-item outcomes (dedup keys, quota)', async () => {
      const alice = await seedUser(c.store, c.domain, 'alice');
      const bob = await seedUser(c.store, c.domain, 'bob', { quota: { messages: 1 } });
      const k1 = crypto().randomBytes(32);
      const k2 = crypto().randomBytes(32);
      const out = await c.store.appendMessages([
        { folderId: alice.inbox, message: message(10), dedupKey: k1 },
        { folderId: bob.inbox, message: message(10), dedupKey: k2 },
        { folderId: alice.inbox, message: message(10), dedupKey: k1 },
        { folderId: bob.inbox, message: message(10), dedupKey: crypto().randomBytes(32) },
        { folderId: alice.inbox, message: message(10) },
      ]);
      expect(out.map((o) => o.status)).toEqual(['stored', 'stored', 'duplicate', 'over_quota', 'stored']);
      expect(out.map((o) => (o.status === 'stored' ? o.uid : 0))).toEqual([1, 1, 0, 0, 2]);
      // the same transaction id again later: still a duplicate; an over-quota item left no key behind
      const again = await c.store.appendMessages([
        { folderId: alice.inbox, message: message(10), dedupKey: k1 },
      ]);
      expect(again[0]!.status).toBe('duplicate');
      expect((await c.store.usage(alice.user.id)).messages).toBe(2);
      expect((await c.store.usage(bob.user.id)).messages).toBe(1);
      c.h.clock.advance(1000);
      expect(await c.store.purgeDedupKeys(c.h.clock.now)).toBe(2);
      const after = await c.store.appendMessages([
        { folderId: alice.inbox, message: message(10), dedupKey: k1 },
      ]);
      expect(after[0]!.status).toBe('stored');
      expect(await codeOf(c.store.appendMessages([{ folderId: 99999, message: message(1) }]))).toBe(
        'NOT_FOUND',
      );
    });

    it('keeps UIDs unique and increasing under concurrent appends from two store instances', async () => {
      const { inbox, user } = await seedUser(c.store, c.domain, 'alice');
      const other = await c.h.open();
      const n = 24;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 === 0 ? c.store : other).appendMessage(inbox, message(new Uint8Array(20).fill(i))),
        ),
      );
      const uids = results.map((r) => r.uid).sort((a, b) => a - b);
      expect(uids).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(new Set(results.map((r) => r.modseq)).size).toBe(n);
      const listed = await c.store.listMessages(inbox);
      expect(listed.map((m) => m.uid)).toEqual(uids);
      // each UID's blob is the one its append stored
      for (const [i, r] of results.entries()) {
        expect((await other.readBlob(inbox, r.uid))![0]).toBe(i);
      }
      expect((await c.store.getFolderById(inbox))!.uidNext).toBe(n + 1);
      expect((await c.store.usage(user.id)).messages).toBe(n);
    });

    it('sets flags with one modseq per STORE and honours UNCHANGEDSINCE', async () => {
      const { inbox } = await seedUser(c.store, c.domain, 'alice');
      for (let i = 0; i < 4; i++) await c.store.appendMessage(inbox, message(10));
      const before = (await c.store.getFolderById(inbox))!.highestModseq;
      const r1 = await c.store.setFlags(inbox, [1, 2, 3, 99], 'add', ['\\Seen', 'Work']);
      expect(r1.changed.map((x) => x.uid)).toEqual([1, 2, 3]);
      expect(new Set(r1.changed.map((x) => x.modseq))).toEqual(new Set([before + 1]));
      expect(r1.changed[0]!.flags).toEqual(['\\Seen', 'Work']);
      // no change → no new modseq
      const r2 = await c.store.setFlags(inbox, [1], 'add', ['\\seen', 'work']);
      expect(r2.changed).toEqual([]);
      expect((await c.store.getFolderById(inbox))!.highestModseq).toBe(before + 1);
      const r3 = await c.store.setFlags(inbox, [2], 'remove', ['work']);
      expect(r3.changed[0]!.flags).toEqual(['\\Seen']);
      const r4 = await c.store.setFlags(inbox, [1, 2, 3, 4], 'replace', ['\\Flagged'], {
        unchangedSince: before + 1,
      });
      expect(r4.modified).toEqual([2]);
      expect(r4.changed.map((x) => x.uid)).toEqual([1, 3, 4]);
      expect((await c.store.getMessage(inbox, 2))!.flags).toEqual(['\\Seen']);
      expect((await c.store.listMessages(inbox, { changedSince: before + 2 })).map((m) => m.uid)).toEqual([
        1, 3, 4,
      ]);
    });

    it('expunges \\Deleted messages (all or UID EXPUNGE), reports VANISHED, frees quota and blobs', async () => {
      const { inbox, user } = await seedUser(c.store, c.domain, 'alice');
      for (let i = 0; i < 5; i++) await c.store.appendMessage(inbox, message(100));
      const modseq0 = (await c.store.getFolderById(inbox))!.highestModseq;
      await c.store.setFlags(inbox, [1, 2, 4], 'add', ['\\Deleted']);
      expect(await c.store.expunge(inbox, { uids: [2, 3, 4] })).toEqual([2, 4]);
      expect((await c.store.listMessages(inbox)).map((m) => m.uid)).toEqual([1, 3, 5]);
      expect(await c.store.expunge(inbox)).toEqual([1]);
      expect(await c.store.expunge(inbox)).toEqual([]);
      expect(await c.store.vanishedSince(inbox, modseq0)).toEqual([1, 2, 4]);
      const m = (await c.store.getFolderById(inbox))!.highestModseq;
      expect(await c.store.vanishedSince(inbox, m - 1)).toEqual([1]);
      expect(await c.store.usage(user.id)).toMatchObject({ bytes: 200, messages: 2 });
      expect(await blobCount(c.h.query)).toBe(2);
      // POP3 DELE / server-side removal without \Deleted
      expect(await c.store.expunge(inbox, { uids: [3], requireDeleted: false })).toEqual([3]);
      expect(await codeOf(() => c.store.expunge(inbox, { requireDeleted: false }))).toBe('BAD_PARAMETER');
      expect((await c.store.getFolderById(inbox))!.uidNext).toBe(6);
    });

    it('copies (shared blob, flags kept, quota counted) and moves (atomic, quota unchanged)', async () => {
      const { inbox, user } = await seedUser(c.store, c.domain, 'alice');
      const archive = (await c.store.getFolder(user.id, 'Archive'))!;
      const trash = (await c.store.getFolder(user.id, 'Trash'))!;
      for (let i = 0; i < 3; i++)
        await c.store.appendMessage(inbox, message(new Uint8Array(100).fill(i + 1)));
      await c.store.setFlags(inbox, [2], 'add', ['\\Flagged', 'Todo']);
      const copy = await c.store.copyMessages(inbox, [2, 3, 42], archive.id);
      expect(copy.uidValidity).toBe(archive.uidValidity);
      expect(copy.mapping).toEqual([
        [2, 1],
        [3, 2],
      ]);
      expect((await c.store.getMessage(archive.id, 1))!.flags).toEqual(['\\Flagged', 'Todo']);
      expect(await blobCount(c.h.query)).toBe(3);
      expect((await c.store.usage(user.id)).messages).toBe(5);
      // the original goes, the copy stays readable
      await c.store.expunge(inbox, { uids: [2], requireDeleted: false });
      expect((await c.store.readBlob(archive.id, 1))![0]).toBe(2);
      expect(await blobCount(c.h.query)).toBe(3);

      const mod = (await c.store.getFolderById(inbox))!.highestModseq;
      const move = await c.store.moveMessages(inbox, [1, 3], trash.id);
      expect(move.mapping).toEqual([
        [1, 1],
        [3, 2],
      ]);
      expect(await c.store.listMessages(inbox)).toEqual([]);
      expect(await c.store.vanishedSince(inbox, mod)).toEqual([1, 3]);
      expect((await c.store.readBlob(trash.id, 2))![0]).toBe(3);
      expect((await c.store.usage(user.id)).messages).toBe(4);
      expect(await blobCount(c.h.query)).toBe(3);
      expect(await codeOf(() => c.store.moveMessages(trash.id, [1], trash.id))).toBe('BAD_PARAMETER');
      const bob = await seedUser(c.store, c.domain, 'bob');
      expect(await codeOf(c.store.copyMessages(trash.id, [1], bob.inbox))).toBe('BAD_PARAMETER');
    });

    it('enforces byte and message quotas on append and copy', async () => {
      const { inbox, user } = await seedUser(c.store, c.domain, 'alice', {
        quota: { bytes: 250, messages: 3 },
      });
      const archive = (await c.store.getFolder(user.id, 'Archive'))!;
      await c.store.appendMessage(inbox, message(100));
      await c.store.appendMessage(inbox, message(100));
      expect(await codeOf(c.store.appendMessage(inbox, message(51)))).toBe('QUOTA_EXCEEDED');
      await c.store.appendMessage(inbox, message(50));
      expect(await codeOf(c.store.appendMessage(inbox, message(1)))).toBe('QUOTA_EXCEEDED');
      expect(await codeOf(c.store.copyMessages(inbox, [1], archive.id))).toBe('QUOTA_EXCEEDED');
      expect(await c.store.listMessages(archive.id)).toEqual([]);
      // MOVE needs no room
      await c.store.moveMessages(inbox, [1], archive.id);
      await c.store.expunge(archive.id, { uids: [1], requireDeleted: false });
      expect(await c.store.usage(user.id)).toMatchObject({ bytes: 150, messages: 2 });
      await c.store.appendMessage(inbox, message(100));
      await c.store.setUserQuota(user.id, { bytes: null, messages: null });
      await c.store.appendMessage(inbox, message(1000));
      expect((await c.store.usage(user.id)).bytes).toBe(1250);
    });

    it('deleting a folder frees its messages, blobs and quota', async () => {
      const { inbox, user } = await seedUser(c.store, c.domain, 'alice');
      const archive = (await c.store.getFolder(user.id, 'Archive'))!;
      await c.store.appendMessage(archive.id, message(100));
      await c.store.appendMessage(archive.id, message(100));
      await c.store.copyMessages(archive.id, [1], inbox);
      await c.store.deleteFolder(archive.id);
      expect(await c.store.usage(user.id)).toMatchObject({ bytes: 100, messages: 1 });
      expect(await blobCount(c.h.query)).toBe(1);
      expect(await c.store.readBlob(inbox, 1)).not.toBeNull();
    });

    it('stores a large blob (8 MiB) intact', async () => {
      const { inbox } = await seedUser(c.store, c.domain, 'alice');
      const big = new Uint8Array(8 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 997) big[i] = (i * 7) & 0xff;
      const r = await c.store.appendMessage(inbox, message(big));
      const back = (await c.store.readBlob(inbox, r.uid))!;
      expect(back.length).toBe(big.length);
      expect(Buffer.compare(Buffer.from(back), Buffer.from(big))).toBe(0);
    });
  });
}
