/**
 * Mail at rest is never plaintext (issue 7): after DIME mail over DMTP, local submissions with a
 * Sent copy, legacy mail from port 25 and a message waiting in the outbound queue, the store files
 * (SQLite db, -wal, -shm) or a pg_dump of the schemas hold no marker from subjects, bodies,
 * addresses, attachment names or contents, no password, and no private key (user keys, org keys);
 * nor does any other file of the data directories hold a private key in clear, nor the debug-level
 * server logs any of it.
 */

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalDomain } from '../../src/server/domains.js';
import { verifyLogin } from '../../src/store/index.js';
import {
  type DomainNode,
  startTwoDomains,
  TWO_DOMAINS_PASSPHRASE,
  type TwoDomains,
} from '../helpers/two-domains.js';
import { eventually, PG_URL } from './helpers.js';

const MARKER = 'Kx8SrvLeakMarkerQ3';
const PW_A = `${MARKER}-alice password`;
const PW_B = `${MARKER}-bob password`;
const PW_C = `${MARKER}-carol password`;

function b64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b = Buffer.concat([Buffer.alloc(k, 0x20), bytes]).toString('base64');
    const core = b.slice(4, b.length - 4);
    out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Every form a secret could take in a file or a dump (raw, hex, base64, UTF-16, hex of text). */
function forms(secret: Uint8Array | string): Buffer[] {
  const raw = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const text = [raw.toString('hex'), raw.toString('hex').toUpperCase(), ...b64Forms(raw)];
  const list = [raw, ...text.map((t) => Buffer.from(t))];
  list.push(...text.map((t) => Buffer.from(Buffer.from(t).toString('hex'))));
  if (typeof secret === 'string')
    list.push(Buffer.from(secret, 'utf16le'), Buffer.from(secret.toLowerCase()));
  return list;
}

function leaks(haystacks: readonly Buffer[], secret: Uint8Array | string): boolean {
  const needles = forms(secret);
  return haystacks.some((h) => needles.some((n) => h.includes(n)));
}

function configOf(node: DomainNode): { store: { engine: string; schema?: string } } {
  return JSON.parse(readFileSync(join(node.dataDir, 'config.json'), 'utf8'));
}

async function storeBytes(node: DomainNode): Promise<Buffer[]> {
  const c = configOf(node);
  if (c.store?.engine === 'postgres') {
    const url = new URL(PG_URL);
    const { stdout } = await promisify(execFile)(
      'pg_dump',
      [
        '-h',
        url.hostname,
        '-p',
        url.port || '5432',
        '-U',
        decodeURIComponent(url.username || 'postgres'),
        '-n',
        c.store.schema!,
        url.pathname.slice(1) || 'test',
      ],
      { encoding: 'buffer', maxBuffer: 1 << 28 },
    );
    expect(stdout.length).toBeGreaterThan(1000);
    return [stdout];
  }
  const files = ['mail.db', 'mail.db-wal', 'mail.db-shm'].map((f) => join(node.dataDir, f));
  return files.filter((f) => statSync(f, { throwIfNoEntry: false })).map((f) => readFileSync(f));
}

/** Every file of the data directory but the test's config (it holds the test passphrase). */
function dataFiles(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...dataFiles(p));
    else if (e.name !== 'config.json') out.push(readFileSync(p));
  }
  return out;
}

