import { describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { sealForUser } from '../../src/crypto/sealed-box.js';
import { generateKeys } from '../../src/keys/index.js';
import { stacieDerive } from '../../src/stacie/index.js';
import { changePassword, createAccount, verifyLogin } from '../../src/store/accounts/index.js';
import { type HarnessFactory, postgresHarness, sqliteHarness } from './harness.js';

/**
 * The database must hold no readable mail, subjects, addresses, passwords or private keys: every
 * on-disk file of SQLite (db, -wal, -shm) and a pg_dump of the schema are searched for a marker
 * put into subjects, bodies and addresses, in raw, UTF-16, hex and base64 forms, and for the
 * secrets of the session.
 */
const MARKER = 'Qz7LeakMarkerV9x';
const PASSWORD = `${MARKER}-correct horse battery staple`;
const NEW_PASSWORD = `${MARKER}-another long passphrase here`;

function b64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b = Buffer.concat([Buffer.alloc(k, 0x20), bytes]).toString('base64');
    const core = b.slice(4, b.length - 4); // the characters that depend on the marker alone
    out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Every form a secret could take in a file or a dump. */
function forms(secret: Uint8Array | string): Buffer[] {
  const raw = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const text = [raw.toString('hex'), raw.toString('hex').toUpperCase(), ...b64Forms(raw)];
  const list = [raw, ...text.map((t) => Buffer.from(t))];
  // bytea shows as hex in a dump: also the hex of each text form
  list.push(...text.map((t) => Buffer.from(Buffer.from(t).toString('hex'))));
  if (typeof secret === 'string')
    list.push(Buffer.from(secret, 'utf16le'), Buffer.from(secret.toLowerCase()));
  return list;
}

function found(haystacks: Buffer[], needles: Buffer[]): boolean {
  return haystacks.some((h) => needles.some((n) => h.includes(n)));
}

function leakTest(factory: HarnessFactory): void {
  it('stores no plaintext, password or private key', async () => {
    const h = await factory();
    try {
      const store = await h.open();
      await store.addDomain({ name: 'example.org' });
      const org = generateKeys('org');
      const alice = await createAccount(store, {
        username: 'alice@example.org',
        password: PASSWORD,
        orgKeys: org,
      });
      const bob = await createAccount(store, {
        username: 'bob@example.org',
        password: PASSWORD,
        mode: 'cautious',
      });

      // legacy mail arriving while offline, sealed on arrival
      const mail = Buffer.from(
        `From: "${MARKER} Sender" <sender.${MARKER}@legacy.example>\r\n` +
          `To: alice@example.org, ${MARKER}.cc@example.net\r\n` +
          `Subject: ${MARKER} quarterly plans\r\n\r\n` +
          `Body text with ${MARKER} inside, and more: ${'lorem ipsum '.repeat(200)}${MARKER}\r\n`,
      );
      for (const user of [alice, bob]) {
        const inbox = (await store.getFolder(user.id, 'INBOX'))!;
        for (let i = 0; i < 3; i++) {
          await store.appendMessage(inbox.id, {
            blob: sealForUser(user.encryptionPublicKey!, mail),
            flags: ['\\Seen'],
            metadata: {
              kind: 'sealed',
              transactionId: `tx${i}`,
              verification: 'pass',
              plainSize: mail.length,
            },
          });
        }
      }
      // an outbound legacy message: the server seals envelope and content to its spool key
      const spool = crypto().secp256k1GeneratePrivate();
      const spoolPub = crypto().secp256k1PublicKey(spool);
      await store.enqueue({
        envelope: sealForUser(
          spoolPub,
          Buffer.from(JSON.stringify({ from: 'alice@example.org', to: [`${MARKER}@far.example`] })),
        ),
        blob: sealForUser(spoolPub, mail),
      });
      // a session, then a password change: neither may leave secrets behind
      const session = await verifyLogin(store, 'alice@example.org', PASSWORD);
      const secrets: Uint8Array[] = [
        session.masterKey,
        session.realmKey,
        session.userKeys!.encryptionPrivate,
        session.userKeys!.signingSeed,
        stacieDerive({ username: 'alice@example.org', password: PASSWORD, salt: alice.salt, bonus: 0 })
          .passwordKey,
        org.encryptionPrivate,
        org.signingSeed,
        spool,
      ].map((s) => new Uint8Array(s));
      await changePassword(store, 'bob@example.org', PASSWORD, NEW_PASSWORD);

      const stored = Buffer.from((await store.readBlob((await store.getFolder(alice.id, 'INBOX'))!.id, 1))!);
      const probe = stored.subarray(100, 132);
      const check = async (when: string) => {
        const raw = await h.rawBytes();
        expect(raw.length, when).toBeGreaterThan(0);
        // positive controls: the search sees what the database does hold
        expect(found(raw, [Buffer.from('example.org')]), `${when}: domain visible`).toBe(true);
        expect(found(raw, [probe, Buffer.from(probe.toString('hex'))]), `${when}: ciphertext visible`).toBe(
          true,
        );
        // the marker in any form, the passwords, the secrets
        for (const s of [
          MARKER,
          MARKER.toLowerCase(),
          'quarterly plans',
          'lorem ipsum',
          'sender.',
          PASSWORD,
          NEW_PASSWORD,
        ]) {
          expect(found(raw, forms(s)), `${when}: ${s}`).toBe(false);
        }
        for (const [i, s] of secrets.entries())
          expect(found(raw, forms(s)), `${when}: secret ${i}`).toBe(false);
      };
      await check('open');
      session.destroy();
      await h.closeStores();
      await check('closed');
    } finally {
      await h.cleanup();
    }
  });
}

describe('plaintext leak: SQLite files (db, -wal, -shm)', () => {
  leakTest(sqliteHarness);
});

describe('plaintext leak: pg_dump of the schema', () => {
  leakTest(postgresHarness);
});
