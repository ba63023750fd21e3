/** DIME object type numbers ("magic") and their armor labels (objects.md §1, §4). */
export const ObjectType = {
  SSR: 1215,
  ORG_SIGNET: 1776,
  USER_SIGNET: 1789,
  ORG_KEY: 1952,
  USER_KEY: 2013,
  ENCRYPTED_ORG_KEY: 1947,
  ENCRYPTED_USER_KEY: 1976,
  ENCRYPTED_MESSAGE: 1847,
  MESSAGE_TRACING: 1837,
} as const;

export type ObjectTypeNumber = (typeof ObjectType)[keyof typeof ObjectType];

/** Types whose header is `type:u16 size:u24`; the others (encrypted keys, messages) use `size:u32`. */
export const FIVE_BYTE_HEADER_TYPES: ReadonlySet<number> = new Set([
  ObjectType.SSR,
  ObjectType.ORG_SIGNET,
  ObjectType.USER_SIGNET,
  ObjectType.ORG_KEY,
  ObjectType.USER_KEY,
]);

export const SIX_BYTE_HEADER_TYPES: ReadonlySet<number> = new Set([
  ObjectType.ENCRYPTED_ORG_KEY,
  ObjectType.ENCRYPTED_USER_KEY,
  ObjectType.ENCRYPTED_MESSAGE,
]);

/** The label we write for each type. */
export const ARMOR_LABEL_FOR_TYPE: Readonly<Record<number, string>> = {
  [ObjectType.SSR]: 'SIGNET SIGNING REQUEST',
  [ObjectType.ORG_SIGNET]: 'ORGANIZATIONAL SIGNET',
  [ObjectType.USER_SIGNET]: 'USER SIGNET',
  [ObjectType.ORG_KEY]: 'ORGANIZATIONAL KEY',
  [ObjectType.USER_KEY]: 'USER KEY',
  [ObjectType.ENCRYPTED_ORG_KEY]: 'ENCRYPTED ORGANIZATIONAL KEY',
  [ObjectType.ENCRYPTED_USER_KEY]: 'ENCRYPTED USER KEY',
  [ObjectType.ENCRYPTED_MESSAGE]: 'ENCRYPTED MESSAGE',
};

/** The project's passphrase-protected key file (keys.md §6); its body is not a typed object. */
export const PROTECTED_KEY_LABEL = 'DIME PROTECTED KEY';

/** Labels a reader accepts, and the object types each may carry (objects.md §4 decision). */
export const LABEL_TYPES: Readonly<Record<string, readonly number[]>> = {
  'SIGNET SIGNING REQUEST': [ObjectType.SSR],
  // libdime writes SSRs under its org-signet label
  'ORGANIZATIONAL SIGNET': [ObjectType.ORG_SIGNET, ObjectType.SSR],
  'USER SIGNET': [ObjectType.USER_SIGNET],
  'ORGANIZATIONAL KEY': [ObjectType.ORG_KEY],
  'USER KEY': [ObjectType.USER_KEY],
  'ENCRYPTED ORGANIZATIONAL KEY': [ObjectType.ENCRYPTED_ORG_KEY],
  'ENCRYPTED USER KEY': [ObjectType.ENCRYPTED_USER_KEY],
  'ENCRYPTED MESSAGE': [ObjectType.ENCRYPTED_MESSAGE],
  [PROTECTED_KEY_LABEL]: [],
};

export function objectTypeName(type: number): string {
  switch (type) {
    case ObjectType.SSR:
      return 'ssr';
    case ObjectType.ORG_SIGNET:
      return 'org signet';
    case ObjectType.USER_SIGNET:
      return 'user signet';
    case ObjectType.ORG_KEY:
      return 'org key';
    case ObjectType.USER_KEY:
      return 'user key';
    case ObjectType.ENCRYPTED_ORG_KEY:
      return 'encrypted org key';
    case ObjectType.ENCRYPTED_USER_KEY:
      return 'encrypted user key';
    case ObjectType.ENCRYPTED_MESSAGE:
      return 'encrypted message';
    default:
      return `unknown type ${type}`;
  }
}
