/**
 * `dime admin domain add --org-key --org-signet` and `dime admin user add --key --signet` (the
 * built CLI, beside a running server) with the keys and signets libdime made
 * (vectors/reference/libdime-{org,user}-{key,signet}.json): the imports succeed and the server then
 * holds exactly those keys; a key that is not the signet's, a signet naming another domain or
 * address, or a user signet another org signed is refused with SIGNET_MISMATCH (exit 1) and leaves
 * nothing behind; a protected key file opens with --passphrase-file; the imported user logs in
 * (STACIE, the imported key unwrapped) and opens mail the server sealed to that key.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openForUser } from '../../src/crypto/sealed-box.js';
import { dearmor } from '../../src/encoding/armor.js';
import { loadKeys, protectKeyObject } from '../../src/keys/index.js';
import { verifyLogin } from '../../src/store/index.js';
import { dime, type RunResult, tempDir } from '../helpers/cli.js';
import { hex, loadCases, toHexStr, type VectorCase } from '../helpers/vectors.js';
import { cleanupServers, PASSPHRASE, readFolder, startTestServer, type TestServer } from './helpers.js';

const byId = (file: string) => new Map(loadCases(file).map((c) => [String(c.id), c] as const));
const orgKeys = byId('reference/libdime-org-key.json');
const userKeys = byId('reference/libdime-user-key.json');
const orgSignets = byId('reference/libdime-org-signet.json');
const userSignets = byId('reference/libdime-user-signet.json');

const PW_B = 'password of user at beta';
const PW_A = 'password of user at alpha';
const FILE_PASSPHRASE = 'passphrase of the protected key files';

let srv: TestServer;
let dir: string;
/** Path of each vector object written to a file: `orgA.key`, `pub-orgB-signet-id.signet`, … */
const file = (name: string) => join(dir, name);

function admin(args: string[], input?: string): RunResult {
  return dime(['admin', '--data', srv.dataDir, ...args], input !== undefined ? { input } : {});
}

function fields(c: VectorCase) {
  return c.expect.fields as Record<string, string>;
}

beforeAll(async () => {
  srv = await startTestServer({ domain: 'dime.test' });
  dir = tempDir('dime-import-');
  for (const [id, c] of [...orgKeys, ...userKeys]) {
    writeFileSync(file(`${id.replace(/^pub-|-key$/g, '')}.key`), c.input.armored);
  }
  for (const [id, c] of [...orgSignets, ...userSignets]) writeFileSync(file(`${id}.signet`), c.input.armored);
  // protected forms (keys.md §6) of the libdime key files, and the passphrase file
  for (const who of ['orgA', 'userA']) {
    const plain = dearmor(readFileSync(file(`${who}.key`), 'utf8')).binary;
    writeFileSync(file(`${who}-protected.key`), protectKeyObject(plain, FILE_PASSPHRASE));
  }
  writeFileSync(file('passphrase'), `${FILE_PASSPHRASE}\n`);
  writeFileSync(file('wrong-passphrase'), 'not the passphrase\n');
});
afterAll(cleanupServers);