for (const engine of (process.env.DIME_TEST_ENGINES?.split(',') ?? ['sqlite', 'postgres']) as (
  | 'sqlite'
  | 'postgres'
)[]) {
  describe(`plaintext leak (${engine})`, () => {
    let t: TwoDomains;
    beforeAll(async () => {
      t = await startTwoDomains({
        mode: 'inline',
        config: {
          alpha: { log: { level: 'debug', file: 'server.log' } },
          beta: { log: { level: 'debug', file: 'server.log' } },
        },
        ...(engine === 'postgres'
          ? {
              store: (n) => ({
                engine: 'postgres',
                connectionString: PG_URL,
                schema: `dime_leak_${n}_${Math.random().toString(16).slice(2, 10)}`,
                poolSize: 4,
              }),
            }
          : {}),
      });
      await t.alpha.addUser('alice@alpha.test', PW_A);
      await t.alpha.addUser('carol@alpha.test', PW_C);
      await t.beta.addUser('bob@beta.test', PW_B);
    }, 120_000);
    afterAll(async () => {
      await t?.stop();
    });

    it('finds no plaintext, password or private key in the stores and data directories', async () => {
      const submit = nodemailer.createTransport({
        host: '127.0.0.1',
        port: t.alpha.ports.submissions,
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: { user: 'alice@alpha.test', pass: PW_A },
      });
      const mail = {
        from: `"${MARKER} Alice" <alice@alpha.test>`,
        subject: `${MARKER} quarterly plans`,
        text: `Body with ${MARKER} inside. ${'lorem ipsum '.repeat(100)}${MARKER}`,
        headers: { 'X-Secret-Header': MARKER },
        attachments: [{ filename: `${MARKER}.txt`, content: `attachment ${MARKER} content` }],
      };
      // DIME over DMTP, and a local delivery with a Sent copy
      await submit.sendMail({ ...mail, to: 'bob@beta.test' });
      await submit.sendMail({ ...mail, to: `"${MARKER} Carol" <carol@alpha.test>` });
      // legacy mail from outside on port 25
      await nodemailer
        .createTransport({
          host: '127.0.0.1',
          port: t.beta.ports.smtp,
          secure: false,
          tls: { rejectUnauthorized: false },
        })
        .sendMail({
          from: `sender.${MARKER}@legacy.example`,
          to: 'bob@beta.test',
          subject: `${MARKER} from outside`,
          text: `outside ${MARKER}`,
        });
      const betaStore = t.beta.running!.ctx.store;
      await eventually(async () => {
        const u = (await betaStore.findUser((await betaStore.getDomain('beta.test'))!.id, 'bob'))!;
        return u.usedMessages >= 2;
      });
      // a message waiting in alpha's queue (beta down)
      await t.beta.stop();
      await submit.sendMail({ ...mail, to: 'bob@beta.test', subject: `${MARKER} queued` });
      const alphaStore = t.alpha.running!.ctx.store;
      await eventually(async () => (await alphaStore.listQueue()).find((q) => q.attempts >= 1));

      // the secrets a login and the key files hold
      const secrets: (Uint8Array | string)[] = [MARKER, PW_A, PW_B, PW_C, TWO_DOMAINS_PASSPHRASE];
      for (const [node, address, pw] of [
        [t.alpha, 'alice@alpha.test', PW_A],
        [t.alpha, 'carol@alpha.test', PW_C],
      ] as const) {
        const s = await verifyLogin(node.running!.ctx.store, address, pw);
        secrets.push(new Uint8Array(s.userKeys!.encryptionPrivate), new Uint8Array(s.userKeys!.signingSeed));
        secrets.push(new Uint8Array(s.realmKey), new Uint8Array(s.masterKey));
        s.destroy();
      }
      for (const node of [t.alpha, t.beta]) {
        const a = await node.admin();
        const row = (await a.store.getDomain(node.domain))!;
        const d = openLocalDomain(a.paths, row, TWO_DOMAINS_PASSPHRASE, 'dime');
        await a.close();
        secrets.push(new Uint8Array(d.orgKeys.signingSeed), new Uint8Array(d.orgKeys.encryptionPrivate));
      }

      const stores = [...(await storeBytes(t.alpha)), ...(await storeBytes(t.beta))];
      // positive control: what the server may see (domain names, usernames) is there to be found
      expect(leaks(stores, 'alpha.test')).toBe(true);
      expect(leaks(stores, 'carol')).toBe(true);
      for (const s of secrets)
        expect(leaks(stores, s), `store leaks ${typeof s === 'string' ? s : 'a key'}`).toBe(false);
      // the logs (debug level) name no secret: no password, no key, nothing of the mail
      const logs = [t.alpha, t.beta].map((n) => readFileSync(join(n.dataDir, 'server.log')));
      expect(logs.every((l) => l.length > 1000)).toBe(true);
      for (const s of secrets)
        expect(leaks(logs, s), `log leaks ${typeof s === 'string' ? s : 'a key'}`).toBe(false);
      const files = [...dataFiles(t.alpha.dataDir), ...dataFiles(t.beta.dataDir)];
      for (const s of secrets.filter((x) => typeof x !== 'string')) {
        expect(leaks(files, s), 'a private key in clear in a data directory').toBe(false);
      }
      await t.beta.start();
    });
  });
}
