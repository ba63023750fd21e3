import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { APPEND_CHILD, seedAppendStore } from './fixtures/append.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dime-durable-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  acks: Array<{ n: number; uid: number }>;
  ready: Promise<void>;
  done: Promise<void>;
}

/** Starts a child appender; resolves `done` once it has acknowledged `killAfter` appends and was SIGKILLed. */
function appender(file: string, folder: number, tag: string, killAfter: number, go: string): Run {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', APPEND_CHILD, file, String(folder), tag, '100000', go],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const acks: Array<{ n: number; uid: number }> = [];
  let buffered = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'ready') onReady();
        const m = /^ack (\d+) (\d+)$/.exec(line);
        if (m) acks.push({ n: Number(m[1]), uid: Number(m[2]) });
        if (acks.length === killAfter) child.kill('SIGKILL');
        nl = buffered.indexOf('\n');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`appender exited early: code ${code} signal ${signal}`));
    });
  });
  return { child, acks, ready, done };
}

describe('SQLite durability', () => {
  it('keeps every acknowledged append after SIGKILL, with two processes writing at once', async () => {
    const file = path.join(dir, 'mail.db');
    const inbox = await seedAppendStore(file);

    const go = path.join(dir, 'go');
    const runs = [appender(file, inbox, 'A', 120, go), appender(file, inbox, 'B', 80, go)];
    await Promise.all(runs.map((r) => r.ready));
    fs.writeFileSync(go, '');
    await Promise.all(runs.map((r) => r.done));

    const store = await openSqliteStore({ path: file });
    const listed = await store.listMessages(inbox);
    const uids = listed.map((m) => m.uid);
    // UIDs are dense and unique across both processes
    expect(uids).toEqual(Array.from({ length: uids.length }, (_, i) => i + 1));
    for (const [tag, run] of [
      ['A', runs[0]!],
      ['B', runs[1]!],
    ] as const) {
      expect(run.acks.length).toBeGreaterThanOrEqual(tag === 'A' ? 120 : 80);
      for (const { n, uid } of run.acks) {
        const blob = Buffer.from((await store.readBlob(inbox, uid))!);
        expect(blob.length).toBe(2048);
        expect(blob.toString('latin1', 0, `${tag}:${n}:`.length)).toBe(`${tag}:${n}:`);
      }
    }
    const ackedUids = [...runs[0]!.acks, ...runs[1]!.acks].map((a) => a.uid);
    expect(new Set(ackedUids).size).toBe(ackedUids.length);
    // at most one unacknowledged append per process got committed before the kill
    expect(uids.length - ackedUids.length).toBeLessThanOrEqual(2);
    expect((await store.usage((await store.getFolderById(inbox))!.userId)).messages).toBe(uids.length);
    await store.close();

    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
