/**
 * The STACIE worker thread (stacie.md §4): runs stacieDerive for the pool in pool.ts, so the
 * millions of hash rounds of a short password never block the server's event loop. Messages:
 * `{ id, input }` in, `{ id, values }` or `{ id, error: { code, message } }` out; the worker wipes
 * its copies of the derived keys once they are posted.
 */

import { parentPort } from 'node:worker_threads';
import { isDimeError } from '../../errors/index.js';
import { type StacieInput, stacieDerive } from '../../stacie/index.js';

interface Job {
  id: number;
  input: StacieInput;
}

const port = parentPort;
if (!port) throw new Error('the STACIE worker must run in a worker thread');

port.on('message', (job: Job) => {
  try {
    const values = stacieDerive(job.input);
    port.postMessage({ id: job.id, values });
    // postMessage cloned them: wipe this thread's copies at once
    for (const b of [
      values.seed,
      values.masterKey,
      values.passwordKey,
      values.verification,
      values.ephemeral,
    ]) {
      b?.fill(0);
    }
  } catch (e) {
    port.postMessage({
      id: job.id,
      error: { code: isDimeError(e) ? e.code : 'BAD_INPUT', message: (e as Error)?.message ?? String(e) },
    });
  } finally {
    if (job.input.password instanceof Uint8Array) job.input.password.fill(0);
  }
});
