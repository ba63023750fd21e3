import type { Dialect } from '../sql/engine.js';

/** SQLite: integer arrays travel as JSON; a write transaction (BEGIN IMMEDIATE) excludes every other writer. */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  intValues: 'SELECT value FROM json_each(?)',
  intArray: (values) => JSON.stringify(values),
  forUpdate: '',
  skipLocked: '',
  migrationPrelude: () => [],
  constraint(error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign';
    return null;
  },
};
