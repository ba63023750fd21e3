import { createHmac } from 'node:crypto';
import { crypto } from '../crypto/index.js';

/** Target size of one HMAC update: large enough that per-call overhead vanishes. */
export const DEFAULT_BATCH_BYTES = 256 * 1024;

/**
 * HMAC-SHA512(key, data repeated `count` times), fed incrementally: one buffer holding as many whole
 * copies of `data` as fit in `batchBytes` (at least one) is built once and passed to update()
 * repeatedly, then a prefix of it for the remainder. The buffer is zeroized afterwards.
 */
export function hmacSha512Repeated(
  key: Uint8Array,
  data: Uint8Array,
  count: number,
  batchBytes: number = DEFAULT_BATCH_BYTES,
): Uint8Array {
  const mac = createHmac('sha512', key);
  if (data.length > 0 && count > 0) {
    const copies = Math.min(count, Math.max(1, Math.floor(batchBytes / data.length)));
    const batch = new Uint8Array(copies * data.length);
    for (let i = 0; i < copies; i++) batch.set(data, i * data.length);
    let left = count;
    while (left >= copies) {
      mac.update(batch);
      left -= copies;
    }
    if (left > 0) mac.update(batch.subarray(0, left * data.length));
    crypto().zeroize(batch);
  }
  return new Uint8Array(mac.digest());
}
