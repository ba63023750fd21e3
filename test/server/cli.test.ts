/**
 * `dime server start` as a process (the built CLI, as `npm start` runs it): first-run bootstrap,
 * exactly one JSON ready line, the admin CLI while it runs (user add/show/passwd/rm, domain add,
 * dns), a submission with the password given to `user add`, SIGTERM → exit 0; a bad config names
 * the field.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeObjectInput } from '../../src/encoding/input.js';
import { parseRecord, verifyTlsBinding } from '../../src/record/index.js';
import { loadServerConfig } from '../../src/server/config.js';
import { DataPaths } from '../../src/server/data-dir.js';
import { openServerStore } from '../../src/server/store.js';
import { parseOrgSignet } from '../../src/signet/index.js';
import { dime, tempDir } from '../helpers/cli.js';
import { REPO } from '../helpers/vectors.js';
import { readFolder } from './helpers.js';

const BIN = join(REPO, 'bin/dime.js');

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  ready: { ready: true; domain: string; hostname: string; ports: Record<string, number> };
  exited: Promise<number | null>;
}

/** Starts the server on a random base port (again on another one if a port is taken). */
async function startServer(
  data: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<Started> {
  for (let attempt = 0; ; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const child = spawn(
      process.execPath,
      [BIN, 'server', 'start', '--data', data, '--base-port', String(base), ...extra],
      {
        env: { ...process.env, DIME_SERVER_PASSPHRASE: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const ready = await new Promise<Started['ready'] | null>((resolve, reject) => {
      const t = setInterval(() => {
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) {
          clearInterval(t);
          resolve(JSON.parse(line));
        }
      }, 25);
      exited.then((code) => {
        clearInterval(t);
        if (/EADDRINUSE/.test(err) && attempt < 5) resolve(null);
        else reject(new Error(`server exited (${code}) before ready:\n${err}`));
      });
    });
    if (ready) return { child, stdout: () => out, stderr: () => err, ready, exited };
  }
}

describe('dime server start (process)', () => {
  const data = tempDir('dime-cli-server-');
  let s: Started;
  /** Port 25 of the running server. */
  const port25 = () =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: s.ready.ports.smtp,
      secure: false,
      tls: { rejectUnauthorized: false },
    });
  /** Submissions (TLS from the first byte) of the running server, logged in as `user`. */
  const submissions = (user: string, pass: string) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: s.ready.ports.submissions,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user, pass },
    });

  beforeAll(async () => {
    s = await startServer(data);
  }, 60_000);
  afterAll(async () => {
    if (s.child.exitCode === null) {
      s.child.kill('SIGKILL');
      await s.exited;
    }
  });

  it('prints exactly one JSON ready line with the listeners that exist', () => {
    const lines = s
      .stdout()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const base = s.ready.ports.smtp!;
    expect(s.ready).toEqual({
      ready: true,
      domain: 'dime.localhost',
      hostname: 'mx.dime.localhost',
      ports: { smtp: base, submission: base + 1, submissions: base + 2, dmtp: base + 8 },
    });
    // first run: how to create the first user, and the passphrase warning
    expect(s.stderr()).toMatch(/user add alice@dime\.localhost --password-stdin/);
    expect(s.stderr()).toMatch(/DIME_SERVER_PASSPHRASE/);
  });

  it('bootstraps the data directory: keys protected, secrets 0600, a certificate for the hostname', () => {
    expect(statSync(join(data, 'secrets/passphrase')).mode & 0o777).toBe(0o600);
    expect(statSync(join(data, 'secrets/server-secret')).mode & 0o777).toBe(0o600);
    const orgKey = readFileSync(join(data, 'domains/dime.localhost/org.key'), 'utf8');
    expect(orgKey).toMatch(/^-----BEGIN DIME PROTECTED KEY-----/);
    expect(statSync(join(data, 'domains/dime.localhost/org.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(data, 'keys/spool.key'), 'utf8')).toMatch(/^-----BEGIN DIME PROTECTED KEY-----/);
    expect(readFileSync(join(data, 'tls/key.pem'), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect(readFileSync(join(data, 'domains/dime.localhost/dkim.key'), 'utf8')).toMatch(
      /^-----BEGIN ENCRYPTED PRIVATE KEY-----/,
    );
    const cert = new X509Certificate(readFileSync(join(data, 'tls/cert.pem')));
    expect(cert.subjectAltName).toMatch(/DNS:mx\.dime\.localhost/);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(existsSync(join(data, 'mail.db'))).toBe(true);
  });

  it('admin CLI while the server runs: user add (stdin, newline stripped), show, and a login with it', async () => {
    const add = dime(['admin', '--data', data, 'user', 'add', 'alice@dime.localhost', '--password-stdin'], {
      input: 'alice long password\n',
    });
    expect(add.status, add.stderr).toBe(0);
    expect(
      dime(
        [
          'admin',
          '--data',
          data,
          'user',
          'add',
          'bob@dime.localhost',
          '--password-stdin',
          '--mode',
          'trustful',
        ],
        {
          input: 'bob long password\r\n',
        },
      ).status,
    ).toBe(0);
    const r = await submissions('alice@dime.localhost', 'alice long password').sendMail({
      from: 'alice@dime.localhost',
      to: 'bob@dime.localhost',
      subject: 's',
      text: 'hello',
    });
    expect(r.response).toMatch(/^250 /);
    const show = dime(['admin', '--data', data, 'user', 'show', 'bob@dime.localhost', '--json']);
    expect(show.status, show.stderr).toBe(0);
    expect(show.json.address).toBe('bob@dime.localhost');
    expect(show.json.mode).toBe('trustful');
    expect(show.json.folders.find((f: { name: string }) => f.name === 'INBOX')).toMatchObject({
      messages: 1,
    });
    expect(Object.keys(show.json).sort()).toEqual(['address', 'folders', 'mode']);
    for (const f of show.json.folders) expect(Object.keys(f).sort()).toEqual(['bytes', 'messages', 'name']);
  });

  it('admin CLI: passwd, rm, domain add, errors', async () => {
    const pw = dime(['admin', '--data', data, 'user', 'passwd', 'bob@dime.localhost', '--password-stdin'], {
      input: 'bob new password\n',
    });
    expect(pw.status, pw.stderr).toBe(0);
    expect(pw.stderr).toMatch(/new key/);
    const r = await submissions('bob@dime.localhost', 'bob new password').sendMail({
      from: 'bob@dime.localhost',
      to: 'alice@dime.localhost',
      text: 'with the new password',
    });
    expect(r.response).toMatch(/^250 /);
    expect(dime(['admin', '--data', data, 'user', 'rm', 'bob@dime.localhost']).status).toBe(0);
    const gone = dime(['admin', '--data', data, 'user', 'show', 'bob@dime.localhost', '--json']);
    expect(gone.status).toBe(1);
    expect(gone.json).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    const dup = dime(['admin', '--data', data, 'user', 'add', 'alice@dime.localhost', '--password-stdin'], {
      input: 'whatever password\n',
    });
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/CONFLICT/);
    expect(dime(['admin', '--data', data, 'user', 'add', 'x@dime.localhost']).status).toBe(2);
    const dom = dime(['admin', '--data', data, 'domain', 'add', 'second.localhost']);
    expect(dom.status, dom.stderr).toBe(0);
    expect(
      dime(['admin', '--data', data, 'user', 'add', 'carol@second.localhost', '--password-stdin'], {
        input: 'carol long password\n',
      }).status,
    ).toBe(0);
    // the running server picks the new domain up
    await new Promise((r) => setTimeout(r, 3500));
    const t = port25();
    expect(
      (await t.sendMail({ from: 'x@example.org', to: 'carol@second.localhost', text: 'hi' })).response,
    ).toMatch(/^250 /);
  });

  it('admin alias add|list|rm: postmaster@ delivers to a user while the alias exists', async () => {
    const a = ['admin', '--data', data, 'alias'];
    const t = port25();
    const inboxCount = () => {
      const show = dime(['admin', '--data', data, 'user', 'show', 'alice@dime.localhost', '--json']);
      return (show.json as { folders: { name: string; messages: number }[] }).folders.find(
        (f) => f.name === 'INBOX',
      )!.messages;
    };
    await expect(
      t.sendMail({ from: 'x@example.org', to: 'postmaster@dime.localhost', text: 'before' }),
    ).rejects.toThrow(/550/);
    const add = dime([...a, 'add', 'Postmaster@dime.localhost', 'alice@dime.localhost', '--json']);
    expect(add.status, add.stderr).toBe(0);
    expect(add.json).toEqual({ alias: 'postmaster@dime.localhost', user: 'alice@dime.localhost' });
    expect(dime([...a, 'list', 'alice@dime.localhost', '--json']).json).toEqual({
      user: 'alice@dime.localhost',
      aliases: ['postmaster@dime.localhost'],
    });
    const before = inboxCount();
    expect(
      (await t.sendMail({ from: 'x@example.org', to: 'postmaster@dime.localhost', text: 'to the alias' }))
        .response,
    ).toMatch(/^250 /);
    expect(inboxCount()).toBe(before + 1);
    // a taken local part, an unknown user, a domain that is not local
    expect(dime([...a, 'add', 'alice@dime.localhost', 'alice@dime.localhost']).stderr).toMatch(/CONFLICT/);
    expect(dime([...a, 'add', 'abuse@dime.localhost', 'nobody@dime.localhost']).status).toBe(1);
    expect(dime([...a, 'add', 'abuse@elsewhere.test', 'alice@dime.localhost']).stderr).toMatch(/NOT_FOUND/);
    expect(dime([...a, 'rm', 'postmaster@dime.localhost']).status).toBe(0);
    const again = dime([...a, 'rm', 'postmaster@dime.localhost', '--json']);
    expect(again.status).toBe(1);
    expect(again.json).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    await expect(
      t.sendMail({ from: 'x@example.org', to: 'postmaster@dime.localhost', text: 'after' }),
    ).rejects.toThrow(/550/);
  });

  it('admin user quota and disable|enable act on the running server', async () => {
    const ad = (args: string[]) => dime(['admin', '--data', data, ...args]);
    const mx = port25();
    const toAlice = (text: string) =>
      mx.sendMail({ from: 'x@example.org', to: 'alice@dime.localhost', text });
    const login = () => submissions('alice@dime.localhost', 'alice long password').verify();
    const count = () =>
      (
        ad(['user', 'show', 'alice@dime.localhost', '--json']).json as { folders: { messages: number }[] }
      ).folders
        .map((f) => f.messages)
        .reduce((a, b) => a + b, 0);

    const full = ad(['user', 'quota', 'alice@dime.localhost', '--messages', String(count()), '--json']);
    expect(full.status, full.stderr).toBe(0);
    expect(full.json).toMatchObject({ address: 'alice@dime.localhost', quota: { messages: count() } });
    await expect(toAlice('over quota')).rejects.toThrow(/452/);
    expect(ad(['user', 'quota', 'alice@dime.localhost', '--messages', 'none', '--json']).json).toMatchObject({
      quota: { messages: null },
    });
    expect((await toAlice('room again')).response).toMatch(/^250 /);
    expect(ad(['user', 'quota', 'alice@dime.localhost']).status).toBe(2);
    expect(ad(['user', 'quota', 'alice@dime.localhost', '--bytes', '-5']).status).toBe(2);

    expect(ad(['user', 'disable', 'alice@dime.localhost', '--json']).json).toEqual({
      address: 'alice@dime.localhost',
      disabled: true,
    });
    await expect(toAlice('while disabled')).rejects.toThrow(/55\d/);
    await expect(login()).rejects.toThrow(/535|Invalid login/i);
    expect(ad(['user', 'list', 'dime.localhost', '--json']).json).toMatchObject({
      users: [{ address: 'alice@dime.localhost', disabled: true }],
    });
    expect(ad(['user', 'enable', 'alice@dime.localhost']).status).toBe(0);
    expect(await login()).toBe(true);
    expect((await toAlice('enabled again')).response).toMatch(/^250 /);
  });

  it('admin user passwd --keep-key: the current password re-wraps the key, stored mail stays readable', async () => {
    const store = await openServerStore(loadServerConfig({ dataDir: data, env: {} }), new DataPaths(data));
    try {
      const texts = async (password: string) =>
        (await readFolder(store, 'alice@dime.localhost', password)).map((m) => m.text).sort();
      const before = await texts('alice long password');
      expect(before.length).toBeGreaterThan(0);
      const passwd = (input: string) =>
        dime(
          [
            'admin',
            '--data',
            data,
            'user',
            'passwd',
            'alice@dime.localhost',
            '--password-stdin',
            '--keep-key',
            '--json',
          ],
          {
            input,
          },
        );
      const wrong = passwd('not her password\nalice newer password\n');
      expect(wrong.status).toBe(1);
      expect(wrong.json).toMatchObject({ valid: false, code: 'BAD_CREDENTIALS' });
      expect(passwd('only one line').status).toBe(2);
      const ok = passwd('alice long password\r\nalice newer password\n');
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.json).toEqual({ address: 'alice@dime.localhost', new_key: false });
      expect(ok.stderr).not.toMatch(/new key/);
      expect(await texts('alice newer password')).toEqual(before);
      await expect(texts('alice long password')).rejects.toThrow(/wrong login name or password/);
      // and back, the same way
      expect(passwd('alice newer password\nalice long password\n').status).toBe(0);
      expect(await texts('alice long password')).toEqual(before);
    } finally {
      await store.close();
    }
  });

  it('admin domain list|rm and user list', () => {
    const ad = (args: string[]) => dime(['admin', '--data', data, ...args]);
    const domains = ad(['domain', 'list', '--json']);
    expect(domains.status, domains.stderr).toBe(0);
    expect(domains.json).toEqual({
      domains: [
        { name: 'dime.localhost', users: 1 },
        { name: 'second.localhost', users: 1 },
      ],
    });
    expect(ad(['user', 'list', 'second.localhost', '--json']).json).toEqual({
      users: [{ address: 'carol@second.localhost', mode: 'trustful', disabled: false }],
    });
    const all = ad(['user', 'list', '--json']).json as { users: { address: string }[] };
    expect(all.users.map((u) => u.address).sort()).toEqual([
      'alice@dime.localhost',
      'carol@second.localhost',
    ]);
    expect(ad(['user', 'list', 'nowhere.test']).status).toBe(1);
    // a domain with users stays
    const busy = ad(['domain', 'rm', 'second.localhost', '--json']);
    expect(busy.status).toBe(1);
    expect(busy.json).toMatchObject({ valid: false, code: 'CONFLICT' });
    expect(ad(['user', 'rm', 'carol@second.localhost']).status).toBe(0);
    expect(ad(['domain', 'rm', 'second.localhost', '--json']).json).toEqual({
      domain: 'second.localhost',
      removed: true,
    });
    expect(ad(['domain', 'list', '--json']).json).toEqual({
      domains: [{ name: 'dime.localhost', users: 1 }],
    });
    // added again: the same org key from the data directory
    const signetBefore = readFileSync(join(data, 'domains/second.localhost/org.signet'), 'utf8');
    expect(ad(['domain', 'add', 'second.localhost']).status).toBe(0);
    const signetAfter = readFileSync(join(data, 'domains/second.localhost/org.signet'), 'utf8');
    const signingKey = (armored: string) =>
      Buffer.from(parseOrgSignet(decodeObjectInput(Buffer.from(armored)).binary).signingKey).toString('hex');
    expect(signingKey(signetAfter)).toBe(signingKey(signetBefore));
  });

  it('admin dns: every record, the _dx record pins the server certificate', () => {
    const r = dime(['admin', '--data', data, 'dns', 'dime.localhost', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const records = r.json.records as { name: string; type: string; value: string }[];
    const types = records.map((x) => `${x.type} ${x.name}`);
    expect(types).toEqual(
      expect.arrayContaining([
        'MX dime.localhost',
        'TXT _dx.dime.localhost',
        'TXT dime._domainkey.dime.localhost',
        'TXT dime.localhost',
        'TXT _dmarc.dime.localhost',
        'TLSA _25._tcp.mx.dime.localhost',
      ]),
    );
    const dx = records.find((x) => x.name === '_dx.dime.localhost')!;
    const rec = parseRecord([dx.value]);
    expect(rec.dx).toEqual(['mx.dime.localhost']);
    const cert = new X509Certificate(readFileSync(join(data, 'tls/cert.pem')));
    expect(verifyTlsBinding(rec, new Uint8Array(cert.raw))).toBe(true);
    expect(records.find((x) => x.type === 'MX')!.value).toBe('10 mx.dime.localhost.');
    expect(records.find((x) => x.name === 'dime._domainkey.dime.localhost')!.value).toMatch(
      /^v=DKIM1; k=rsa; p=/,
    );
    const zone = dime(['admin', '--data', data, 'dns', 'dime.localhost']);
    expect(zone.stdout).toMatch(/^_dx\.dime\.localhost\. 3600 IN TXT "ver=1 pok=/m);
  });

  it('SIGTERM drains and exits 0', async () => {
    s.child.kill('SIGTERM');
    const code = await Promise.race([s.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
    expect(code).toBe(0);
    expect(s.stderr()).toMatch(/"msg":"stopped"/);
  });

  it('a restart keeps the domain and users, with the passphrase from the data directory', async () => {
    const again = await startServer(data);
    try {
      expect(again.stderr()).not.toMatch(/user add alice/);
      const r = await nodemailer
        .createTransport({
          host: '127.0.0.1',
          port: again.ready.ports.submission,
          secure: false,
          requireTLS: true,
          tls: { rejectUnauthorized: false },
          auth: { user: 'alice@dime.localhost', pass: 'alice long password' },
        })
        .sendMail({ from: 'alice@dime.localhost', to: 'alice@dime.localhost', text: 'after restart' });
      expect(r.response).toMatch(/^250 /);
    } finally {
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    }
  });
});

describe('dime server start: configuration errors', () => {
  it('names the bad field and exits 2', () => {
    const data = tempDir('dime-cli-badconf-');
    writeFileSync(join(data, 'config.json'), JSON.stringify({ ports: { smtp: 'twenty-five' } }));
    const r = dime(['server', 'start', '--data', data]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/BAD_CONFIG: config: ports\.smtp: /);
    writeFileSync(join(data, 'config.json'), JSON.stringify({ store: { engine: 'oracle' } }));
    expect(dime(['server', 'start', '--data', data]).stderr).toMatch(/BAD_CONFIG: config: store\.engine/);
    writeFileSync(join(data, 'config.json'), JSON.stringify({ limits: { maxMessageSize: -1 } }));
    expect(dime(['server', 'start', '--data', data]).stderr).toMatch(
      /BAD_CONFIG: config: limits\.maxMessageSize/,
    );
    writeFileSync(join(data, 'config.json'), JSON.stringify({ unknownKey: 1 }));
    expect(dime(['server', 'start', '--data', data]).stderr).toMatch(/BAD_CONFIG: config: /);
    writeFileSync(join(data, 'config.json'), '{ not json');
    expect(dime(['server', 'start', '--data', data]).stderr).toMatch(/BAD_CONFIG: config: .* not valid JSON/);
    const env = dime(['server', 'start', '--data', data, '--config', '/nonexistent.json']);
    expect(env.status).toBe(2);
    expect(dime(['server', 'start', '--data', data, '--base-port', 'x']).status).toBe(2);
  });
});
