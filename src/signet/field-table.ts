import { ObjectType } from '../encoding/object-types.js';

/** What libdime's field tables (src/providers/dime/signet/general.c) say about one field id. */
export interface FieldRule {
  name: string;
  unique: boolean;
  /** A text field (UTF-8) rather than keys, signatures or a photo. */
  text: boolean;
}

export type SignetKind = 'org' | 'user' | 'ssr';

export const SIGNET_TYPE: Readonly<Record<SignetKind, number>> = {
  org: ObjectType.ORG_SIGNET,
  user: ObjectType.USER_SIGNET,
  ssr: ObjectType.SSR,
};

export function signetKindOf(type: number): SignetKind | null {
  if (type === ObjectType.ORG_SIGNET) return 'org';
  if (type === ObjectType.USER_SIGNET) return 'user';
  if (type === ObjectType.SSR) return 'ssr';
  return null;
}

const INFO_COMMON: Record<number, string> = {
  16: 'name',
  17: 'address',
  18: 'province',
  19: 'country',
  20: 'postal_code',
  21: 'phone',
  22: 'language',
  23: 'currency',
  24: 'cryptocurrency',
  25: 'motto',
  26: 'extensions',
  27: 'message_size_limit',
  160: 'website',
};

const ORG_NAMES: Record<number, string> = {
  1: 'pok',
  2: 'sok',
  3: 'encryption_key',
  4: 'org_signature',
  ...INFO_COMMON,
  200: 'contact_abuse',
  201: 'contact_admin',
  202: 'contact_support',
  203: 'web_access_host',
  204: 'web_access_location',
  205: 'web_access_certificate',
  206: 'mail_access_host',
  207: 'mail_access_certificate',
  208: 'onion_access_host',
  209: 'onion_access_certificate',
  210: 'onion_delivery_host',
  211: 'onion_delivery_certificate',
  251: 'undefined',
  252: 'photo',
  253: 'full_signature',
  254: 'signet_id',
  255: 'id_signature',
};

const USER_NAMES: Record<number, string> = {
  1: 'signing_key',
  2: 'encryption_key',
  3: 'alternate_encryption_key',
  4: 'custody_signature',
  5: 'user_signature',
  6: 'org_signature',
  ...INFO_COMMON,
  93: 'codecs',
  94: 'title',
  95: 'employer',
  96: 'gender',
  97: 'alma_mater',
  98: 'supervisor',
  99: 'political_party',
  200: 'alternate_address',
  201: 'resume',
  202: 'endorsements',
  251: 'undefined',
  252: 'photo',
  253: 'full_signature',
  254: 'signet_id',
  255: 'id_signature',
};

const REPEATABLE: Record<SignetKind, ReadonlySet<number>> = {
  org: new Set([2, 21, 251]),
  user: new Set([3, 21, 202, 251]),
  ssr: new Set([3]),
};

const NON_TEXT = new Set([1, 2, 3, 4, 5, 6, 252, 253, 255]);

function defined(kind: SignetKind, fid: number): boolean {
  if (fid < 1 || fid > 255) return false;
  switch (kind) {
    case 'org':
      return fid <= 4 || fid >= 16;
    case 'user':
      return fid <= 6 || fid >= 16;
    case 'ssr':
      return fid <= 5;
  }
}

/** The rule for a field id of a signet kind, or null when libdime does not define it. */
export function fieldRule(kind: SignetKind, fid: number): FieldRule | null {
  if (!defined(kind, fid)) return null;
  const names = kind === 'org' ? ORG_NAMES : USER_NAMES;
  return {
    name: names[fid] ?? `field_${fid}`,
    unique: !REPEATABLE[kind].has(fid),
    text: !NON_TEXT.has(fid),
  };
}

/** Signature field ids per kind. */
export const CRYPTO_SIG: Readonly<Record<SignetKind, number>> = { org: 4, user: 6, ssr: 5 };
export const FULL_SIG = 253;
export const ID_FIELD = 254;
export const ID_SIG = 255;
export const SELF_SIG = 5;
export const CUSTODY_SIG = 4;

/** The fields required for the object to exist at all (vectors README, MISSING_FIELD). */
export const BASE_REQUIRED: Readonly<Record<SignetKind, readonly number[]>> = {
  org: [1, 3, 4],
  user: [1, 2, 5, 6],
  ssr: [1, 2, 5],
};

export const SIGNING_KEY_FIELD = 1;
export const ENCRYPTION_KEY_FIELD: Readonly<Record<SignetKind, number>> = { org: 3, user: 2, ssr: 2 };
