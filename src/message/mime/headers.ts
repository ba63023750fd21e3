import libmime from 'libmime';
import type { MailsplitHeaderLine } from 'mailsplit';
import { DimeError } from '../../errors/index.js';
import {
  type CommonHeaderFields,
  type CommonHeaders,
  formatCommonHeaders,
  parseCommonHeaders,
} from '../headers.js';
import { CRLF } from './streams.js';

/** The chunk 33 headers (message.md §5.1), lowercase name → CommonHeaders key, in table order. */
const COMMON_KEYS = ['date', 'to', 'cc', 'from', 'organization', 'subject'] as const;
type CommonKey = (typeof COMMON_KEYS)[number];

/** How the chunk 33 headers are written back (message.md §8: `Cc:` on output). */
const OUTPUT_NAMES: Record<CommonKey, string> = {
  date: 'Date',
  to: 'To',
  cc: 'Cc',
  from: 'From',
  organization: 'Organization',
  subject: 'Subject',
};

/** Top-level MIME structure headers: the display entity carries them (message.md §8 step 3). */
const STRUCTURE_KEYS = new Set(['content-type', 'content-transfer-encoding']);
/** Never stored: MIME-Version is rewritten on output, blind copies are never shown (message.md §8). */
const DROPPED_KEYS = new Set(['mime-version', 'bcc', 'resent-bcc']);

const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

/**
 * The unfolded value of a header field given as a binary string (mailsplit's folded line): line
 * breaks of the folding removed, the folding whitespace kept, any stray CR or LF made a space,
 * whitespace around the value trimmed; then read as UTF-8 (RFC 6532), invalid bytes replaced.
 * This is RFC 5322 §2.2.3 unfolding, done exactly as postal-mime does it.
 */
export function unfoldValue(binaryLine: string): string {
  const sep = binaryLine.indexOf(':');
  const raw = sep < 0 ? '' : binaryLine.slice(sep + 1);
  const unfolded = trimWsp(
    raw
      .split('\r\n')
      .join('')
      .replace(/[\r\n]+/g, ' '),
  );
  return lenientUtf8.decode(Buffer.from(unfolded, 'latin1'));
}

/** An RFC 5322 date-time for now (or `now`), e.g. `Wed, 25 Nov 2026 12:00:00 +0000`. */
export function rfc5322Date(now: Date = new Date()): string {
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw new DimeError('BAD_INPUT', 'not a valid date');
  return now.toUTCString().replace(/GMT$/, '+0000');
}

export interface RootHeaders {
  /** Chunk 33 as structured values (what the message core's sealMessage takes). */
  fields: CommonHeaders;
  /** Chunk 33 data. */
  common: Uint8Array;
  /** Chunk 34 data: every other header line, CRLF after each; `\r\n` when there is none. */
  other: Uint8Array;
  /** The top-level Content-Type and Content-Transfer-Encoding lines, CRLF after each. */
  structure: Buffer[];
}

/**
 * Sorts the top-level header fields (message.md §8 steps 1–3): the first Date, To, Cc, From,
 * Organization and Subject go to chunk 33 unfolded (a repeated one goes to 34 as it is); the
 * top-level Content-Type and Content-Transfer-Encoding go to the display entity; MIME-Version, Bcc
 * and Resent-Bcc go nowhere; every other field goes to chunk 34 as it is (folding kept, line
 * breaks made CRLF). A missing Date becomes `now`, a missing Subject an empty one; To and From are
 * required (MISSING_FIELD).
 */
