import { describe, expect, it } from 'vitest';
import { crypto } from '../../../src/crypto/index.js';
import { newMailRealm } from '../../../src/store/accounts/realm.js';
import { codeOf, message, seedUser } from '../fixtures/seed.js';
import type { HarnessFactory } from '../harness.js';
import { useStore } from './context.js';

export function directoryTests(factory: HarnessFactory): void {
  describe('domains', () => {
    const c = useStore(factory);

    it('adds, finds, updates and removes domains (names normalized)', async () => {
      expect(c.domain.name).toBe('example.org');
      expect(c.domain.orgKeyRef).toBeNull();
      expect((await c.store.getDomain('EXAMPLE.org'))?.id).toBe(c.domain.id);
      expect(await c.store.getDomain('other.org')).toBeNull();
      const signet = crypto().randomBytes(100);
      const d2 = await c.store.addDomain({
        name: 'second.example',
        orgKeyRef: 'keys/second.key',
        orgSignet: signet,
      });
      expect(d2.orgKeyRef).toBe('keys/second.key');
      expect(Buffer.from(d2.orgSignet!)).toEqual(Buffer.from(signet));
      const updated = await c.store.updateDomain(d2.id, { orgKeyRef: 'keys/rotated.key' });
      expect(updated.orgKeyRef).toBe('keys/rotated.key');
      expect(Buffer.from(updated.orgSignet!)).toEqual(Buffer.from(signet));
      expect((await c.store.listDomains()).map((d) => d.name)).toEqual(['example.org', 'second.example']);
      await c.store.removeDomain(d2.id);
      expect(await c.store.getDomainById(d2.id)).toBeNull();
      expect(await codeOf(c.store.removeDomain(d2.id))).toBe('NOT_FOUND');
    });

    it('refuses duplicates, bad names and removing a domain in use', async () => {
      expect(await codeOf(c.store.addDomain({ name: 'example.org' }))).toBe('CONFLICT');
      expect(await codeOf(() => c.store.addDomain({ name: 'bad domain' }))).toBe('BAD_PARAMETER');
      await seedUser(c.store, c.domain, 'alice');
      expect(await codeOf(c.store.removeDomain(c.domain.id))).toBe('CONFLICT');
    });
  });

  describe('users', () => {
    const c = useStore(factory);

    it('stores exactly the STACIE values of stacie.md §8 and reads them back', async () => {
      const salt = crypto().randomBytes(128);
      const verification = crypto().randomBytes(64);
      const realm = newMailRealm();
      const legacy = { label: 'legacy', serial: 3, shard: crypto().randomBytes(64), rotated: false };
      const key = crypto().randomBytes(118);
      const pub = crypto().secp256k1PublicKey(crypto().secp256k1GeneratePrivate());
      const u = await c.store.createUser({
        domainId: c.domain.id,
        username: 'alice',
        salt,
        bonus: 128,
        verification,
        mode: 'cautious',
        realms: [realm, legacy],
        encryptedKey: key,
        encryptionPublicKey: pub,
        quota: { bytes: 1000 },
      });
      const back = (await c.store.findUser(c.domain.id, 'alice'))!;
      expect(back.id).toBe(u.id);
      expect(Buffer.from(back.salt)).toEqual(Buffer.from(salt));
      expect(Buffer.from(back.verification)).toEqual(Buffer.from(verification));
      expect(back.bonus).toBe(128);
      expect(back.mode).toBe('cautious');
      expect(back.realms.map((r) => [r.label, r.serial, r.rotated])).toEqual([
        ['legacy', 3, false],
        ['mail', 0, true],
      ]);
      expect(Buffer.from(back.realms[1]!.shard)).toEqual(Buffer.from(realm.shard));
      expect(Buffer.from(back.encryptedKey!)).toEqual(Buffer.from(key));
      expect(Buffer.from(back.encryptionPublicKey!)).toEqual(Buffer.from(pub));
      expect(back.quota).toEqual({ bytes: 1000, messages: null });
      expect(back.disabled).toBe(false);
      expect(back.createdAt).toBe(c.h.clock.now);
      expect((await c.store.listFolders(u.id)).map((f) => f.name)).toEqual(['INBOX']);
      expect((await c.store.listUsers(c.domain.id)).map((x) => x.username)).toEqual(['alice']);
      expect(await c.store.getUser(u.id + 1000)).toBeNull();
    });

    it('checks values and refuses a second user of the same name', async () => {
      await seedUser(c.store, c.domain, 'alice');
      expect(await codeOf(seedUser(c.store, c.domain, 'alice'))).toBe('CONFLICT');
      const base = {
        domainId: c.domain.id,
        username: 'bob',
        salt: crypto().randomBytes(128),
        bonus: 0,
        verification: crypto().randomBytes(64),
        mode: 'trustful' as const,
        realms: [newMailRealm()],
      };
      expect(await codeOf(() => c.store.createUser({ ...base, salt: crypto().randomBytes(64) }))).toBe(
        'BAD_PARAMETER',
      );
      expect(await codeOf(() => c.store.createUser({ ...base, username: 'a b' }))).toBe('BAD_PARAMETER');
      expect(await codeOf(c.store.createUser({ ...base, domainId: c.domain.id + 99 }))).toBe('CONFLICT');
      expect(await c.store.findUser(c.domain.id, 'bob')).toBeNull();
    });

    it('replaces credentials only against the expected token', async () => {
      const { user } = await seedUser(c.store, c.domain, 'alice');
      const update = {
        expectedVerification: user.verification,
        salt: crypto().randomBytes(128),
        bonus: 7,
        verification: crypto().randomBytes(64),
        realms: [newMailRealm(1)],
        encryptedKey: crypto().randomBytes(118),
      };
      const after = await c.store.updateCredentials(user.id, update);
      expect(after.bonus).toBe(7);
      expect(after.keySerial).toBe(user.keySerial + 1);
      expect(Buffer.from(after.realms[0]!.shard)).toEqual(Buffer.from(update.realms[0]!.shard));
      expect(await codeOf(c.store.updateCredentials(user.id, update))).toBe('CONFLICT');
    });

    it('sets key, signet, quota and disabled flag; deletes a user with everything it owns', async () => {
      const { user, inbox } = await seedUser(c.store, c.domain, 'alice');
      const k = await c.store.setUserKey(user.id, crypto().randomBytes(118));
      expect(k.keySerial).toBe(user.keySerial + 1);
      const pub = crypto().secp256k1PublicKey(crypto().secp256k1GeneratePrivate());
      const s = await c.store.setUserSignet(user.id, crypto().randomBytes(200), pub);
      expect(s.keySerial).toBe(user.keySerial + 2);
      expect(Buffer.from(s.encryptionPublicKey!)).toEqual(Buffer.from(pub));
      expect((await c.store.setUserQuota(user.id, { bytes: 10, messages: 2 })).quota).toEqual({
        bytes: 10,
        messages: 2,
      });
      expect((await c.store.setUserDisabled(user.id, true)).disabled).toBe(true);
      await c.store.setUserQuota(user.id, { bytes: null, messages: null });
      await c.store.appendMessage(inbox, message(100));
      await c.store.addAlias(c.domain.id, 'al', user.id);
      await c.store.deleteUser(user.id);
      expect(await c.store.getUser(user.id)).toBeNull();
      expect(await c.store.resolveAddress('example.org', 'al')).toBeNull();
      for (const t of ['folders', 'messages', 'blobs', 'realms', 'aliases']) {
        expect(Number((await c.h.query(`SELECT COUNT(*) AS n FROM ${t}`))[0]!.n)).toBe(0);
      }
      expect(await codeOf(c.store.setUserDisabled(user.id, false))).toBe('NOT_FOUND');
    });
  });

  describe('aliases', () => {
    const c = useStore(factory);

    it('resolves usernames first, then aliases, across domains', async () => {
      const { user: alice } = await seedUser(c.store, c.domain, 'alice');
      const { user: bob } = await seedUser(c.store, c.domain, 'bob');
      const other = await c.store.addDomain({ name: 'other.example' });
      await c.store.addAlias(c.domain.id, 'postmaster', alice.id);
      await c.store.addAlias(other.id, 'bobby', bob.id);
      expect((await c.store.resolveAddress('example.org', 'alice'))?.id).toBe(alice.id);
      expect((await c.store.resolveAddress('EXAMPLE.org', 'postmaster'))?.id).toBe(alice.id);
      expect((await c.store.resolveAddress('other.example', 'bobby'))?.id).toBe(bob.id);
      expect(await c.store.resolveAddress('other.example', 'alice')).toBeNull();
      expect(await c.store.resolveAddress('nowhere.example', 'alice')).toBeNull();
      expect((await c.store.listAliases(alice.id)).map((a) => a.localPart)).toEqual(['postmaster']);
      expect(await codeOf(c.store.addAlias(c.domain.id, 'postmaster', bob.id))).toBe('CONFLICT');
      expect(await codeOf(c.store.addAlias(c.domain.id, 'bob', alice.id))).toBe('CONFLICT');
      expect(await c.store.removeAlias(c.domain.id, 'postmaster')).toBe(true);
      expect(await c.store.removeAlias(c.domain.id, 'postmaster')).toBe(false);
      expect(await c.store.resolveAddress('example.org', 'postmaster')).toBeNull();
    });
  });

  describe('folders', () => {
    const c = useStore(factory);

    it('creates, renames, subscribes and deletes; UIDVALIDITY is never reused', async () => {
      const { user } = await seedUser(c.store, c.domain, 'alice');
      const inbox = (await c.store.getFolder(user.id, 'inbox'))!;
      expect(inbox.name).toBe('INBOX');
      expect(inbox.uidNext).toBe(1);
      const work = await c.store.createFolder(user.id, 'Work/2025', { subscribed: false });
      expect(work.subscribed).toBe(false);
      expect(await codeOf(c.store.createFolder(user.id, 'Work/2025'))).toBe('CONFLICT');
      const renamed = await c.store.renameFolder(work.id, 'Work/Old');
      expect(renamed.uidValidity).toBe(work.uidValidity);
      expect(await codeOf(c.store.renameFolder(work.id, 'Archive'))).toBe('CONFLICT');
      expect((await c.store.setSubscribed(work.id, true)).subscribed).toBe(true);
      await c.store.deleteFolder(work.id);
      const again = await c.store.createFolder(user.id, 'Work/Old');
      expect(again.uidValidity).not.toBe(work.uidValidity);
      const all = await c.store.listFolders(user.id);
      expect(new Set(all.map((f) => f.uidValidity)).size).toBe(all.length);
      expect(await codeOf(c.store.deleteFolder(work.id))).toBe('NOT_FOUND');
      expect(await codeOf(() => c.store.createFolder(user.id, 'bad\nname'))).toBe('BAD_PARAMETER');
    });

    it('summarizes messages, bytes and unseen per folder', async () => {
      const { user, inbox } = await seedUser(c.store, c.domain, 'alice');
      await c.store.appendMessage(inbox, message(100));
      await c.store.appendMessage(inbox, message(50, { flags: ['\\Seen'] }));
      const sum = await c.store.summarizeFolders(user.id);
      expect(sum.map((s) => [s.folder.name, s.messages, s.bytes, s.unseen])).toEqual([
        ['Archive', 0, 0, 0],
        ['INBOX', 2, 150, 1],
        ['Trash', 0, 0, 0],
      ]);
    });
  });
}
