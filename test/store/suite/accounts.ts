import { describe, expect, it } from 'vitest';
import { crypto } from '../../../src/crypto/index.js';
import { openForUser, sealForUser } from '../../../src/crypto/sealed-box.js';
import { generateKeys, sealKeyObject, serializeKeys } from '../../../src/keys/index.js';
import { createOrgSignet, createSsr, parseUserSignet, signRequest } from '../../../src/signet/index.js';
import { deriveRealmKey, type StacieInput, stacieDerive } from '../../../src/stacie/index.js';
import {
  changePassword,
  createAccount,
  replaceCredentials,
  resetPassword,
  verifyLogin,
} from '../../../src/store/accounts/index.js';
import { mailRealmKey, newMailRealm } from '../../../src/store/accounts/realm.js';
import { codeOf } from '../fixtures/seed.js';
import type { HarnessFactory } from '../harness.js';
import { useStore } from './context.js';

// ≥ 23 characters: 8 STACIE rounds, so the suite stays fast (the rounds rule is tested in test/stacie)
const PW = 'correct horse battery staple';
const PW2 = 'another long passphrase, still fast';
const text = (s: string) => new TextEncoder().encode(s);

export function accountTests(factory: HarnessFactory): void {
  describe('accounts over the store', () => {
    const c = useStore(factory);

    it('creates a trustful account whose login opens the user key for the session only', async () => {
      const org = generateKeys('org');
      const orgSignet = createOrgSignet(org, { domain: 'example.org' });
      const user = await createAccount(c.store, {
        username: 'John.Smith@Example.ORG',
        password: PW,
        orgKeys: org,
      });
      expect(user.username).toBe('john_smith');
      expect(user.mode).toBe('trustful');
      expect(user.salt.length).toBe(128);
      expect(user.verification.length).toBe(64);
      expect(user.realms).toEqual([
        { label: 'mail', serial: 0, shard: expect.any(Uint8Array), rotated: true },
      ]);
      expect(user.encryptedKey![0]! * 256 + user.encryptedKey![1]!).toBe(1976);
      const signet = parseUserSignet(user.signet!);
      expect(Buffer.from(signet.encryptionKey)).toEqual(Buffer.from(user.encryptionPublicKey!));
      expect(signet.signingKey.length).toBe(32);
      expect(orgSignet.kind).toBe('org');
      expect((await c.store.listFolders(user.id)).map((f) => f.name).sort()).toEqual(
        ['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash'].sort(),
      );

      // mail arriving while offline is sealed to the public key …
      const inbox = (await c.store.getFolder(user.id, 'INBOX'))!;
      const mail = text('Subject: hello\r\n\r\nsecret body');
      await c.store.appendMessage(inbox.id, {
        blob: sealForUser(user.encryptionPublicKey!, mail),
        metadata: { kind: 'sealed', plainSize: mail.length },
      });
      // … and opened after login
      const session = await verifyLogin(c.store, 'john.smith+tag@example.org', PW);
      expect(session.user.id).toBe(user.id);
      expect(session.stacieUsername).toBe('john_smith@example.org');
      expect(Buffer.from(session.userKeys!.encryptionPublic)).toEqual(Buffer.from(user.encryptionPublicKey!));
      const opened = openForUser(session.userKeys!.encryptionPrivate, (await c.store.readBlob(inbox.id, 1))!);
      expect(Buffer.from(opened).toString()).toBe('Subject: hello\r\n\r\nsecret body');
      // the chain is STACIE's: master key → realm key (rotated form) → 1976
      const v = stacieDerive({ username: 'john_smith@example.org', password: PW, salt: user.salt, bonus: 0 });
      expect(Buffer.from(session.masterKey)).toEqual(Buffer.from(v.masterKey));
      expect(Buffer.from(session.realmKey)).toEqual(
        Buffer.from(
          deriveRealmKey(v.masterKey, 'mail', user.realms[0]!.shard, { rotated: true, salt: user.salt }),
        ),
      );
      session.destroy();
      expect(session.masterKey.every((b) => b === 0)).toBe(true);
      expect(session.realmKey.every((b) => b === 0)).toBe(true);
    });

    it('refuses wrong passwords, unknown users, short passwords and disabled accounts', async () => {
      const user = await createAccount(c.store, { username: 'alice', domain: 'example.org', password: PW });
      expect(await codeOf(verifyLogin(c.store, 'alice@example.org', PW2))).toBe('BAD_CREDENTIALS');
      expect(await codeOf(verifyLogin(c.store, 'nobody@example.org', PW))).toBe('BAD_CREDENTIALS');
      expect(await codeOf(verifyLogin(c.store, 'alice@unknown.example', PW))).toBe('BAD_CREDENTIALS');
      expect(await codeOf(verifyLogin(c.store, 'alice', PW))).toBe('BAD_CREDENTIALS');
      expect((await verifyLogin(c.store, 'alice', PW, { defaultDomain: 'example.org' })).user.id).toBe(
        user.id,
      );
      expect(await codeOf(verifyLogin(c.store, 'alice@example.org', 'short'))).toBe('BAD_CREDENTIALS');
      expect(await codeOf(createAccount(c.store, { username: 'bob@example.org', password: 'short' }))).toBe(
        'BAD_PASSWORD',
      );
      expect(await codeOf(createAccount(c.store, { username: 'bob@nowhere.example', password: PW }))).toBe(
        'NOT_FOUND',
      );
      expect(await codeOf(createAccount(c.store, { username: 'alice@example.org', password: PW }))).toBe(
        'CONFLICT',
      );
      await c.store.setUserDisabled(user.id, true);
      expect(await codeOf(verifyLogin(c.store, 'alice@example.org', PW))).toBe('ACCOUNT_DISABLED');
      expect(await codeOf(verifyLogin(c.store, 'alice@example.org', PW2))).toBe('BAD_CREDENTIALS');
    });

    it('runs STACIE through the injected deriver, for unknown users too', async () => {
      const calls: string[] = [];
      const derive = async (input: StacieInput) => {
        calls.push(String(input.username));
        await new Promise((r) => setTimeout(r, 1));
        return stacieDerive(input);
      };
      await createAccount(c.store, { username: 'alice@example.org', password: PW, derive });
      await verifyLogin(c.store, 'alice@example.org', PW, { derive });
      await codeOf(verifyLogin(c.store, 'ghost@example.org', PW, { derive }));
      expect(calls).toEqual(['alice@example.org', 'alice@example.org', 'ghost@example.org']);
    });

    it('changes the password by re-wrapping the same user key; mail stays readable', async () => {
      const user = await createAccount(c.store, { username: 'alice@example.org', password: PW });
      const inbox = (await c.store.getFolder(user.id, 'INBOX'))!;
      await c.store.appendMessage(inbox.id, {
        blob: sealForUser(user.encryptionPublicKey!, text('before the change')),
        metadata: { kind: 'sealed' },
      });
      const changed = await changePassword(c.store, 'alice@example.org', PW, PW2, { bonus: 3 });
      expect(changed.bonus).toBe(3);
      expect(Buffer.from(changed.salt)).not.toEqual(Buffer.from(user.salt));
      expect(Buffer.from(changed.encryptedKey!)).not.toEqual(Buffer.from(user.encryptedKey!));
      expect(Buffer.from(changed.encryptionPublicKey!)).toEqual(Buffer.from(user.encryptionPublicKey!));
      expect(changed.realms[0]!.serial).toBe(1);
      expect(await codeOf(verifyLogin(c.store, 'alice@example.org', PW))).toBe('BAD_CREDENTIALS');
      const s = await verifyLogin(c.store, 'alice@example.org', PW2);
      expect(
        Buffer.from(
          openForUser(s.userKeys!.encryptionPrivate, (await c.store.readBlob(inbox.id, 1))!),
        ).toString(),
      ).toBe('before the change');
      expect(await codeOf(changePassword(c.store, 'alice@example.org', PW, PW2))).toBe('BAD_CREDENTIALS');
      expect(await codeOf(changePassword(c.store, 'alice@example.org', PW2, 'short'))).toBe('BAD_PASSWORD');
    });

    it('resets a password without the old one: a new key, old mail unreadable with it', async () => {
      const org = generateKeys('org');
      const user = await createAccount(c.store, {
        username: 'alice@example.org',
        password: PW,
        orgKeys: org,
      });
      const reset = await resetPassword(c.store, user.id, { newPassword: PW2, orgKeys: org });
      expect(Buffer.from(reset.encryptionPublicKey!)).not.toEqual(Buffer.from(user.encryptionPublicKey!));
      expect(Buffer.from(parseUserSignet(reset.signet!).encryptionKey)).toEqual(
        Buffer.from(reset.encryptionPublicKey!),
      );
      const s = await verifyLogin(c.store, 'alice@example.org', PW2);
      expect(Buffer.from(s.userKeys!.encryptionPublic)).toEqual(Buffer.from(reset.encryptionPublicKey!));
    });

    it('cautious accounts keep the key closed on the server; paranoid accounts have none', async () => {
      const cautious = await createAccount(c.store, {
        username: 'carol@example.org',
        password: PW,
        mode: 'cautious',
      });
      expect(cautious.encryptedKey).not.toBeNull();
      const s = await verifyLogin(c.store, 'carol@example.org', PW);
      expect(s.userKeys).toBeNull();
      // the DMAP client opens it itself with the realm key it derives
      const v = stacieDerive({ username: 'carol@example.org', password: PW, salt: cautious.salt, bonus: 0 });
      const realmKey = mailRealmKey(v.masterKey, cautious);
      const { openUserKey } = await import('../../../src/store/accounts/user-key.js');
      expect(Buffer.from(openUserKey(cautious.encryptedKey!, realmKey).encryptionPublic)).toEqual(
        Buffer.from(cautious.encryptionPublicKey!),
      );

      const org = generateKeys('org');
      const own = generateKeys('user');
      const signet = signRequest(createSsr(own), org, { address: 'dave@example.org' });
      const paranoid = await createAccount(c.store, {
        username: 'dave@example.org',
        password: PW,
        mode: 'paranoid',
        signet: signet.bytes,
      });
      expect(paranoid.encryptedKey).toBeNull();
      expect(Buffer.from(paranoid.encryptionPublicKey!)).toEqual(Buffer.from(own.encryptionPublic));
      expect((await verifyLogin(c.store, 'dave@example.org', PW)).userKeys).toBeNull();
      // paranoid password change keeps no key either
      const changed = await changePassword(c.store, 'dave@example.org', PW, PW2);
      expect(changed.encryptedKey).toBeNull();
      expect(
        await codeOf(
          createAccount(c.store, { username: 'eve@example.org', password: PW, signet: signet.bytes }),
        ),
      ).toBe('BAD_PARAMETER');
    });

    it('takes a DMAP client password change proven by the old password key', async () => {
      const user = await createAccount(c.store, {
        username: 'alice@example.org',
        password: PW,
        mode: 'cautious',
      });
      const name = 'alice@example.org';
      const old = stacieDerive({ username: name, password: PW, salt: user.salt, bonus: 0 });
      const oldRealm = mailRealmKey(old.masterKey, user);
      const { openKeyObject } = await import('../../../src/keys/index.js');
      const plain = openKeyObject(user.encryptedKey!, oldRealm);
      const salt = crypto().randomBytes(128);
      const fresh = stacieDerive({ username: name, password: PW2, salt, bonus: 0 });
      const realm = newMailRealm(1);
      const newRealmKey = mailRealmKey(fresh.masterKey, { salt, realms: [realm] });
      const wrong = stacieDerive({ username: name, password: PW2, salt: user.salt, bonus: 0 });
      const change = {
        salt,
        bonus: 0,
        verification: fresh.verification,
        mailRealm: realm,
        encryptedKey: sealKeyObject(plain, newRealmKey),
      };
      expect(
        await codeOf(replaceCredentials(c.store, user.id, { ...change, oldPasswordKey: wrong.passwordKey })),
      ).toBe('BAD_CREDENTIALS');
      expect(
        await codeOf(
          replaceCredentials(c.store, user.id, {
            ...change,
            oldPasswordKey: old.passwordKey,
            encryptedKey: serializeKeys(generateKeys('user')),
          }),
        ),
      ).toBe('BAD_MAGIC');
      await replaceCredentials(c.store, user.id, { ...change, oldPasswordKey: old.passwordKey });
      const s = await verifyLogin(c.store, name, PW2);
      expect(s.user.keySerial).toBe(user.keySerial + 1);
    });
  });
}
