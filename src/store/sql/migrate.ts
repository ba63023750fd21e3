import { DimeError } from '../../errors/index.js';
import type { Clock } from '../clock.js';
import type { Engine } from './engine.js';
import { MIGRATIONS, type Migration } from './migrations.js';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/**
 * Applies the pending migrations in one transaction and returns the schema version. Idempotent;
 * safe when several processes open at once (SQLite: the write transaction is exclusive;
 * PostgreSQL: an advisory lock, see the dialect's prelude). A database newer than this code is
 * refused with STORE_FAILED.
 */
export async function migrate(
  engine: Engine,
  clock: Clock,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number> {
  return engine.transaction(async (tx) => {
    for (const s of engine.dialect.migrationPrelude()) await tx.all(s.sql, s.params);
    await tx.exec(CREATE_TABLE);
    const rows = await tx.all('SELECT version FROM schema_migrations ORDER BY version');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const known = new Set(migrations.map((m) => m.version));
    for (const v of applied) {
      if (!known.has(v)) {
        throw new DimeError('STORE_FAILED', `database schema version ${v} is newer than this code knows`, {
          version: v,
        });
      }
    }
    let version = 0;
    for (const m of migrations) {
      if (!applied.has(m.version)) {
        await tx.exec(engine.dialect.name === 'sqlite' ? m.sqlite : m.postgres);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          clock(),
        ]);
      }
      version = m.version;
    }
    return version;
  });
}

export async function currentVersion(engine: Engine): Promise<number> {
  return engine.read(async (tx) => {
    const row = await tx.get('SELECT MAX(version) AS v FROM schema_migrations');
    return Number(row?.v ?? 0);
  });
}
