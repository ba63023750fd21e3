/**
 * Server configuration: defaults, --base-port and the standard ports, precedence (file < env <
 * flags), and a clear BAD_CONFIG error that names the field for every kind of mistake.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/server/config.js';

function dataDir(config?: unknown): string {
  const d = mkdtempSync(join(tmpdir(), 'dime-config-'));
  if (config !== undefined) writeFileSync(join(d, 'config.json'), JSON.stringify(config));
  return d;
}

function badField(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect((e as { code: string }).code).toBe('BAD_CONFIG');
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('server config', () => {
  it('defaults: dime.localhost, mx.dime.localhost, standard ports, SQLite in the data directory', () => {
    const c = loadServerConfig({ dataDir: dataDir(), env: {} });
    expect(c.domain).toBe('dime.localhost');
    expect(c.hostname).toBe('mx.dime.localhost');
    expect(c.listenPorts).toEqual({ smtp: 25, submission: 587, submissions: 465, dmtp: 26 });
    expect(c.store).toMatchObject({ engine: 'sqlite', path: 'mail.db' });
    expect(c.queue.maxAgeMs).toBe(5 * 86_400_000);
  });

  it('--base-port N: smtp N, submission N+1, submissions N+2, dmtp N+8; explicit ports win', () => {
    const c = loadServerConfig({
      dataDir: dataDir({ ports: { dmtp: 0 } }),
      env: {},
      overrides: { basePort: 10025 },
    });
    expect(c.listenPorts).toEqual({ smtp: 10025, submission: 10026, submissions: 10027, dmtp: 0 });
    expect(
      badField(() => loadServerConfig({ dataDir: dataDir(), env: {}, overrides: { basePort: 65530 } })),
    ).toMatch(/basePort/);
  });

  it('precedence: file < environment < flags', () => {
    const d = dataDir({ domain: 'file.test', hostname: 'mx.file.test', dns: { resolvers: ['192.0.2.1'] } });
    const env = {
      DIME_DOMAIN: 'env.test',
      DIME_RESOLVER: '127.0.0.1:5353, 127.0.0.2',
      DIME_STORE_URL: 'postgres://x@h/db',
    };
    const c = loadServerConfig({ dataDir: d, env });
    expect(c.domain).toBe('env.test');
    expect(c.hostname).toBe('mx.file.test');
    expect(c.dns.resolvers).toEqual(['127.0.0.1:5353', '127.0.0.2']);
    expect(c.store).toMatchObject({
      engine: 'postgres',
      connectionString: 'postgres://x@h/db',
      schema: 'dime',
    });
    const f = loadServerConfig({ dataDir: d, env, overrides: { domain: 'flag.test', resolvers: ['::1'] } });
    expect(f.domain).toBe('flag.test');
    expect(f.dns.resolvers).toEqual(['::1']);
  });

  it('names the field of every mistake', () => {
    const load =
      (config: unknown, env: Record<string, string> = {}) =>
      () =>
        loadServerConfig({ dataDir: dataDir(config), env });
    expect(badField(load({ ports: { smtp: 'x' } }))).toMatch(/^config: ports\.smtp: /);
    expect(badField(load({ ports: { smtp: 70000 } }))).toMatch(/^config: ports\.smtp: /);
    expect(badField(load({ store: { engine: 'oracle' } }))).toMatch(/^config: store\.engine: /);
    expect(badField(load({ store: { engine: 'postgres' } }))).toMatch(/^config: store\.connectionString: /);
    expect(badField(load({ domain: 'not a domain' }))).toMatch(/^config: domain: /);
    expect(badField(load({ dns: { resolvers: ['dns.example'] } }))).toMatch(/^config: dns\.resolvers\.0: /);
    expect(badField(load({ spamFilter: { rspamdUrl: 'nope' } }))).toMatch(/^config: spamFilter\.rspamdUrl: /);
    expect(badField(load({ accounts: { defaultMode: 'reckless' } }))).toMatch(
      /^config: accounts\.defaultMode: /,
    );
    expect(badField(load({ surprise: true }))).toMatch(/^config: /);
    expect(badField(load({ queue: { initialDelayMs: 10_000, maxDelayMs: 10 } }))).toMatch(
      /queue\.maxDelayMs/,
    );
    expect(badField(load({}, { DIME_BASE_PORT: 'ten' }))).toMatch(/^config: basePort: /);
    expect(badField(load([1, 2]))).toMatch(/top level/);
  });
});
