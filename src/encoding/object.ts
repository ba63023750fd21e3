import { DimeError } from '../errors/index.js';
import { concatBytes, readU16, readU24, readU32, u16be, u24be, u32be } from './bytes.js';
import { FIVE_BYTE_HEADER_TYPES, objectTypeName, SIX_BYTE_HEADER_TYPES } from './object-types.js';

/** Max payload of a 5-byte-header object (u24 size). */
export const MAX_SMALL_PAYLOAD = 0xffffff;

export interface ObjectHeader {
  type: number;
  headerLength: 5 | 6;
  size: number;
}

export function headerLengthOf(type: number): 5 | 6 | null {
  if (FIVE_BYTE_HEADER_TYPES.has(type)) return 5;
  if (SIX_BYTE_HEADER_TYPES.has(type)) return 6;
  return null;
}

/**
 * Reads and checks an object header in the order of the vectors' error precedence:
 * TRUNCATED (shorter than a header) > BAD_MAGIC > LENGTH_MISMATCH.
 * `expected` lists the types the caller accepts.
 */
export function readObjectHeader(bytes: Uint8Array, expected: readonly number[]): ObjectHeader {
  if (bytes.length < 2)
    throw new DimeError('TRUNCATED', 'buffer is shorter than an object header', { length: bytes.length });
  const type = readU16(bytes, 0);
  const headerLength = headerLengthOf(type);
  if (headerLength === null) throw new DimeError('BAD_MAGIC', `unknown object type ${type}`, { type });
  if (bytes.length < headerLength) {
    throw new DimeError('TRUNCATED', 'buffer is shorter than an object header', { length: bytes.length });
  }
  if (!expected.includes(type)) {
    throw new DimeError(
      'BAD_MAGIC',
      `expected ${expected.map(objectTypeName).join(' or ')}, got ${objectTypeName(type)}`,
      { type, expected },
    );
  }
  const size = headerLength === 5 ? readU24(bytes, 2) : readU32(bytes, 2);
  if (size + headerLength !== bytes.length) {
    throw new DimeError(
      'LENGTH_MISMATCH',
      `header says ${size} payload bytes, buffer holds ${bytes.length - headerLength}`,
      {
        size,
        actual: bytes.length - headerLength,
      },
    );
  }
  return { type, headerLength, size };
}

export function writeObject(type: number, payload: Uint8Array): Uint8Array {
  const hl = headerLengthOf(type);
  if (hl === null) throw new DimeError('BAD_MAGIC', `unknown object type ${type}`);
  if (hl === 5) {
    if (payload.length > MAX_SMALL_PAYLOAD) throw new DimeError('TOO_LARGE', 'object payload exceeds 16 MiB');
    return concatBytes(u16be(type), u24be(payload.length), payload);
  }
  return concatBytes(u16be(type), u32be(payload.length), payload);
}
