import { crypto } from '../crypto/index.js';
import { concatBytes, utf8 } from '../encoding/bytes.js';
import { encodeField, encodeUndefinedField, genericWidth } from '../encoding/fields.js';
import { writeObject } from '../encoding/object.js';
import { ObjectType } from '../encoding/object-types.js';
import { DimeError } from '../errors/index.js';
import type { DimeKeys } from '../keys/key-file.js';
import { CRYPTO_SIG, FULL_SIG, fieldRule, ID_FIELD, ID_SIG, type SignetKind } from './field-table.js';
import { parseSignet, type Signet, type SignetStage } from './signet.js';
import { verifySignet } from './verify.js';

/** An informational field to add when building (ids 16–252; 251 carries a name). */
export interface InfoField {
  id: number;
  data: Uint8Array;
  name?: Uint8Array;
}

export type SignedStage = Exclude<SignetStage, 'ssr'>;

/** libdime's signing-key field: `01 21 40 <32>`. */
function signingKeyField(pub: Uint8Array): Uint8Array {
  return encodeField(1, concatBytes(Uint8Array.of(0x40), pub), 1);
}

function encodeInfo(kind: SignetKind, info: readonly InfoField[]): Uint8Array {
  const sorted = [...info].sort((a, b) => a.id - b.id);
  const seen = new Set<number>();
  const parts: Uint8Array[] = [];
  for (const f of sorted) {
    const rule = fieldRule(kind, f.id);
    if (!rule || f.id < 16 || f.id > 252) {
      throw new DimeError('UNKNOWN_FIELD', `field ${f.id} is not an informational field of a ${kind} signet`);
    }
    if (rule.unique && seen.has(f.id)) throw new DimeError('DUPLICATE_FIELD', `field ${f.id} is unique`);
    seen.add(f.id);
    if (f.id === 251) {
      parts.push(encodeUndefinedField(f.name ?? new Uint8Array(0), f.data));
    } else {
      parts.push(encodeField(f.id, f.data, genericWidth(f.id) as 1 | 2 | 3));
    }
  }
  return concatBytes(...parts);
}

function sign(seed: Uint8Array, fields: Uint8Array, fid: number): Uint8Array {
  return encodeField(fid, crypto().ed25519Sign(seed, fields), 0);
}

/** Appends 253, and 254 + 255 for the ID stage, to a payload that ends after its crypto signature. */
function addStages(
  seed: Uint8Array,
  payload: Uint8Array,
  stage: SignedStage,
  id: string | undefined,
): Uint8Array {
  if (stage === 'crypto') return payload;
  let p = concatBytes(payload, sign(seed, payload, FULL_SIG));
  if (stage === 'full') return p;
  if (!id) throw new DimeError('BAD_INPUT', 'an ID-stage signet needs an identifier (field 254)');
  const idBytes = utf8(id);
  if (idBytes.length === 0 || idBytes.length > 255)
    throw new DimeError('BAD_INPUT', 'identifier must be 1–255 bytes');
  p = concatBytes(p, encodeField(ID_FIELD, idBytes, 1));
  return concatBytes(p, sign(seed, p, ID_SIG));
}

export interface OrgSignetOptions {
  stage?: SignedStage;
  /** The organization's domain (field 254). */
  domain?: string;
  info?: readonly InfoField[];
}

/** Creates an org signet in libdime's form from the org keys (libdime's creation sequence). */
export function createOrgSignet(keys: DimeKeys, opts: OrgSignetOptions = {}): Signet {
  if (keys.kind !== 'org') throw new DimeError('BAD_INPUT', 'an org signet needs org keys');
  const stage = opts.stage ?? 'id';
  const core = concatBytes(signingKeyField(keys.signingPublic), encodeField(3, keys.encryptionPublic, 2));
  let payload = concatBytes(core, sign(keys.signingSeed, core, CRYPTO_SIG.org));
  payload = concatBytes(payload, encodeInfo('org', opts.info ?? []));
  payload = addStages(keys.signingSeed, payload, stage, opts.domain);
  return parseSignet(writeObject(ObjectType.ORG_SIGNET, payload), ['org']);
}

/** Creates a user's signet signing request; `previous` (the old signing seed) adds custody field 4. */
export function createSsr(keys: DimeKeys, previous?: { signingSeed: Uint8Array }): Signet {
  if (keys.kind !== 'user') throw new DimeError('BAD_INPUT', 'an SSR needs user keys');
  let payload = concatBytes(signingKeyField(keys.signingPublic), encodeField(2, keys.encryptionPublic, 2));
  if (previous) payload = concatBytes(payload, sign(previous.signingSeed, payload, 4));
  payload = concatBytes(payload, sign(keys.signingSeed, payload, 5));
  return parseSignet(writeObject(ObjectType.SSR, payload), ['ssr']);
}

export interface SignRequestOptions {
  stage?: SignedStage;
  /** The user's address (field 254), needed for the ID stage. */
  address?: string;
  info?: readonly InfoField[];
  /** The user's previous signet: its key must verify the request's custody signature. */
  previous?: Signet;
}

/**
 * The org's step: checks the request's own signature (and custody, given the previous signet),
 * then appends the org signature (6), informational fields and 253/254/255 after the request's
 * bytes, which are kept exactly as received (signets.md §8).
 */
export function signRequest(ssr: Signet, orgKeys: DimeKeys, opts: SignRequestOptions = {}): Signet {
  if (ssr.kind !== 'ssr') throw new DimeError('BAD_MAGIC', 'only a signet signing request can be signed');
  if (orgKeys.kind !== 'org') throw new DimeError('BAD_INPUT', 'user signets are signed with org keys');
  verifySignet(ssr, opts.previous ? { previous: opts.previous } : {});
  const stage = opts.stage ?? 'id';
  let payload = concatBytes(ssr.payload, sign(orgKeys.signingSeed, ssr.payload, CRYPTO_SIG.user));
  payload = concatBytes(payload, encodeInfo('user', opts.info ?? []));
  payload = addStages(orgKeys.signingSeed, payload, stage, opts.address);
  return parseSignet(writeObject(ObjectType.USER_SIGNET, payload), ['user']);
}

/**
 * libdime's split signets (signets.md §6): the fields up to and including the crypto signature
 * ('crypto') or field 253 ('full'), re-headed.
 */
export function splitSignet(s: Signet, upTo: 'crypto' | 'full'): Signet {
  if (s.kind === 'ssr') throw new DimeError('BAD_INPUT', 'an SSR cannot be split');
  const cutFid = upTo === 'crypto' ? CRYPTO_SIG[s.kind] : FULL_SIG;
  if (upTo === 'full' && !s.fields.some((f) => f.id === FULL_SIG)) {
    throw new DimeError('MISSING_FIELD', 'the signet has no full signature to split at', { fid: FULL_SIG });
  }
  const cut = s.fields.find((f) => f.id > cutFid);
  const payload = cut ? s.payload.subarray(0, cut.offset) : s.payload;
  return parseSignet(writeObject(s.type, new Uint8Array(payload)), [s.kind]);
}
