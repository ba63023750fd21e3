import { concatBytes, utf8, utf8DecodeOrNull } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';

/** The common headers an author puts in chunk 33 (message.md §5.1). Values are single lines. */
export interface CommonHeaders {
  date: string;
  to: string;
  cc?: string | null;
  from: string;
  organization?: string | null;
  subject: string;
}

/** Chunk 33 as read back: a header the chunk does not hold is null. */
export interface CommonHeaderFields {
  date: string | null;
  to: string | null;
  cc: string | null;
  from: string | null;
  organization: string | null;
  subject: string | null;
}

type HeaderKey = keyof CommonHeaderFields;

/** libdime `dmime_header_keys`, in encoding order. */
const HEADER_TABLE: readonly { key: HeaderKey; label: string; required: boolean }[] = [
  { key: 'date', label: 'Date: ', required: true },
  { key: 'to', label: 'To: ', required: true },
  { key: 'cc', label: 'CC: ', required: false },
  { key: 'from', label: 'From: ', required: true },
  { key: 'organization', label: 'Organization: ', required: false },
  { key: 'subject', label: 'Subject: ', required: true },
];

const CRLF = Uint8Array.of(13, 10);

/** `Label: value\r\n` lines in table order; required headers must be present (may be empty). */
export function formatCommonHeaders(h: CommonHeaders): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { key, label, required } of HEADER_TABLE) {
    const v = h[key];
    if (v === undefined || v === null) {
      if (required) throw new DimeError('BAD_INPUT', `common header "${label.trim()}" is required`);
      continue;
    }
    if (typeof v !== 'string')
      throw new DimeError('BAD_INPUT', `common header "${label.trim()}" is not text`);
    if (/[\r\n]/.test(v)) {
      throw new DimeError('BAD_INPUT', `common header "${label.trim()}" must be one line (unfold it first)`);
    }
    parts.push(utf8(label), utf8(v), CRLF);
  }
  return concatBytes(...parts);
}

function startsWith(data: Uint8Array, at: number, label: string): boolean {
  if (data.length - at < label.length) return false;
  for (let i = 0; i < label.length; i++) if (data[at + i] !== label.charCodeAt(i)) return false;
  return true;
}

/**
 * Strict chunk-33 parser: every line is `Label: value\r\n` with a label of the table
 * (case-sensitive), any order, no duplicates, no bare CR or LF inside a value, values UTF-8.
 */
export function parseCommonHeaders(data: Uint8Array): CommonHeaderFields {
  const out: CommonHeaderFields = {
    date: null,
    to: null,
    cc: null,
    from: null,
    organization: null,
    subject: null,
  };
  const bad = (why: string): never => {
    throw new DimeError('BAD_MESSAGE', `common headers chunk is malformed: ${why}`);
  };
  let at = 0;
  while (at < data.length) {
    const entry = HEADER_TABLE.find((e) => startsWith(data, at, e.label));
    if (!entry) bad(`unknown header at byte ${at}`);
    const { key, label } = entry!;
    if (out[key] !== null) bad(`duplicate "${label.trim()}" header`);
    const start = at + label.length;
    let end = start;
    while (end < data.length && data[end] !== 13 && data[end] !== 10) end++;
    if (end + 1 >= data.length || data[end] !== 13 || data[end + 1] !== 10) {
      bad(`"${label.trim()}" line does not end with CRLF`);
    }
    const value = utf8DecodeOrNull(data.subarray(start, end));
    if (value === null) bad(`"${label.trim()}" value is not UTF-8`);
    out[key] = value;
    at = end + 2;
  }
  return out;
}
