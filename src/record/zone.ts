import { MAX_CHARACTER_STRING_BYTES } from './limits.js';
import { utf8ByteLength } from './text.js';

/**
 * Splits record text into DNS character-strings of at most 255 bytes each (record.md §8 Decision).
 * The parser joins them with nothing in between, so the cut may fall anywhere, even inside a token;
 * ASCII text (every real record) is cut every 255 bytes exactly. A non-ASCII character is never cut
 * in two (its UTF-8 bytes stay in one string), so each piece remains a valid string. Empty text
 * gives one empty string (a TXT RR holds at least one character-string).
 */
export function zoneStrings(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    const n = utf8ByteLength(ch);
    if (bytes + n > MAX_CHARACTER_STRING_BYTES) {
      out.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += n;
    i += ch.length;
  }
  out.push(text.slice(start));
  return out;
}

const encoder = new TextEncoder();

/** One character-string in zone-file syntax: double quotes, `"` and `\` escaped, other bytes outside printable ASCII as `\DDD`. */
export function quoteCharacterString(s: string): string {
  let out = '"';
  for (const b of encoder.encode(s)) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\${b.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * The RDATA of the TXT RR for a zone file: each character-string of zoneStrings in double quotes,
 * separated by one space, e.g. `"ver=1 pok=… sub=strict"`.
 */
export function zoneLine(text: string): string {
  return zoneStrings(text).map(quoteCharacterString).join(' ');
}
