import { utf8ByteLength } from './text.js';

/**
 * Joins the character-strings of one TXT RR with no separator (record.md §2: libdime dns.c does
 * the same, so a token may be split at any byte).
 */
export function joinCharacterStrings(strings: readonly string[]): string {
  return strings.join('');
}

export function recordByteLength(text: string): number {
  return utf8ByteLength(text);
}

/** Splits record text into tokens at any run of space, tab or ';'; empty tokens are dropped. */
export function tokenize(text: string): string[] {
  return text.split(/[ \t;]+/).filter((t) => t.length > 0);
}

export interface Token {
  /** Name as written (case preserved). */
  name: string;
  /** Everything after the first '=', or null when the token has no '='. */
  value: string | null;
}

/** Splits a token at its first '=' (record.md §2 Decision; base64 padding never contains the split). */
export function splitToken(token: string): Token {
  const eq = token.indexOf('=');
  if (eq < 0) return { name: token, value: null };
  return { name: token.slice(0, eq), value: token.slice(eq + 1) };
}
