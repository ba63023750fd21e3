import * as fs from 'node:fs';
import Database from 'better-sqlite3';
import { DimeError } from '../../errors/index.js';
import { type Clock, systemClock } from '../clock.js';
import type { MailStore } from '../mail-store.js';
import { defaultQueuePolicy, type QueuePolicy } from '../queue-policy.js';
import { migrate } from '../sql/migrate.js';
import { SqlMailStore } from '../sql/sql-store.js';
import { SqliteEngine, storeFailure } from './engine.js';

export interface SqliteStoreOptions {
  /** Database file (created with mode 0600; SQLite gives -wal and -shm the same mode). */
  path: string;
  clock?: Clock;
  policy?: QueuePolicy;
  /** How long a write waits for another process's transaction (default 10 s). */
  busyTimeoutMs?: number;
}

/**
 * The embedded engine: one file, WAL journal, every write transaction's WAL fsynced before it
 * resolves (off the event loop, engine.ts), so a resolved write survives a crash or power loss;
 * foreign keys on. Pending migrations are
 * applied before the store is returned.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<MailStore> {
  const clock = options.clock ?? systemClock;
  if (options.path !== ':memory:' && !fs.existsSync(options.path)) {
    try {
      fs.closeSync(fs.openSync(options.path, 'a', 0o600));
    } catch (e) {
      throw new DimeError('IO_ERROR', `cannot create ${options.path}: ${(e as Error).message}`);
    }
  }
  let db: Database.Database;
  try {
    db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 10_000 });
  } catch (e) {
    throw storeFailure(e);
  }
  const engine = new SqliteEngine(db, options.path);
  try {
    await engine.configure(options.path === ':memory:');
    await migrate(engine, clock);
    return new SqlMailStore(engine, clock, options.policy ?? defaultQueuePolicy);
  } catch (e) {
    await engine.close();
    throw storeFailure(e);
  }
}
