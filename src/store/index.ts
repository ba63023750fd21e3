/**
 * The mail server's durable storage (issue 7): one MailStore interface, two engines (SQLite
 * embedded, PostgreSQL production), versioned migrations, and the account helpers over it. See
 * src/store/README.md for the decisions (blob storage, org key, visible metadata).
 */
export * from './accounts/index.js';
export { type Clock, systemClock } from './clock.js';
export { applyFlags, decodeFlags, encodeFlags, SYSTEM_FLAGS } from './flags.js';
export type { MailStore } from './mail-store.js';
export { openStore, type StoreOptions } from './open.js';
export { openPostgresStore, type PostgresStoreOptions } from './postgres/open.js';
export {
  defaultQueuePolicy,
  type ExponentialBackoff,
  exponentialBackoff,
  nextAttempt,
  type QueuePolicy,
} from './queue-policy.js';
export { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './sql/migrations.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite/open.js';
export * from './types.js';
