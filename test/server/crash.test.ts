/**
 * Crash test (issue 7): `kill -9` of the server (a real `dime server start` process) in the middle
 * of a burst of 2 000 SMTP messages over 20 parallel connections; after a restart every message
 * that got a 250 is in the mailbox, readable with the user's key, exactly once.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { openForUser } from '../../src/crypto/sealed-box.js';
import { verifyLogin } from '../../src/store/index.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { dime } from '../helpers/cli.js';
import { REPO } from '../helpers/vectors.js';
import { DEAD_RESOLVER } from './helpers.js';

const TOTAL = 2000;
const KILL_AFTER = 700;
const BOB = 'bob@crash.test';
const PW = 'bob crash password';

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function start(data: string): { child: ChildProcess; ready: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(REPO, 'bin/dime.js'), 'server', 'start', '--data', data], {
    env: { ...process.env, DIME_SERVER_PASSPHRASE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-10_000);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<void>((res, rej) => {
    const t = setInterval(() => {
      if (out.includes('"ready":true')) {
        clearInterval(t);
        res();
      }
    }, 20);
    exited.then((code) => {
      clearInterval(t);
      rej(new Error(`server exited (${code}) before ready\n${err}`));
    });
  });
  return { child, ready, exited };
}

describe('crash: kill -9 during a burst of 2000 SMTP messages', () => {
  const data = mkdtempSync(join(tmpdir(), 'dime-crash-'));
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it('keeps every acknowledged message, exactly once', async () => {
    const port = await freePort();
    const ports = {
      smtp: port,
      submission: await freePort(),
      submissions: await freePort(),
      dmtp: await freePort(),
    };
    writeFileSync(
      join(data, 'config.json'),
      JSON.stringify({
        domain: 'crash.test',
        ports,
        passphrase: 'crash test passphrase',
        dns: { resolvers: [DEAD_RESOLVER], timeoutMs: 100 },
        stacie: { workers: 1 },
        limits: { maxConnections: 100 },
        log: { level: 'warn' },
      }),
    );
    const first = start(data);
    await first.ready;
    const add = dime(['admin', '--data', data, 'user', 'add', BOB, '--password-stdin'], { input: `${PW}\n` });
    expect(add.status, add.stderr).toBe(0);

    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ports.smtp,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 20,
      maxMessages: Number.POSITIVE_INFINITY,
    });
    const acked: number[] = [];
    let killed = false;
    const sends = Array.from({ length: TOTAL }, (_, i) =>
      transport
        .sendMail({
          from: 'burst@example.org',
          to: BOB,
          subject: `burst ${i}`,
          text: `sequence-${i}-end\n${'x'.repeat(200)}`,
        })
        .then(
          (r) => {
            if (!/^250 /.test(r.response)) return;
            acked.push(i);
            if (!killed && acked.length >= KILL_AFTER) {
              killed = true;
              first.child.kill('SIGKILL');
            }
          },
          () => {
            // refused or cut off by the kill: not acknowledged, so not owed
          },
        ),
    );
    await Promise.all(sends);
    transport.close();
    expect(killed).toBe(true);
    expect(await first.exited).toBe(null);
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(acked.length).toBeLessThan(TOTAL);

    // restart: the store recovers, and the server works
    const second = start(data);
    await second.ready;
    const r = await nodemailer
      .createTransport({ host: '127.0.0.1', port: ports.smtp, secure: false, ignoreTLS: true })
      .sendMail({
        from: 'after@example.org',
        to: BOB,
        subject: 'after the crash',
        text: 'sequence-after-end',
      });
    expect(r.response).toMatch(/^250 /);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const store = await openSqliteStore({ path: join(data, 'mail.db') });
    try {
      const session = await verifyLogin(store, BOB, PW);
      const inbox = (await store.getFolder(session.user.id, 'INBOX'))!;
      const seen = new Map<string, number>();
      for (const m of await store.listMessages(inbox.id)) {
        const text = Buffer.from(
          openForUser(session.userKeys!.encryptionPrivate, (await store.readBlob(inbox.id, m.uid))!),
        ).toString();
        const seq = /sequence-(\d+|after)-end/.exec(text)?.[1];
        expect(seq).toBeDefined();
        seen.set(seq!, (seen.get(seq!) ?? 0) + 1);
      }
      session.destroy();
      for (const i of acked) expect(seen.get(String(i)), `message ${i} (acknowledged)`).toBe(1);
      for (const [seq, n] of seen) expect(n, `message ${seq} stored ${n} times`).toBe(1);
      expect(seen.get('after')).toBe(1);
    } finally {
      await store.close();
    }
  }, 240_000);
});
