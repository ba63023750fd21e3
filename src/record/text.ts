/** Small string helpers for record text. Pure, no Node APIs. */

/** UTF-8 length of a JS string without allocating (a lone surrogate counts as U+FFFD, 3 bytes). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * ASCII-only lower-casing, as C's strcasecmp does: `String#toLowerCase` would also map e.g. the
 * Kelvin sign U+212A to `k`, which would let `po\u212A` pass for `pok`.
 */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Token separators (record.md §2 Decision): space, tab, ";". */
export const HAS_SEPARATOR = /[ \t;]/;
