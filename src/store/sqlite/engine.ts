import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { DimeError, isDimeError } from '../../errors/index.js';
import type { Engine, Row, SqlValue, Tx } from '../sql/engine.js';
import { sqliteDialect } from './dialect.js';
import { acquireFileMutex, type Mutex } from './mutex.js';

type Bound = number | string | null | Buffer;

function bind(params: readonly SqlValue[]): Bound[] {
  return params.map((p) => {
    if (p instanceof Uint8Array)
      return Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
    if (Array.isArray(p)) return JSON.stringify(p);
    return p as number | string | null;
  });
}

export function storeFailure(e: unknown): unknown {
  if (isDimeError(e)) return e;
  const err = e as { message?: string; code?: string };
  return new DimeError('STORE_FAILED', `sqlite: ${err.message ?? String(e)}`, { code: err.code });
}

/**
 * better-sqlite3 is synchronous: every statement runs to completion on the calling thread. One
 * connection, one transaction at a time (the mutex), BEGIN IMMEDIATE for writes so that other
 * processes on the same file wait (busy timeout) instead of failing halfway.
 */
export class SqliteEngine implements Engine {
  readonly dialect = sqliteDialect;
  private readonly mutex: Mutex;
  private readonly releaseMutex: () => void;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly tx: Tx;
  /** The WAL file, fsynced by this engine after each write transaction (null: in memory). */
  private wal: string | null = null;
  /** Opened at the first sync; the connection keeps the WAL file in place while it is open. */
  private walHandle: FileHandle | null = null;
  /** Transactions that wrote (committed), and how many of them are known to be on disk. */
  private committed = 0;
  private synced = 0;
  private syncing: Promise<void> | null = null;
  private execInTx = false;

  constructor(
    private readonly db: Database.Database,
    file: string,
  ) {
    const m = acquireFileMutex(file);
    this.mutex = m.mutex;
    this.releaseMutex = m.release;
    this.tx = {
      all: async (sql, params = []) => this.statement(sql).all(...bind(params)) as Row[],
      get: async (sql, params = []) => this.statement(sql).get(...bind(params)) as Row | undefined,
      run: async (sql, params = []) => {
        const s = this.statement(sql);
        if (s.reader) return s.all(...bind(params)).length;
        return s.run(...bind(params)).changes;
      },
      exec: async (sql) => {
        // DDL changes no rows, so total_changes() cannot see it: count it as a write
        this.execInTx = true;
        this.db.exec(sql);
      },
    };
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * Runs `fn` in a transaction under the mutex. `seq`: the commit's number when it wrote anything
   * (rows, or DDL through exec), 0 when it did not, so that only writes wait for an fsync.
   */
  private within<T>(begin: string, fn: (tx: Tx) => Promise<T>): Promise<{ result: T; seq: number }> {
    return this.mutex.run(async () => {
      if (!this.db.open) throw new DimeError('STORE_FAILED', 'the store is closed');
      try {
        this.db.exec(begin);
        this.execInTx = false;
        const before = this.totalChanges();
        const result = await fn(this.tx);
        const wrote = this.execInTx || this.totalChanges() !== before;
        this.db.exec('COMMIT');
        return { result, seq: wrote ? ++this.committed : 0 };
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw storeFailure(e);
      }
    });
  }

  private totalChanges(): number {
    return (this.statement('SELECT total_changes() AS n').get() as { n: number }).n;
  }

  /**
   * Resolves once the commit numbered `seq` is on disk. The commit itself wrote the WAL without
   * fsync (`synchronous = NORMAL`); the fsync runs here on libuv's thread pool instead of blocking
   * the event loop, outside the mutex (the next transaction runs meanwhile), and one fsync covers
   * every commit made before it started (fsync flushes the file, whoever wrote it).
   */
  private async durable(seq: number): Promise<void> {
    while (this.synced < seq) {
      if (!this.syncing) {
        const upTo = this.committed;
        this.syncing = this.fsyncWal()
          .then(() => {
            this.synced = Math.max(this.synced, upTo);
          })
          .finally(() => {
            this.syncing = null;
          });
      }
      await this.syncing;
    }
  }

  private async fsyncWal(): Promise<void> {
    if (this.wal === null) return;
    try {
      this.walHandle ??= await open(this.wal, 'r');
      await this.walHandle.datasync();
    } catch (e) {
      const handle = this.walHandle;
      this.walHandle = null;
      await handle?.close().catch(() => {});
      throw new DimeError('STORE_FAILED', `sqlite: fsync of ${this.wal} failed: ${(e as Error).message}`, {
        code: (e as { code?: string }).code,
      });
    }
  }

  /**
   * Connection settings, under the file mutex (switching a file to WAL takes a lock that a
   * transaction of another connection in this process could hold across an await).
   */
  configure(memory: boolean): Promise<void> {
    return this.mutex.run(async () => {
      try {
        const mode = this.db.pragma('journal_mode = WAL', { simple: true });
        if (!memory && String(mode).toLowerCase() !== 'wal') {
          throw new DimeError('STORE_FAILED', `sqlite refused WAL mode (${String(mode)})`);
        }
        // A commit appends to the WAL without fsync (NORMAL keeps the database consistent after a
        // crash, and checkpoints still fsync); transaction() resolves only after its own fsync of
        // the WAL (durable()), so a resolved write survives a crash or power loss as with FULL,
        // without blocking the event loop for the disk.
        this.db.pragma(memory ? 'synchronous = FULL' : 'synchronous = NORMAL');
        if (!memory) this.wal = `${resolve(this.db.name)}-wal`;
        this.db.pragma('foreign_keys = ON');
      } catch (e) {
        throw storeFailure(e);
      }
    });
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const { result, seq } = await this.within('BEGIN IMMEDIATE', fn);
    await this.durable(seq);
    return result;
  }

  /** A read transaction; one that wrote anyway (it should not) is made durable like any write. */
  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const { result, seq } = await this.within('BEGIN', fn);
    await this.durable(seq);
    return result;
  }

  close(): Promise<void> {
    return this.mutex.run(async () => {
      await this.syncing?.catch(() => {});
      await this.walHandle?.close().catch(() => {});
      this.walHandle = null;
      if (this.db.open) this.db.close();
      this.releaseMutex();
    });
  }
}