function refused(r: RunResult, code: string, text: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^error: ${code}: `, 'm'));
  expect(r.stderr).toMatch(text);
}

describe('dime admin domain add --org-key --org-signet (libdime org keys)', () => {
  const addDomain = (domain: string, key: string, signet: string, extra: string[] = []) =>
    admin(['domain', 'add', domain, '--org-key', file(key), '--org-signet', file(signet), ...extra]);

  it('refuses an org key that is not the signet’s (SIGNET_MISMATCH, exit 1) and creates nothing', async () => {
    const r = addDomain('beta.test', 'orgA.key', 'pub-orgB-signet-id.signet');
    refused(r, 'SIGNET_MISMATCH', /org key does not belong to the org signet/);
    expect(await srv.store.getDomain('beta.test')).toBeNull();
    expect(existsSync(join(srv.dataDir, 'domains/beta.test/org.key'))).toBe(false);
  });

  it('refuses an org signet whose ID field names another domain', async () => {
    const r = addDomain('gamma.test', 'orgB.key', 'pub-orgB-signet-id.signet');
    refused(r, 'SIGNET_MISMATCH', /org signet is for "beta\.test", not gamma\.test/);
    expect(await srv.store.getDomain('gamma.test')).toBeNull();
    expect(existsSync(join(srv.dataDir, 'domains/gamma.test/org.key'))).toBe(false);
  });

  it('imports libdime’s orgB key and ID signet for beta.test: the server holds exactly them', async () => {
    const r = addDomain('beta.test', 'orgB.key', 'pub-orgB-signet-id.signet', ['--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ domain: 'beta.test', imported: true });
    const row = (await srv.store.getDomain('beta.test'))!;
    expect(toHexStr(row.orgSignet!)).toBe(orgSignets.get('pub-orgB-signet-id')!.input.hex);
    // the org key on disk is protected under the server passphrase, and it is libdime's key
    const onDisk = readFileSync(join(srv.dataDir, 'domains/beta.test/org.key'), 'utf8');
    expect(onDisk).toMatch(/^-----BEGIN DIME PROTECTED KEY-----/);
    const local = (await srv.running.ctx.domains.get('beta.test'))!;
    const f = fields(orgKeys.get('pub-orgB-key')!);
    expect(toHexStr(local.orgKeys.signingSeed)).toBe(f.sign_private_hex);
    expect(toHexStr(local.orgKeys.signingPublic)).toBe(f.sign_public_hex);
    expect(toHexStr(local.orgKeys.encryptionPrivate)).toBe(f.enc_private_hex);
    expect(toHexStr(local.orgKeys.encryptionPublic)).toBe(f.enc_public_compressed_hex);
    expect(toHexStr(local.orgSignet.bytes)).toBe(orgSignets.get('pub-orgB-signet-id')!.input.hex);
  });

  it('a second import of the same domain is a CONFLICT', () => {
    const r = addDomain('beta.test', 'orgB.key', 'pub-orgB-signet-id.signet');
    refused(r, 'CONFLICT', /beta\.test exists already/);
  });

  it('a protected org key: refused without its passphrase or with a wrong one, imported with --passphrase-file', async () => {
    const add = (extra: string[] = []) =>
      addDomain('alpha.test', 'orgA-protected.key', 'pub-orgA-signet-id.signet', extra);
    const none = add();
    expect(none.status, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/^error: PASSPHRASE_REQUIRED: /m);
    const wrong = add(['--passphrase-file', file('wrong-passphrase')]);
    refused(wrong, 'DECRYPT_FAILED', /wrong passphrase/);
    expect(await srv.store.getDomain('alpha.test')).toBeNull();
    const r = add(['--passphrase-file', file('passphrase')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/domain alpha\.test added with the imported org key and signet/);
    const local = (await srv.running.ctx.domains.get('alpha.test'))!;
    expect(toHexStr(local.orgKeys.signingSeed)).toBe(fields(orgKeys.get('pub-orgA-key')!).sign_private_hex);
    // stored again under the server passphrase, not the file's
    const stored = new Uint8Array(readFileSync(join(srv.dataDir, 'domains/alpha.test/org.key')));
    expect(() => loadKeys(stored, { passphrase: () => FILE_PASSPHRASE }, ['org'])).toThrow(
      /wrong passphrase/,
    );
    const reopened = loadKeys(stored, { passphrase: () => PASSPHRASE }, ['org']).keys;
    expect(toHexStr(reopened.signingSeed)).toBe(fields(orgKeys.get('pub-orgA-key')!).sign_private_hex);
  });
});

describe('dime admin user add --key --signet (libdime user keys)', () => {
  const add = (address: string, key: string, signet: string, pw = PW_B, extra: string[] = []) =>
    admin(
      ['user', 'add', address, '--password-stdin', '--key', file(key), '--signet', file(signet), ...extra],
      `${pw}\n`,
    );

  it('refuses a user key that is not the signet’s', async () => {
    refused(
      add('user@beta.test', 'userA.key', 'pub-userB-id.signet'),
      'SIGNET_MISMATCH',
      /user key does not belong/,
    );
    expect(await srv.running.ctx.domains.findUser('user@beta.test')).toBeNull();
  });

  it('refuses a user signet whose ID field names another address', async () => {
    refused(
      add('other@beta.test', 'userB.key', 'pub-userB-id.signet'),
      'SIGNET_MISMATCH',
      /user signet is for "user@beta\.test", not other@beta\.test/,
    );
    expect(await srv.running.ctx.domains.findUser('other@beta.test')).toBeNull();
  });

  it('refuses a user signet another org signed (userA is alpha.test’s, offered for beta.test)', async () => {
    refused(
      add('user@beta.test', 'userA.key', 'pub-userA-id.signet'),
      'SIGNET_MISMATCH',
      /does not verify against the org signet of beta\.test/,
    );
    expect(await srv.running.ctx.domains.findUser('user@beta.test')).toBeNull();
  });

  it('imports userB (key and ID signet) for user@beta.test', async () => {
    const r = add('user@beta.test', 'userB.key', 'pub-userB-id.signet', PW_B, ['--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ address: 'user@beta.test', mode: 'trustful', imported: true });
    const found = (await srv.running.ctx.domains.findUser('user@beta.test'))!;
    expect(toHexStr(found.user.signet!)).toBe(userSignets.get('pub-userB-id')!.input.hex);
  });

  it('imports a protected user key with --passphrase-file (userA for user@alpha.test)', () => {
    const r = add('user@alpha.test', 'userA-protected.key', 'pub-userA-id.signet', PW_A, [
      '--passphrase-file',
      file('passphrase'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/user user@alpha\.test created \(trustful\) with the imported key and signet/);
  });

  for (const [address, pw, key] of [
    ['user@beta.test', PW_B, 'pub-userB-key'],
    ['user@alpha.test', PW_A, 'pub-userA-key'],
  ] as const) {
    it(`${address} logs in with the imported key and opens mail the server sealed to it`, async () => {
      const f = fields(userKeys.get(key)!);
      // the login (STACIE) unwraps libdime's key
      const session = await verifyLogin(srv.store, address, pw);
      try {
        expect(toHexStr(session.userKeys!.signingSeed)).toBe(f.sign_private_hex);
        expect(toHexStr(session.userKeys!.encryptionPrivate)).toBe(f.enc_private_hex);
        expect(toHexStr(session.userKeys!.encryptionPublic)).toBe(f.enc_public_compressed_hex);
      } finally {
        session.destroy();
      }
      await expect(verifyLogin(srv.store, address, `${pw}x`)).rejects.toThrow();
      // legacy mail to port 25 is sealed to the recipient's encryption key
      const subject = `for ${address} ${Math.random().toString(16).slice(2)}`;
      const mx = nodemailer.createTransport({
        host: '127.0.0.1',
        port: srv.ports.smtp,
        secure: false,
        tls: { rejectUnauthorized: false },
      });
      const sent = await mx.sendMail({
        from: 'someone@example.org',
        to: address,
        subject,
        text: 'sealed to you',
      });
      expect(sent.response).toMatch(/^250 /);
      const inbox = await readFolder(srv.store, address, pw);
      const mail = inbox.find((m) => m.text?.includes(subject));
      expect(mail?.text).toMatch(/sealed to you/);
      // and libdime's private key alone opens the stored box
      const { user } = (await srv.running.ctx.domains.findUser(address))!;
      const folder = (await srv.store.getFolder(user.id, 'INBOX'))!;
      const blob = (await srv.store.readBlob(folder.id, mail!.info.uid))!;
      const plain = Buffer.from(openForUser(hex(f.enc_private_hex!), blob)).toString('utf8');
      expect(plain).toContain(subject);
    });
  }
});
