/**
 * Real servers for the server tests: startMailServer in this process on ephemeral loopback ports,
 * a fresh data directory, SQLite or a fresh PostgreSQL schema, the real mail services, and helpers
 * to read what a user's mailbox holds the way the user would (log in, open the user key, open the
 * sealed box or the DIME object).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openForUser } from '../../src/crypto/sealed-box.js';
import { openMessage } from '../../src/message/open.js';
import { envelopeFingerprint } from '../../src/message/parties.js';
import { isOriginAuthored, type OpenedMessage } from '../../src/message/view.js';
import type { SignetResolver } from '../../src/resolver/signets.js';
import { Admin } from '../../src/server/admin/admin.js';
import { loadServerConfig } from '../../src/server/config.js';
import { createLogger, silentLogger } from '../../src/server/logger.js';
import { createMailServices } from '../../src/server/mail-adapter.js';
import type { MailServices } from '../../src/server/mail-services.js';
import { type RunningServer, startMailServer } from '../../src/server/server.js';
import { parseOrgSignet, parseUserSignet, type Signet } from '../../src/signet/index.js';
import type { MailStore, MessageInfo } from '../../src/store/index.js';
import { verifyLogin } from '../../src/store/index.js';

export const PG_URL = process.env.DIME_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const PASSPHRASE = 'test server passphrase';
/** A resolver that answers nothing (a closed loopback port): every lookup is a quick temperror. */
export const DEAD_RESOLVER = '127.0.0.1:9';

export type Engine = 'sqlite' | 'postgres';

export interface TestServer {
  running: RunningServer;
  dataDir: string;
  engine: Engine;
  ports: RunningServer['ready']['ports'];
  store: MailStore;
  /** The admin layer over the same data directory (its own store connection). */
  admin(): Promise<Admin>;
  addUser(address: string, password: string, mode?: 'trustful' | 'cautious' | 'paranoid'): Promise<void>;
  stop(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];

/** Removes every data directory and schema the tests made (call in afterAll). */
export async function cleanupServers(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // best effort
    }
  }
}

export async function startTestServer(
  o: {
    engine?: Engine;
    domain?: string;
    hostname?: string;
    config?: Record<string, unknown>;
    dataDir?: string;
    mail?: (m: MailServices) => MailServices;
  } = {},
): Promise<TestServer> {
  const engine = o.engine ?? 'sqlite';
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'dime-server-'));
  if (!o.dataDir) cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  let store: Record<string, unknown> = { engine: 'sqlite', path: 'mail.db' };
  if (engine === 'postgres') {
    const schema = `dime_srv_${Math.random().toString(16).slice(2, 12)}`;
    store = { engine: 'postgres', connectionString: PG_URL, schema, poolSize: 4 };
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    });
  }
  const raw: Record<string, unknown> = {
    domain: o.domain ?? 'dime.test',
    ...(o.hostname ? { hostname: o.hostname } : {}),
    ports: { smtp: 0, submission: 0, submissions: 0, dmtp: 0 },
    store,
    passphrase: PASSPHRASE,
    dns: { resolvers: [DEAD_RESOLVER], timeoutMs: 300 },
    stacie: { workers: 1 },
    drainTimeoutMs: 3000,
    ...o.config,
  };
  const configFile = join(dataDir, 'config.json');
  writeFileSync(configFile, JSON.stringify(raw));
  const config = loadServerConfig({ dataDir, env: {} });
  const log = process.env.DIME_TEST_LOG ? createLogger({ level: process.env.DIME_TEST_LOG }) : silentLogger();
  const base = createMailServices(config);
  const running = await startMailServer({ config, log, mail: o.mail ? o.mail(base) : base, env: {} });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.stop();
  };
  cleanups.push(stop);
  const admin = () => Admin.open({ dataDir, env: {} });
  return {
    running,
    dataDir,
    engine,
    ports: running.ready.ports,
    store: running.ctx.store,
    admin,
    async addUser(address, password, mode = 'trustful') {
      const a = await admin();
      try {
        await a.addUser(address, new Uint8Array(Buffer.from(password, 'utf8')), { mode });
      } finally {
        await a.close();
      }
    },
    stop,
  };
}

/** One stored message as its owner sees it after a login. */
export interface OpenedMail {
  info: MessageInfo;
  /** Legacy mail: the RFC 5322 text; DIME: null. */
  text: string | null;
  /** DIME objects: the message as the recipient opened it. */
  dime: OpenedMessage | null;
}

/**
 * Logs in as the user (STACIE, the user key opened) and opens every message of a folder: sealed
 * boxes with the user's private key, DIME objects as the recipient (the author, origin and
 * destination signets from `signets`, verified).
 */
export async function readFolder(
  store: MailStore,
  address: string,
  password: string,
  folder = 'INBOX',
  signets?: SignetResolver,
  /** Skip messages that do not open with the user's key (sealed to a key replaced since). */
  skipUnreadable = false,
): Promise<OpenedMail[]> {
  const session = await verifyLogin(store, address, password);
  try {
    const keys = session.userKeys;
    if (!keys) throw new Error('not a trustful account');
    const f = await store.getFolder(session.user.id, folder);
    if (!f) return [];
    const out: OpenedMail[] = [];
    for (const info of await store.listMessages(f.id)) {
      try {
        out.push(await openOne(info));
      } catch (e) {
        if (!skipUnreadable || (e as { code?: string }).code !== 'DECRYPT_FAILED') throw e;
      }
    }
    return out;

    async function openOne(info: MessageInfo): Promise<OpenedMail> {
      const blob = (await store.readBlob(f!.id, info.uid))!;
      if (info.metadata.kind === 'sealed') {
        return {
          info,
          text: Buffer.from(openForUser(keys!.encryptionPrivate, blob)).toString('utf8'),
          dime: null,
        };
      }
      const { peekEnvelope } = await import('../../src/message/open.js');
      const { MemorySource } = await import('../../src/message/source.js');
      const env = peekEnvelope(new MemorySource(blob), 'recipient', keys!);
      const destination = parseOrgSignet(session.domain.orgSignet!);
      let author: { signet: Signet; origin: Signet };
      if (isOriginAuthored(env) && env.originFingerprint === envelopeFingerprint(destination)) {
        // our own postmaster wrote it (a DIME bounce, flow.md §3.2): the org signet is the author
        author = { signet: destination, origin: destination };
      } else {
        if (!signets) throw new Error('a DIME message needs a SignetResolver to open');
        const r = await signets.resolveUser(env.author!, { fingerprint: env.authorFingerprint! });
        author = { signet: r.signet, origin: r.org.signet };
      }
      const dime = openMessage(blob, {
        actor: 'recipient',
        keys: keys!,
        signets: {
          author: author.signet,
          origin: author.origin,
          destination,
          recipient: parseUserSignet(session.user.signet!),
        },
      });
      return { info, text: null, dime };
    }
  } finally {
    session.destroy();
  }
}

/** Waits until `f` returns a truthy value (polling), or fails after `ms`. */
export async function eventually<T>(
  f: () => Promise<T | null | undefined | false>,
  ms = 15_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
