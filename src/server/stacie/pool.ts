/**
 * A small pool of worker threads that runs STACIE (worker.ts) for the server: the store's
 * `StacieDeriver` (accounts: createAccount, verifyLogin, changePassword) without ever running the
 * hash chain on the event loop. Jobs queue when every worker is busy; a worker that dies is
 * replaced and its job fails with a plain Error (the caller answers with a temporary failure).
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DimeError, type DimeErrorCode } from '../../errors/index.js';
import type { StacieInput, StacieValues } from '../../stacie/index.js';
import type { StacieDeriver } from '../../store/index.js';

interface Pending {
  id: number;
  input: StacieInput;
  resolve: (v: StacieValues) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  job: Pending | null;
}

/**
 * How to start the worker: the compiled worker.js next to this file (dist), or, when running from
 * the TypeScript sources (tests, tsx), worker.ts through tsx's loader registered inside the thread.
 */
function spawnWorker(): Worker {
  const here = import.meta.url;
  const js = new URL('./worker.js', here);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const ts = new URL('./worker.ts', here).href;
  const req = createRequire(here);
  const api = pathToFileURL(req.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(code, { eval: true });
}

export class StaciePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size = 2) {
    if (!Number.isInteger(size) || size < 1) throw new DimeError('BAD_PARAMETER', 'pool size must be ≥ 1');
    for (let i = 0; i < size; i++) this.slots.push(this.makeSlot());
  }

  /** The store's injectable derivation (src/store/accounts/derive.ts). */
  readonly derive: StacieDeriver = (input) => this.run(input);

  /** Jobs waiting for a worker (not counting running ones). */
  get waiting(): number {
    return this.queue.length;
  }

  run(input: StacieInput): Promise<StacieValues> {
    if (this.closed) return Promise.reject(new DimeError('BAD_PARAMETER', 'the STACIE pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; queued and running jobs fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue.splice(0))
      p.reject(new DimeError('BAD_PARAMETER', 'the STACIE pool is closed'));
    await Promise.all(
      this.slots.map(async (s) => {
        s.job?.reject(new DimeError('BAD_PARAMETER', 'the STACIE pool is closed'));
        s.job = null;
        await s.worker.terminate();
      }),
    );
  }

  private makeSlot(): Slot {
    const slot: Slot = { worker: spawnWorker(), job: null };
    slot.worker.unref();
    slot.worker.on(
      'message',
      (m: { id: number; values?: StacieValues; error?: { code: string; message: string } }) => {
        const job = slot.job;
        if (!job || job.id !== m.id) return;
        slot.job = null;
        if (m.error) job.reject(new DimeError(m.error.code as DimeErrorCode, m.error.message));
        else job.resolve(reviveValues(m.values!));
        this.dispatch();
      },
    );
    const replace = (err: unknown) => {
      const job = slot.job;
      slot.job = null;
      job?.reject(err instanceof Error ? err : new Error(String(err)));
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.makeSlot();
      this.dispatch();
    };
    slot.worker.on('error', replace);
    slot.worker.on('exit', (code) => {
      if (!this.closed) replace(new Error(`STACIE worker exited with code ${code}`));
    });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, input: job.input });
    }
    for (const slot of this.slots) if (!slot.job) slot.worker.unref();
  }
}

/** Structured clone turns Uint8Arrays back into Uint8Arrays; keep the shape explicit. */
function reviveValues(v: StacieValues): StacieValues {
  const u = (b: Uint8Array) => (b instanceof Uint8Array ? b : new Uint8Array(b as unknown as ArrayBuffer));
  return {
    rounds: v.rounds,
    seed: u(v.seed),
    masterKey: u(v.masterKey),
    passwordKey: u(v.passwordKey),
    verification: u(v.verification),
    ...(v.ephemeral ? { ephemeral: u(v.ephemeral) } : {}),
  };
}
