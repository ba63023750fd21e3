import { asciiLower } from './text.js';

/** Canonical (short) names of the record fields (record.md §3). */
export type FieldName = 'ver' | 'pok' | 'tls' | 'pol' | 'syn' | 'dx' | 'exp' | 'sub';

const ALIASES: ReadonlyMap<string, FieldName> = new Map<string, FieldName>([
  ['ver', 'ver'],
  ['version', 'ver'],
  ['pok', 'pok'],
  ['primary', 'pok'],
  ['tls', 'tls'],
  ['pol', 'pol'],
  ['policy', 'pol'],
  ['syn', 'syn'],
  ['syndicates', 'syn'],
  ['dx', 'dx'],
  ['deliver', 'dx'],
  ['exp', 'exp'],
  ['expiry', 'exp'],
  ['sub', 'sub'],
  ['subdomain', 'sub'],
]);

/** The canonical field of a name as written (case-insensitive, long aliases), or null if unknown. */
export function fieldOf(name: string): FieldName | null {
  return ALIASES.get(asciiLower(name)) ?? null;
}
