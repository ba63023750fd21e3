import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../../src/store/sql/migrations.js';
import { codeOf } from '../fixtures/seed.js';
import type { HarnessFactory } from '../harness.js';

export function schemaTests(factory: HarnessFactory): void {
  describe('schema migrations', () => {
    it('migrates an empty database, then re-opens without applying anything again', async () => {
      const h = await factory();
      try {
        const a = await h.open();
        expect(await a.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
        await a.addDomain({ name: 'kept.example' });
        await a.close();
        const b = await h.open();
        expect(await b.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
        expect((await b.listDomains()).map((d) => d.name)).toEqual(['kept.example']);
        const rows = await h.query('SELECT version, name FROM schema_migrations ORDER BY version');
        expect(rows.map((r) => Number(r.version))).toEqual(
          [...Array(LATEST_SCHEMA_VERSION).keys()].map((i) => i + 1),
        );
      } finally {
        await h.cleanup();
      }
    });

    it('is safe when several stores open an empty database at once', async () => {
      const h = await factory();
      try {
        const stores = await Promise.all([h.open(), h.open(), h.open(), h.open()]);
        for (const s of stores) expect(await s.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
        const rows = await h.query('SELECT COUNT(*) AS n FROM schema_migrations');
        expect(Number(rows[0]!.n)).toBe(LATEST_SCHEMA_VERSION);
        // all of them work on the same data
        await stores[0]!.addDomain({ name: 'one.example' });
        expect(await stores[3]!.getDomain('one.example')).not.toBeNull();
      } finally {
        await h.cleanup();
      }
    });

    it('refuses a database from a newer version of the code', async () => {
      const h = await factory();
      try {
        await (await h.open()).close();
        await h.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
        expect(await codeOf(h.open())).toBe('STORE_FAILED');
      } finally {
        await h.cleanup();
      }
    });
  });
}
