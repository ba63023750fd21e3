import { expect } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import { recordFailureReason } from '../../src/record/index.js';

/** Runs fn, expects a BAD_RECORD DimeError and returns its reason. */
export function badRecordReason(fn: () => unknown): string | null {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DimeError);
  expect((err as DimeError).code).toBe('BAD_RECORD');
  return recordFailureReason(err);
}

/** Deterministic bytes for fixtures. */
export function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Standard unpadded base64, written independently of the code under test. */
export function b64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64').replace(/=+$/, '');
}
