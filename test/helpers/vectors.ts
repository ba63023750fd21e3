import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../..');
/** The shared folder sits beside the checkout (../shared), as in CI. */
export const SHARED = process.env.DIME_SHARED ?? resolve(REPO, '../shared');
export const VECTORS = resolve(SHARED, 'vectors');
export const TOOLS = resolve(SHARED, 'tools');

if (!existsSync(VECTORS)) {
  throw new Error(`test vectors not found at ${VECTORS}: check out ../shared beside the repository`);
}

// biome-ignore lint/suspicious/noExplicitAny: vector files are free-form JSON
export type VectorCase = Record<string, any>;

export function loadJson(rel: string): VectorCase {
  return JSON.parse(readFileSync(resolve(VECTORS, rel), 'utf8')) as VectorCase;
}

export function loadCases(rel: string): VectorCase[] {
  return loadJson(rel).cases as VectorCase[];
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function toHexStr(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/**
 * The common headers of libdime's decrypted message (a reference vector's `after_decrypt`,
 * `header_*`) as our open shows them: every field present, a missing one null.
 */
export function afterDecryptHeaders(ad: Record<string, unknown>): Record<string, unknown> {
  return {
    date: ad.header_date ?? null,
    to: ad.header_to ?? null,
    cc: ad.header_cc ?? null,
    from: ad.header_from ?? null,
    organization: ad.header_organization ?? null,
    subject: ad.header_subject ?? null,
  };
}
