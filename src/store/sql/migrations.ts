import { SCHEMA_V1_POSTGRES, SCHEMA_V1_SQLITE } from './schema-v1.js';

/**
 * Versioned schema changes, applied in order at open. Append new versions; never edit one that
 * has shipped. Each version has the SQL of both engines.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', sqlite: SCHEMA_V1_SQLITE, postgres: SCHEMA_V1_POSTGRES },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
