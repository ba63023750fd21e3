import type { MailStore } from './mail-store.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgres/open.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite/open.js';

export type StoreOptions =
  | ({ engine: 'sqlite' } & SqliteStoreOptions)
  | ({ engine: 'postgres' } & PostgresStoreOptions);

/** Opens either engine from one config object (the server's `store` setting). */
export function openStore(options: StoreOptions): Promise<MailStore> {
  return options.engine === 'sqlite' ? openSqliteStore(options) : openPostgresStore(options);
}
