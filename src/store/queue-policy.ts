import { DimeError } from '../errors/index.js';

/**
 * When a temporarily failed delivery is tried again, and when the queue gives up (then the server
 * bounces: flow.md §3.2). Defaults follow common MTA practice: 5 min, doubling, at most 4 h apart,
 * for at most 5 days or 30 attempts.
 */
export interface QueuePolicy {
  /** Delay before attempt `attempts + 1`, given the attempts made so far (≥ 1). */
  backoffMs(attempts: number): number;
  maxAttempts: number;
  /** Age (from createdAt) after which a failed item is dead. */
  maxAgeMs: number;
}

export interface ExponentialBackoff {
  initialMs?: number;
  factor?: number;
  maxMs?: number;
  maxAttempts?: number;
  maxAgeMs?: number;
}

export function exponentialBackoff(options: ExponentialBackoff = {}): QueuePolicy {
  const initialMs = options.initialMs ?? 5 * 60_000;
  const factor = options.factor ?? 2;
  const maxMs = options.maxMs ?? 4 * 3_600_000;
  const maxAttempts = options.maxAttempts ?? 30;
  const maxAgeMs = options.maxAgeMs ?? 5 * 86_400_000;
  if (!(initialMs > 0) || !(factor >= 1) || !(maxMs >= initialMs) || !(maxAttempts >= 1) || !(maxAgeMs > 0)) {
    throw new DimeError('BAD_PARAMETER', 'queue policy values out of range');
  }
  return {
    backoffMs(attempts: number): number {
      const n = Math.max(1, attempts);
      return Math.min(maxMs, Math.round(initialMs * factor ** (n - 1)));
    },
    maxAttempts,
    maxAgeMs,
  };
}

export const defaultQueuePolicy: QueuePolicy = exponentialBackoff();

/** What a temporary failure leads to: the next attempt time, or null when the item is dead. */
export function nextAttempt(
  policy: QueuePolicy,
  item: { attempts: number; createdAt: number },
  now: number,
): number | null {
  if (item.attempts >= policy.maxAttempts) return null;
  const at = now + policy.backoffMs(item.attempts);
  if (at - item.createdAt > policy.maxAgeMs) return null;
  return at;
}
