import { DimeError } from '../errors/index.js';
import { concatBytes, readU16, readU24, u16be, u24be } from './bytes.js';

/**
 * One field of a 5-byte-header object, as it was serialized. `raw` is the exact bytes (fid, length
 * prefix, payload) so that signatures and re-encoding always use what was received (signets.md §8).
 */
export interface Field {
  id: number;
  /** Length-prefix width: 0 for the fixed 64-byte signature fields; 251 fields report the value's. */
  prefix: 0 | 1 | 2 | 3;
  /** Payload (for field 251, the value). */
  data: Uint8Array;
  /** Field 251 only: the name. */
  name?: Uint8Array;
  /** Offset of the field in the object payload (after the header). */
  offset: number;
  raw: Uint8Array;
}

export const SIGNATURE_LENGTH = 64;

/**
 * Decides the length-prefix width of a field from its id and, for the fields whose encoding
 * differs between PRIME and libdime, from the bytes that follow (objects.md §3, signets.md §8).
 * Returns 0 for a fixed 64-byte payload, 'undefined-field' for 251, or a width of 1–3.
 */
export type WidthRule = (fid: number, payload: Uint8Array, at: number) => 0 | 1 | 2 | 3 | 'undefined-field';

/** The generic rule of objects.md §3 for field ids. */
export function genericWidth(fid: number): 0 | 1 | 2 | 3 | 'undefined-field' {
  if (fid >= 1 && fid <= 3) return 1;
  if (fid >= 4 && fid <= 15) return 0;
  if (fid <= 159) return 1;
  if (fid <= 250) return 2;
  if (fid === 251) return 'undefined-field';
  if (fid === 252) return 3;
  if (fid === 253 || fid === 255) return 0;
  return 1; // 254
}

function need(payload: Uint8Array, at: number, n: number, fid: number): void {
  if (at + n > payload.length) {
    throw new DimeError('TRUNCATED', `field ${fid} runs past the end of the object`, { fid, offset: at });
  }
}

/** Splits an object payload into fields. Reports TRUNCATED and field id 0 (UNKNOWN_FIELD) only. */
export function splitFields(payload: Uint8Array, width: WidthRule): Field[] {
  const fields: Field[] = [];
  let at = 0;
  while (at < payload.length) {
    const start = at;
    const id = payload[at]!;
    if (id === 0) throw new DimeError('UNKNOWN_FIELD', 'field id 0 is reserved', { fid: 0, offset: at });
    at += 1;
    const w = width(id, payload, at);
    if (w === 'undefined-field') {
      need(payload, at, 1, id);
      const nameLen = payload[at]!;
      at += 1;
      need(payload, at, nameLen + 2, id);
      const name = payload.subarray(at, at + nameLen);
      at += nameLen;
      const valueLen = readU16(payload, at);
      at += 2;
      need(payload, at, valueLen, id);
      const data = payload.subarray(at, at + valueLen);
      at += valueLen;
      fields.push({ id, prefix: 2, data, name, offset: start, raw: payload.subarray(start, at) });
      continue;
    }
    let len: number;
    if (w === 0) {
      len = SIGNATURE_LENGTH;
    } else {
      need(payload, at, w, id);
      len = w === 1 ? payload[at]! : w === 2 ? readU16(payload, at) : readU24(payload, at);
      at += w;
    }
    need(payload, at, len, id);
    const data = payload.subarray(at, at + len);
    at += len;
    fields.push({ id, prefix: w, data, offset: start, raw: payload.subarray(start, at) });
  }
  return fields;
}

/** Serializes one new field with the given prefix width. */
export function encodeField(id: number, data: Uint8Array, prefix: 0 | 1 | 2 | 3): Uint8Array {
  if (prefix === 0) {
    if (data.length !== SIGNATURE_LENGTH) throw new DimeError('BAD_INPUT', `field ${id} must be 64 bytes`);
    return concatBytes(Uint8Array.of(id), data);
  }
  const max = prefix === 1 ? 0xff : prefix === 2 ? 0xffff : 0xffffff;
  if (data.length > max)
    throw new DimeError('TOO_LARGE', `field ${id} is longer than its length prefix allows`, { id });
  const len =
    prefix === 1 ? Uint8Array.of(data.length) : prefix === 2 ? u16be(data.length) : u24be(data.length);
  return concatBytes(Uint8Array.of(id), len, data);
}

/** Serializes a 251 "undefined" name/value field. */
export function encodeUndefinedField(name: Uint8Array, value: Uint8Array): Uint8Array {
  if (name.length > 0xff || value.length > 0xffff)
    throw new DimeError('TOO_LARGE', 'undefined field too long');
  return concatBytes(Uint8Array.of(251, name.length), name, u16be(value.length), value);
}
