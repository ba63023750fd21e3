import { exponentialBackoff, type MailStore, openStore } from '../store/index.js';
import type { ServerConfig } from './config.js';
import type { DataPaths } from './data-dir.js';

/** The configured store (SQLite in the data directory, or PostgreSQL) with the configured queue policy. */
export async function openServerStore(config: ServerConfig, paths: DataPaths): Promise<MailStore> {
  const policy = exponentialBackoff({
    initialMs: config.queue.initialDelayMs,
    maxMs: config.queue.maxDelayMs,
    maxAttempts: config.queue.maxAttempts,
    maxAgeMs: config.queue.maxAgeMs,
  });
  const s = config.store;
  if (s.engine === 'sqlite') {
    return openStore({
      engine: 'sqlite',
      path: paths.resolve(s.path),
      busyTimeoutMs: s.busyTimeoutMs,
      policy,
    });
  }
  return openStore({
    engine: 'postgres',
    connectionString: s.connectionString,
    schema: s.schema,
    poolSize: s.poolSize,
    policy,
  });
}
