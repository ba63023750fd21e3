import * as path from 'node:path';

/** Runs async functions one at a time, in call order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const byFile = new Map<string, { mutex: Mutex; users: number }>();

/**
 * One mutex per database file in this process. A SQLite transaction here spans several awaits;
 * if a second connection to the same file began a write meanwhile, SQLite's busy handler would
 * block the only thread while the first transaction waits for that thread: a deadlock until the
 * busy timeout. Connections of one process therefore take turns; other processes are handled by
 * the busy timeout.
 */
export function acquireFileMutex(file: string): { mutex: Mutex; release(): void } {
  if (file === ':memory:' || file === '') return { mutex: new Mutex(), release() {} };
  const key = path.resolve(file);
  let entry = byFile.get(key);
  if (!entry) {
    entry = { mutex: new Mutex(), users: 0 };
    byFile.set(key, entry);
  }
  entry.users++;
  const e = entry;
  let released = false;
  return {
    mutex: e.mutex,
    release() {
      if (released) return;
      released = true;
      if (--e.users === 0) byFile.delete(key);
    },
  };
}
