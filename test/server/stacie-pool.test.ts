/**
 * STACIE runs in worker threads, never on the event loop: the pool gives the same values as the
 * direct derivation, the loop keeps ticking while a short password's ~32 768 rounds run, jobs beyond
 * the pool size wait their turn, and a closed pool refuses work.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { StaciePool } from '../../src/server/stacie/pool.js';
import { stacieDerive } from '../../src/stacie/index.js';

const salt = new Uint8Array(128).map((_, i) => i);

describe('STACIE worker pool', () => {
  const pool = new StaciePool(2);
  afterAll(() => pool.close());

  it('derives exactly what stacieDerive does, off the event loop', async () => {
    const input = { username: 'alice@dime.test', password: 'short pw', salt, bonus: 0 };
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 5);
    const started = performance.now();
    const v = await pool.derive(input);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    const direct = stacieDerive(input);
    expect(v.rounds).toBe(direct.rounds);
    expect(v.rounds).toBeGreaterThan(10_000);
    expect(Buffer.from(v.verification)).toEqual(Buffer.from(direct.verification));
    expect(Buffer.from(v.masterKey)).toEqual(Buffer.from(direct.masterKey));
    // the loop ran timers during the derivation (it would not have, had it run here)
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 5 / 3));
    expect(ticks).toBeGreaterThan(2);
  });

  it('queues jobs beyond the pool size and answers each one', async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => ({
      username: `user${i}@dime.test`,
      password: `password number ${i} long enough`,
      salt,
      bonus: 0,
    }));
    const out = await Promise.all(inputs.map((x) => pool.run(x)));
    for (let i = 0; i < inputs.length; i++) {
      expect(Buffer.from(out[i]!.verification)).toEqual(Buffer.from(stacieDerive(inputs[i]!).verification));
    }
  });

  it('passes errors through with their code, and a closed pool refuses work', async () => {
    await expect(pool.run({ username: 'x@dime.test', password: '', salt, bonus: 0 })).rejects.toMatchObject({
      code: 'BAD_PASSWORD',
    });
    const other = new StaciePool(1);
    await other.close();
    await expect(other.run({ username: 'x@dime.test', password: 'abc', salt, bonus: 0 })).rejects.toThrow(
      /closed/,
    );
  });
});
