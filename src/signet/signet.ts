import { crypto } from '../crypto/index.js';
import { type Field, genericWidth, splitFields, type WidthRule } from '../encoding/fields.js';
import { readObjectHeader } from '../encoding/object.js';
import { DimeError } from '../errors/index.js';
import {
  BASE_REQUIRED,
  CRYPTO_SIG,
  ENCRYPTION_KEY_FIELD,
  FULL_SIG,
  fieldRule,
  ID_FIELD,
  ID_SIG,
  SIGNET_TYPE,
  type SignetKind,
  signetKindOf,
} from './field-table.js';

export type SignetStage = 'ssr' | 'crypto' | 'full' | 'id';
/** Which encoding the key fields use (signets.md §8). */
export type SignetForm = 'libdime' | 'prime' | 'mixed';

/** A parsed signet or SSR. `bytes` is the object exactly as received; fields point into it. */
export interface Signet {
  kind: SignetKind;
  type: number;
  bytes: Uint8Array;
  payload: Uint8Array;
  fields: readonly Field[];
  stage: SignetStage;
  form: SignetForm;
  /** Ed25519 signing key (field 1 without libdime's 0x40 format byte). */
  signingKey: Uint8Array;
  /** secp256k1 compressed encryption key. */
  encryptionKey: Uint8Array;
}

/** libdime writes encryption keys with a 2-byte length; PRIME with one. A leading 0x00 tells them apart. */
function widthRule(kind: SignetKind): WidthRule {
  const enc = ENCRYPTION_KEY_FIELD[kind];
  return (fid, payload, at) => {
    if (fid === enc || (kind === 'user' && fid === 3)) return payload[at] === 0x00 ? 2 : 1;
    return genericWidth(fid);
  };
}

/** Ed25519 key of a signing-key field: 32 bytes (PRIME) or 0x40 ‖ 32 bytes (libdime). */
export function ed25519KeyOfField(data: Uint8Array): Uint8Array | null {
  if (data.length === 32) return data;
  if (data.length === 33 && data[0] === 0x40) return data.subarray(1);
  return null;
}

function checkStructure(kind: SignetKind, fields: readonly Field[]): void {
  for (const f of fields) {
    if (!fieldRule(kind, f.id)) {
      throw new DimeError('UNKNOWN_FIELD', `field ${f.id} is not defined for a ${kind} signet`, {
        fid: f.id,
      });
    }
  }
  let prev = 0;
  for (const f of fields) {
    if (f.id < prev) throw new DimeError('FIELD_ORDER', `field ${f.id} follows field ${prev}`, { fid: f.id });
    if (f.id === prev && fieldRule(kind, f.id)!.unique) {
      throw new DimeError('DUPLICATE_FIELD', `unique field ${f.id} appears more than once`, { fid: f.id });
    }
    prev = f.id;
  }
  const present = new Set(fields.map((f) => f.id));
  const required = [...BASE_REQUIRED[kind]];
  if (kind !== 'ssr' && present.has(ID_SIG)) required.push(FULL_SIG, ID_FIELD);
  for (const id of required) {
    if (!present.has(id))
      throw new DimeError('MISSING_FIELD', `required field ${id} is missing`, { fid: id });
  }
}

