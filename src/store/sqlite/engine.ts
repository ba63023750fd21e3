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

  private within<T>(begin: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      if (!this.db.open) throw new DimeError('STORE_FAILED', 'the store is closed');
      try {
        this.db.exec(begin);
        const result = await fn(this.tx);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw storeFailure(e);
      }
    });
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
        // every commit fsyncs the WAL: a resolved write survives a crash or power loss
        this.db.pragma('synchronous = FULL');
        this.db.pragma('foreign_keys = ON');
      } catch (e) {
        throw storeFailure(e);
      }
    });
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.within('BEGIN IMMEDIATE', fn);
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.within('BEGIN', fn);
  }

  close(): Promise<void> {
    return this.mutex.run(async () => {
      if (this.db.open) this.db.close();
      this.releaseMutex();
    });
  }
}
