import { DimeError } from '../errors/index.js';
import type { FlagMode } from './types.js';

/**
 * IMAP flags as stored: the five system flags as a bit set (so EXPUNGE can test `\Deleted` in
 * SQL) and keywords as one space-separated string. `\Recent` is per session and never stored.
 */
export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;
export const FLAG_SEEN = 1;
export const FLAG_DELETED = 8;

const SYSTEM_BITS = new Map<string, number>(SYSTEM_FLAGS.map((f, i) => [f.toLowerCase(), 1 << i]));
/** RFC 3501 atom characters, without the list/quote/wildcard specials. */
const KEYWORD = /^[^\s()\\{%*"\]\x00-\x1f\x7f]{1,128}$/;

export interface StoredFlags {
  bits: number;
  /** Space-separated keywords, sorted case-insensitively, no duplicates; '' for none. */
  keywords: string;
}

function parse(flags: readonly string[]): { bits: number; keywords: string[] } {
  let bits = 0;
  const keywords: string[] = [];
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    if (lower === '\\recent') continue;
    const bit = SYSTEM_BITS.get(lower);
    if (bit !== undefined) {
      bits |= bit;
      continue;
    }
    if (!KEYWORD.test(flag))
      throw new DimeError('BAD_INPUT', `not a valid IMAP flag: ${JSON.stringify(flag)}`);
    keywords.push(flag);
  }
  return { bits, keywords };
}

function normalizeKeywords(keywords: readonly string[]): string {
  const seen = new Map<string, string>();
  for (const k of keywords) if (!seen.has(k.toLowerCase())) seen.set(k.toLowerCase(), k);
  return [...seen.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((e) => e[1])
    .join(' ');
}

function splitKeywords(keywords: string): string[] {
  return keywords === '' ? [] : keywords.split(' ');
}

export function encodeFlags(flags: readonly string[]): StoredFlags {
  const p = parse(flags);
  return { bits: p.bits, keywords: normalizeKeywords(p.keywords) };
}

export function decodeFlags(bits: number, keywords: string): string[] {
  const out: string[] = [];
  SYSTEM_FLAGS.forEach((f, i) => {
    if (bits & (1 << i)) out.push(f);
  });
  return out.concat(splitKeywords(keywords));
}

/** STORE semantics: the new flags of a message. */
export function applyFlags(current: StoredFlags, mode: FlagMode, flags: readonly string[]): StoredFlags {
  const p = parse(flags);
  if (mode === 'replace') return { bits: p.bits, keywords: normalizeKeywords(p.keywords) };
  if (mode === 'add') {
    return {
      bits: current.bits | p.bits,
      keywords: normalizeKeywords([...splitKeywords(current.keywords), ...p.keywords]),
    };
  }
  const drop = new Set(p.keywords.map((k) => k.toLowerCase()));
  return {
    bits: current.bits & ~p.bits,
    keywords: normalizeKeywords(splitKeywords(current.keywords).filter((k) => !drop.has(k.toLowerCase()))),
  };
}
