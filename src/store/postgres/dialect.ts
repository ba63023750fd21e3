import type { Dialect } from '../sql/engine.js';

/** Advisory lock class for schema migrations ('DIME'); the second key is the schema name's hash. */
export const MIGRATION_LOCK = 0x44494d45;

/** PostgreSQL: integer arrays as bigint[] parameters; row locks for everything that counts. */
export function postgresDialect(schema: string): Dialect {
  return {
    name: 'postgres',
    intValues: 'SELECT unnest(CAST(? AS bigint[])) AS value',
    intArray: (values) => values,
    forUpdate: ' FOR UPDATE',
    skipLocked: ' FOR UPDATE SKIP LOCKED',
    migrationPrelude: () => [
      { sql: 'SELECT pg_advisory_xact_lock(?, hashtext(?))', params: [MIGRATION_LOCK, schema] },
      { sql: `CREATE SCHEMA IF NOT EXISTS "${schema}"`, params: [] },
    ],
    constraint(error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === '23505') return 'unique';
      if (code === '23503') return 'foreign';
      return null;
    },
  };
}
