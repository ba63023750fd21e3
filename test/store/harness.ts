import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Clock } from '../../src/store/clock.js';
import type { MailStore } from '../../src/store/mail-store.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { QueuePolicy } from '../../src/store/queue-policy.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

export const PG_URL = process.env.DIME_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export class FakeClock {
  now = Date.UTC(2025, 0, 1);
  readonly fn: Clock = () => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/** One fresh database (SQLite file or PostgreSQL schema) that several store instances can open. */
export interface StoreHarness {
  readonly engine: 'sqlite' | 'postgres';
  readonly clock: FakeClock;
  open(options?: { policy?: QueuePolicy }): Promise<MailStore>;
  /** Runs SQL on the database directly (not through the store). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Empties every table (a fresh start without re-creating the schema). */
  reset(): Promise<void>;
  /** Closes every store this harness opened. */
  closeStores(): Promise<void>;
  /** Everything on disk or in a dump, for the plaintext-leak test. */
  rawBytes(): Promise<Buffer[]>;
  cleanup(): Promise<void>;
}

export type HarnessFactory = () => Promise<StoreHarness>;

/** Children before parents (foreign keys). */
const TABLES = [
  'expunged',
  'messages',
  'blobs',
  'folders',
  'aliases',
  'realms',
  'users',
  'domains',
  'dedup_keys',
  'queue',
];
const RESET = TABLES.map((t) => `DELETE FROM ${t};`).join('\n');

export const sqliteHarness: HarnessFactory = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dime-store-'));
  const file = path.join(dir, 'mail.db');
  const clock = new FakeClock();
  const opened: MailStore[] = [];
  return {
    engine: 'sqlite',
    clock,
    async open(options = {}) {
      const s = await openSqliteStore({
        path: file,
        clock: clock.fn,
        ...(options.policy ? { policy: options.policy } : {}),
      });
      opened.push(s);
      return s;
    },
    async query(sql) {
      const db = new Database(file);
      try {
        const st = db.prepare(sql);
        if (st.reader) return st.all() as Record<string, unknown>[];
        st.run();
        return [];
      } finally {
        db.close();
      }
    },
    async reset() {
      const db = new Database(file);
      try {
        db.exec(RESET);
      } finally {
        db.close();
      }
    },
    async closeStores() {
      for (const s of opened.splice(0)) await s.close();
    },
    async rawBytes() {
      return ['', '-wal', '-shm']
        .filter((s) => fs.existsSync(file + s))
        .map((s) => fs.readFileSync(file + s));
    },
    async cleanup() {
      for (const s of opened) await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
};

export const postgresHarness: HarnessFactory = async () => {
  const schema = `dime_test_${Math.random().toString(16).slice(2, 12)}`;
  const clock = new FakeClock();
  const opened: MailStore[] = [];
  const client = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    engine: 'postgres',
    clock,
    async open(options = {}) {
      const s = await openPostgresStore({
        connectionString: PG_URL,
        schema,
        clock: clock.fn,
        poolSize: 4,
        ...(options.policy ? { policy: options.policy } : {}),
      });
      opened.push(s);
      return s;
    },
    query(sql) {
      return client(async (c) => {
        await c.query(`SET search_path = ${schema}`);
        return (await c.query(sql)).rows;
      });
    },
    async reset() {
      await client(async (c) => {
        await c.query(`SET search_path = ${schema}`);
        await c.query(RESET);
      });
    },
    async closeStores() {
      for (const s of opened.splice(0)) await s.close();
    },
    async rawBytes() {
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
          schema,
          url.pathname.slice(1) || 'test',
        ],
        { encoding: 'buffer', maxBuffer: 1 << 28 },
      );
      return [stdout];
    },
    async cleanup() {
      for (const s of opened) await s.close();
      await client((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  };
};