export function sortRootHeaders(lines: readonly MailsplitHeaderLine[], now?: Date): RootHeaders {
  const found: Partial<Record<CommonKey, string>> = {};
  const other: Buffer[] = [];
  const structure: Buffer[] = [];
  for (const { key, line } of lines) {
    const k = key as CommonKey;
    if ((COMMON_KEYS as readonly string[]).includes(key) && found[k] === undefined) {
      found[k] = unfoldValue(line);
    } else if (STRUCTURE_KEYS.has(key)) {
      structure.push(Buffer.from(line, 'latin1'), CRLF);
    } else if (!DROPPED_KEYS.has(key)) {
      other.push(Buffer.from(line, 'latin1'), CRLF);
    }
  }
  for (const req of ['to', 'from'] as const) {
    if (found[req] === undefined) {
      throw new DimeError('MISSING_FIELD', `the message has no "${OUTPUT_NAMES[req]}" header`, {
        header: OUTPUT_NAMES[req],
      });
    }
  }
  const fields: CommonHeaders = {
    date: found.date ?? rfc5322Date(now),
    to: found.to!,
    cc: found.cc ?? null,
    from: found.from!,
    organization: found.organization ?? null,
    subject: found.subject ?? '',
  };
  return {
    fields,
    common: formatCommonHeaders(fields),
    other: other.length > 0 ? new Uint8Array(Buffer.concat(other)) : new Uint8Array(CRLF),
    structure,
  };
}

/** Header lines of a chunk 34 (fields with their continuation lines), empty lines left out. */
export function otherHeaderFields(data: Uint8Array): { key: string; line: Buffer }[] {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const out: { key: string; lines: string[] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (trimWsp(line) === '') continue;
    if (line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) {
      // a continuation; one without a field before it cannot be written safely: dropped
      out[out.length - 1]?.lines.push(line);
      continue;
    }
    const sep = line.indexOf(':');
    out.push({ key: trimWsp(sep < 0 ? line : line.slice(0, sep)).toLowerCase(), lines: [line] });
  }
  return out.map((f) => ({ key: f.key, line: Buffer.from(f.lines.join('\r\n'), 'latin1') }));
}

/** Chunk 33 given as values (e.g. an opened message's commonHeaders): single-line text or null. */
function checkedFields(f: CommonHeaderFields | CommonHeaders): Partial<CommonHeaderFields> {
  if (!f || typeof f !== 'object')
    throw new DimeError('BAD_INPUT', 'common headers must be chunk 33 data or fields');
  const out: Partial<CommonHeaderFields> = {};
  for (const key of COMMON_KEYS) {
    const v = f[key];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' || /[\r\n]/.test(v)) {
      throw new DimeError('BAD_INPUT', `common header "${OUTPUT_NAMES[key]}" must be one line of text`);
    }
    out[key] = v;
  }
  return out;
}

/** Fields of chunk 34 that the writer replaces with its own (message.md §8 DIME → MIME). */
const REWRITTEN_KEYS = new Set(['mime-version', 'content-type', 'content-transfer-encoding']);

/**
 * The header block of the rebuilt message (message.md §8 DIME → MIME), without the empty line
 * that ends it: chunk 33 fields (`Cc:` spelling, long ones folded at whitespace), chunk 34 lines
 * as they are (except MIME-Version, Content-Type and Content-Transfer-Encoding, which the writer
 * sets), then `MIME-Version: 1.0`.
 */
export function messageHeaderBlock(
  common: Uint8Array | CommonHeaderFields | CommonHeaders,
  other: Uint8Array | null | undefined,
): Buffer {
  const fields = common instanceof Uint8Array ? parseCommonHeaders(common) : checkedFields(common);
  const out: Buffer[] = [];
  for (const key of COMMON_KEYS) {
    const value = fields[key];
    if (value === null || value === undefined) continue;
    out.push(Buffer.from(libmime.foldLines(`${OUTPUT_NAMES[key]}: ${value}`, 76), 'utf8'), CRLF);
  }
  if (other) {
    for (const f of otherHeaderFields(other)) {
      if (REWRITTEN_KEYS.has(f.key)) continue;
      out.push(f.line, CRLF);
    }
  }
  out.push(Buffer.from('MIME-Version: 1.0\r\n', 'latin1'));
  return Buffer.concat(out);
}
