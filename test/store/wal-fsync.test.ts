/**
 * The SQLite engine commits with `synchronous = NORMAL` and fsyncs the WAL itself, off the event
 * loop, before a write resolves (src/store/sqlite/engine.ts). This watches the real system calls of
 * a child process that appends and acknowledges one message at a time (strace from Debian): every
 * acknowledgement must come after an fdatasync/fsync of the WAL file that finished after the WAL's
 * last write. Without the engine's own fsync, the acks would follow unsynced WAL writes.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APPEND_CHILD, seedAppendStore } from './fixtures/append.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dime-walsync-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('SQLite WAL fsync before a write resolves', () => {
  it('every acknowledged append follows a completed fsync of the WAL after its last write', async () => {
    const file = path.join(dir, 'mail.db');
    const inbox = await seedAppendStore(file);
    const go = path.join(dir, 'go');
    fs.writeFileSync(go, '');
    const trace = path.join(dir, 'trace.txt');
    const COUNT = 25;
    const r = await run('strace', [
      '-f',
      '-y',
      '-s',
      '32',
      '-o',
      trace,
      '-e',
      'trace=write,pwrite64,fdatasync,fsync',
      process.execPath,
      '--import',
      'tsx',
      APPEND_CHILD,
      file,
      String(inbox),
      'S',
      String(COUNT),
      go,
    ]);
    expect(r.code, r.stderr).toBe(0);

    const wal = `${fs.realpathSync(dir)}/mail.db-wal`;
    const pendingSync = new Map<string, boolean>();
    let dirtySinceSync = false;
    let walWrites = 0;
    let acks = 0;
    let unsafeAcks = 0;
    for (const line of fs.readFileSync(trace, 'utf8').split('\n')) {
      const m = /^(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const [, pid, call] = m as unknown as [string, string, string];
      if (/^(pwrite64|write)\(\d+</.test(call) && call.includes(`<${wal}>`)) {
        dirtySinceSync = true;
        walWrites++;
      } else if (/^f(data)?sync\(\d+</.test(call) && call.includes(`<${wal}>`)) {
        if (call.includes('<unfinished ...>')) pendingSync.set(pid, true);
        else if (/= 0$/.test(call)) dirtySinceSync = false;
      } else if (/^<\.\.\. f(data)?sync resumed>/.test(call) && pendingSync.get(pid)) {
        pendingSync.delete(pid);
        if (/= 0$/.test(call)) dirtySinceSync = false;
      } else if (/^write\(1</.test(call) && call.includes('"ack ')) {
        acks++;
        if (dirtySinceSync) unsafeAcks++;
      }
    }
    expect(walWrites).toBeGreaterThanOrEqual(COUNT);
    expect(acks).toBe(COUNT);
    expect(unsafeAcks).toBe(0);
  }, 60_000);
});
