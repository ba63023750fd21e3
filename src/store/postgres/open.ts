import pg from 'pg';
import { DimeError } from '../../errors/index.js';
import { type Clock, systemClock } from '../clock.js';
import type { MailStore } from '../mail-store.js';
import { defaultQueuePolicy, type QueuePolicy } from '../queue-policy.js';
import { migrate } from '../sql/migrate.js';
import { SqlMailStore } from '../sql/sql-store.js';
import { postgresDialect } from './dialect.js';
import { PostgresEngine, pgFailure } from './engine.js';

export interface PostgresStoreOptions {
  /** e.g. `postgres://postgres@127.0.0.1:5432/test`. */
  connectionString: string;
  /** Schema that holds the tables (created if missing); default `dime`. */
  schema?: string;
  clock?: Clock;
  policy?: QueuePolicy;
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/** int8 and numeric (SUM) as JS numbers: every value the store keeps is below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads differ per format
    return (pg.types.getTypeParser as any)(oid, format);
  },
};

/**
 * The production engine. Every connection's search_path is the store's schema; pending migrations
 * are applied under an advisory lock before the store is returned, so several servers may start
 * at once.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<MailStore> {
  const schema = options.schema ?? 'dime';
  if (!SCHEMA.test(schema)) throw new DimeError('BAD_PARAMETER', `bad schema name ${JSON.stringify(schema)}`);
  const clock = options.clock ?? systemClock;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    options: `-c search_path=${schema}`,
    types,
  });
  // an idle connection that breaks must not crash the process; the next query reports it
  pool.on('error', () => undefined);
  const engine = new PostgresEngine(pool, postgresDialect(schema));
  try {
    await migrate(engine, clock);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw pgFailure(e);
  }
  return new SqlMailStore(engine, clock, options.policy ?? defaultQueuePolicy);
}
