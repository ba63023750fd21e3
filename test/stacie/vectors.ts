import { readFileSync } from 'node:fs';
import { fromHex } from '../../src/encoding/hex.js';

/** Loader for ../shared/vectors/stacie.json (stacie.md §9 as data). Not a test file. */

export interface RealmKeyExpect {
  S: 'shard' | 'salt';
  realm_key_hex: string;
  vector_key_hex: string;
  tag_key_hex: string;
  cipher_key_hex: string;
  magma_test_literals_modified_base64?: { vector_key: string; tag_key: string; cipher_key: string };
}

export interface DerivationCase {
  id: string;
  input: {
    username: string;
    username_hex?: string;
    password: string;
    password_hex?: string;
    bonus: number;
    salt_hex: string;
    salt_modified_base64?: string;
    nonce_hex?: string;
    shard_hex?: string;
    realm_label?: string;
  };
  expect: {
    rounds: number;
    seed_hex: string;
    master_key_hex: string;
    password_key_hex: string;
    verification_token_hex: string;
    verification_token_modified_base64?: string;
    ephemeral_token_hex?: string;
    realm_key_legacy?: RealmKeyExpect;
    realm_key_rotated?: RealmKeyExpect;
  };
}

export interface EnvelopeCase {
  id: string;
  input: {
    vector_key_hex: string;
    tag_key_hex: string;
    cipher_key_hex: string;
    serial: number;
    plaintext: string;
    plaintext_hex: string;
    vshard_hex: string;
  };
  expect: {
    pad: number;
    framed_plaintext_hex: string;
    envelope_hex: string;
    envelope_len: number;
    bitflipped_envelope_hex: string;
  };
}

export interface RoundsCase {
  password_hex: string;
  password_utf8: string | null;
  characters: number;
  bonus: number;
  rounds: number;
  note?: string;
}

interface VectorFile {
  cases: Array<{ id: string; input: Record<string, unknown>; expect: Record<string, unknown> }>;
  rounds_cases: { cases: RoundsCase[] };
}

const file = JSON.parse(
  readFileSync(new URL('../../../shared/vectors/stacie.json', import.meta.url), 'utf8'),
) as VectorFile;

/** Cases that carry a full derivation (expect.seed_hex). */
export const derivationCases = file.cases.filter(
  (c) => typeof c.expect.seed_hex === 'string',
) as unknown as DerivationCase[];

/** Cases that carry a fixed envelope (expect.envelope_hex). */
export const envelopeCases = file.cases.filter(
  (c) => typeof c.expect.envelope_hex === 'string',
) as unknown as EnvelopeCase[];

export const allCaseIds = file.cases.map((c) => c.id);
export const roundsCases = file.rounds_cases.cases;

export function caseById(id: string): DerivationCase {
  const c = derivationCases.find((x) => x.id === id);
  if (!c) throw new Error(`stacie.json has no derivation case ${id}`);
  return c;
}

export const hex = fromHex;
