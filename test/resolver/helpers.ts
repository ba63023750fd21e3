import { createServer } from 'node:net';
import { expect } from 'vitest';
import { DimeError, type DimeErrorCode } from '../../src/errors/index.js';
import { buildRecordText, type RecordContent } from '../../src/record/index.js';
import { bytesOf } from '../record/helpers.js';

/** A deterministic 32-byte POK. */
export function pok(seed: number): Uint8Array {
  return bytesOf(32, seed);
}

/** The text of a valid record with POK seed `seed` (and any other fields). */
export function recordText(seed: number, extra: Partial<RecordContent> = {}): string {
  return buildRecordText({ pok: [pok(seed)], ...extra });
}

/** Awaits `p`, expects a DimeError with `code`, returns it. */
export async function expectDimeError(p: Promise<unknown>, code: DimeErrorCode): Promise<DimeError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeInstanceOf(DimeError);
  expect((err as DimeError).code, (err as DimeError).message).toBe(code);
  return err as DimeError;
}

/** A manual clock for the record cache. */
export class ManualClock {
  constructor(public ms = Date.UTC(2030, 0, 1)) {}
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** A loopback port where nothing listens right now (UDP datagrams to it bounce: ECONNREFUSED). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 9));
    });
  });
}
