import type pg from 'pg';
import { DimeError, isDimeError } from '../../errors/index.js';
import type { Dialect, Engine, Row, SqlValue, Tx } from '../sql/engine.js';
import { numbered } from './placeholders.js';

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock
const MAX_TRIES = 6;

function bind(params: readonly SqlValue[]): unknown[] {
  return params.map((p) =>
    p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p,
  );
}

export function pgFailure(e: unknown): unknown {
  if (isDimeError(e)) return e;
  const err = e as { message?: string; code?: string };
  return new DimeError('STORE_FAILED', `postgres: ${err.message ?? String(e)}`, { code: err.code });
}

function txOf(client: pg.PoolClient): Tx {
  return {
    all: async (sql, params = []) => (await client.query(numbered(sql), bind(params))).rows as Row[],
    get: async (sql, params = []) =>
      (await client.query(numbered(sql), bind(params))).rows[0] as Row | undefined,
    run: async (sql, params = []) => (await client.query(numbered(sql), bind(params))).rowCount ?? 0,
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}

/**
 * A pool of connections, READ COMMITTED with explicit row locks (sql/locks.ts). A transaction
 * that loses to a deadlock or a serialization failure is run again from the start.
 */
export class PostgresEngine implements Engine {
  constructor(
    private readonly pool: pg.Pool,
    readonly dialect: Dialect,
  ) {}

  private async within<T>(begin: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        throw pgFailure(e);
      }
      try {
        await client.query(begin);
        const result = await fn(txOf(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (e as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code) && attempt < MAX_TRIES) {
          await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
          continue;
        }
        throw pgFailure(e);
      } finally {
        client.release();
      }
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.within('BEGIN', fn);
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.within('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