function checkKeys(
  kind: SignetKind,
  fields: readonly Field[],
): { sign: Uint8Array; enc: Uint8Array; form: SignetForm } {
  const encId = ENCRYPTION_KEY_FIELD[kind];
  const signField = fields.find((f) => f.id === 1)!;
  const encField = fields.find((f) => f.id === encId)!;
  const sign = ed25519KeyOfField(signField.data);
  if (!sign)
    throw new DimeError('BAD_KEY_LENGTH', `signing key is ${signField.data.length} bytes`, { fid: 1 });
  const keyFields = fields.filter((f) => f.id === encId || (kind !== 'org' && f.id === 3));
  for (const f of keyFields) {
    if (f.data.length !== 33)
      throw new DimeError('BAD_KEY_LENGTH', `encryption key is ${f.data.length} bytes`, { fid: f.id });
  }
  if (kind === 'org') {
    for (const f of fields.filter((x) => x.id === 2)) {
      // libdime SOK: permission byte, 0x40 format byte, 32-byte key
      if (!(f.data.length === 34 && f.data[1] === 0x40) && f.data.length !== 33) {
        throw new DimeError('BAD_KEY_LENGTH', `secondary org key is ${f.data.length} bytes`, { fid: 2 });
      }
    }
  }
  for (const f of keyFields) {
    if (!crypto().secp256k1PublicKeyValid(f.data)) {
      throw new DimeError('BAD_KEY', 'encryption key is not a compressed secp256k1 point', { fid: f.id });
    }
  }
  const libSign = signField.data.length === 33;
  const libEnc = encField.prefix === 2;
  const form: SignetForm = libSign && libEnc ? 'libdime' : !libSign && !libEnc ? 'prime' : 'mixed';
  return { sign, enc: encField.data, form };
}

function stageOf(kind: SignetKind, fields: readonly Field[]): SignetStage {
  if (kind === 'ssr') return 'ssr';
  const ids = new Set(fields.map((f) => f.id));
  if (ids.has(ID_SIG)) return 'id';
  if (ids.has(FULL_SIG)) return 'full';
  return 'crypto';
}

/**
 * Parses an org signet, user signet or SSR and checks its structure (field table, order,
 * uniqueness, required fields, key sizes and points). Signatures are checked by verifySignet.
 * `expected` narrows the kinds the caller accepts (BAD_MAGIC otherwise).
 */
export function parseSignet(
  bytes: Uint8Array,
  expected: readonly SignetKind[] = ['org', 'user', 'ssr'],
): Signet {
  const header = readObjectHeader(
    bytes,
    expected.map((k) => SIGNET_TYPE[k]),
  );
  const kind = signetKindOf(header.type)!;
  const payload = bytes.subarray(5);
  const fields = splitFields(payload, widthRule(kind));
  checkStructure(kind, fields);
  const { sign, enc, form } = checkKeys(kind, fields);
  return {
    kind,
    type: header.type,
    bytes,
    payload,
    fields,
    stage: stageOf(kind, fields),
    form,
    signingKey: sign,
    encryptionKey: enc,
  };
}

export function parseOrgSignet(bytes: Uint8Array): Signet {
  return parseSignet(bytes, ['org']);
}

export function parseUserSignet(bytes: Uint8Array): Signet {
  return parseSignet(bytes, ['user']);
}

export function parseSsr(bytes: Uint8Array): Signet {
  return parseSignet(bytes, ['ssr']);
}

/** The serialized fields (no header) from the first one up to, not including, the first id > `fid`. */
export function fieldsUpTo(s: Pick<Signet, 'payload' | 'fields'>, fid: number): Uint8Array {
  const cut = s.fields.find((f) => f.id > fid);
  return cut ? s.payload.subarray(0, cut.offset) : s.payload;
}

export function fieldsWithId(s: Pick<Signet, 'fields'>, fid: number): Field[] {
  return s.fields.filter((f) => f.id === fid);
}

export function fieldWithId(s: Pick<Signet, 'fields'>, fid: number): Field | undefined {
  return s.fields.find((f) => f.id === fid);
}

/** The signet identifier (field 254): domain of an org, address of a user. */
export function signetId(s: Signet): string | null {
  const f = fieldWithId(s, ID_FIELD);
  return f ? Buffer.from(f.data).toString('utf8') : null;
}

/** Org signing keys allowed to sign user signets: the POK and SOKs with the "signets" bit. */
export function orgSignetSigningKeys(org: Signet): Uint8Array[] {
  const keys = [org.signingKey];
  for (const f of fieldsWithId(org, 2)) {
    const perm = f.data[0]!;
    const key = ed25519KeyOfField(f.data.subarray(1));
    if (key && perm & 1) keys.push(key);
  }
  return keys;
}

export { CRYPTO_SIG };
