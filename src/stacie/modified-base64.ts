import { fromBase64Url, toBase64Url } from '../encoding/base64.js';
import { DimeError } from '../errors/index.js';

/**
 * magma's "modified base64" (stacie.md §1): URL-safe alphabet, no padding. Salt = 171 characters,
 * verification token and shard = 86.
 */
export function encodeModifiedBase64(bytes: Uint8Array): string {
  return toBase64Url(bytes);
}

/**
 * Strict decoder (padding accepted but not needed; BAD_INPUT for bad characters or non-canonical
 * text). With `expectedLength`, a value of another size is BAD_INPUT too.
 */
export function decodeModifiedBase64(text: string, expectedLength?: number): Uint8Array {
  const out = fromBase64Url(text);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new DimeError(
      'BAD_INPUT',
      `expected ${expectedLength} bytes of modified base64, got ${out.length}`,
      {
        expected: expectedLength,
        actual: out.length,
      },
    );
  }
  return out;
}
