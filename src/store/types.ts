/**
 * Entities of the mail store. Times are milliseconds since the Unix epoch; ids are positive
 * integers chosen by the database; byte fields are opaque to the store.
 */

/** keys.md §5: who can open the user key. */
export type AccountMode = 'trustful' | 'cautious' | 'paranoid';
export const ACCOUNT_MODES: readonly AccountMode[] = ['trustful', 'cautious', 'paranoid'];

export interface Domain {
  id: number;
  /** Lower-case ASCII domain name, no trailing dot. */
  name: string;
  /**
   * Where the org key (type 1952) lives, e.g. a key file path relative to the data directory. The
   * org key itself is never in the database (decision; magma loads it from a file too, keys.md §5).
   */
  orgKeyRef: string | null;
  /** The org signet (public). */
  orgSignet: Uint8Array | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewDomain {
  name: string;
  orgKeyRef?: string | null;
  orgSignet?: Uint8Array | null;
}

/** One STACIE realm shard of a user (stacie.md §5, §8). */
export interface RealmShard {
  label: string;
  serial: number;
  /** 64 random bytes. */
  shard: Uint8Array;
  /** true: S = salt (new accounts); false: S = shard (legacy magma rows). */
  rotated: boolean;
}

export interface Quota {
  /** null: no limit. */
  bytes: number | null;
  messages: number | null;
}

export interface User {
  id: number;
  domainId: number;
  /** The stored username: the normalized local part (stacie.md §2.1). */
  username: string;
  /** 128 bytes. */
  salt: Uint8Array;
  bonus: number;
  /** 64 bytes: the STACIE verification token. */
  verification: Uint8Array;
  mode: AccountMode;
  realms: RealmShard[];
  /** Encrypted user key, type 1976 under the mail realm key; null for paranoid accounts. */
  encryptedKey: Uint8Array | null;
  /** 33-byte compressed secp256k1 key that arriving mail is sealed to; null until known. */
  encryptionPublicKey: Uint8Array | null;
  /** The user signet (type 1789), when signed. */
  signet: Uint8Array | null;
  /** Bumped whenever the encrypted key or the signet changes (DMAP `KEY` status, dmap.md §2.5). */
  keySerial: number;
  quota: Quota;
  usedBytes: number;
  usedMessages: number;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface NewUser {
  domainId: number;
  username: string;
  salt: Uint8Array;
  bonus: number;
  verification: Uint8Array;
  mode: AccountMode;
  realms: readonly RealmShard[];
  encryptedKey?: Uint8Array | null;
  encryptionPublicKey?: Uint8Array | null;
  signet?: Uint8Array | null;
  quota?: Partial<Quota>;
  disabled?: boolean;
  /** Folders created with the user in the same transaction; default `['INBOX']`. */
  folders?: readonly string[];
}

/** A password change: everything STACIE derives from the password, replaced at once. */
export interface CredentialUpdate {
  /** The verification token the change was computed against: CONFLICT when it changed meanwhile. */
  expectedVerification: Uint8Array;
  salt: Uint8Array;
  bonus: number;
  verification: Uint8Array;
  realms: readonly RealmShard[];
  /** The re-wrapped user key (undefined: unchanged; null: none, paranoid). */
  encryptedKey?: Uint8Array | null;
  /** A new key's signet and public key (administrator reset); undefined: unchanged. */
  signet?: Uint8Array | null;
  encryptionPublicKey?: Uint8Array | null;
}

export interface Alias {
  domainId: number;
  localPart: string;
  userId: number;
  createdAt: number;
}

export interface Folder {
  id: number;
  userId: number;
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  subscribed: boolean;
  createdAt: number;
}

export interface FolderSummary {
  folder: Folder;
  messages: number;
  bytes: number;
  unseen: number;
}

/**
 * What the server may see of a stored message (flow.md §5, dmap.md §2.1); nothing here is taken
 * from inside the encrypted object except by the server's own choice. The blob itself is opaque.
 */
export interface MessageMetadata {
  /** 'dime': a DIME object as received; 'sealed': legacy mail sealed for the user on arrival. */
  kind: 'dime' | 'sealed';
  /** Origin domain (flow.md §5: server-visible for DIME; null for legacy mail). */
  originDomain?: string | null;
  /** Origin signet fingerprint (base64), DIME only. */
  originFingerprint?: string | null;
  /** The delivering transaction's id (DMTP/SMTP queue id). */
  transactionId?: string | null;
  /** Short verification result, e.g. `pass`, `fail`, `none` (no names or addresses). */
  verification?: string | null;
  /** The DIME tracing prefix as updated at receipt (flow.md §4-5), kept apart from the object. */
  trace?: Uint8Array | null;
  /** Size of what the user sees (IMAP RFC822.SIZE), when the server knew it at sealing time. */
  plainSize?: number | null;
}

export interface NewMessage {
  /** Opaque stored bytes: a DIME object, or a sealed box (src/crypto/sealed-box.ts). */
  blob: Uint8Array;
  flags?: readonly string[];
  /** Default: the store's clock. */
  internalDate?: number;
  metadata: MessageMetadata;
}

export interface MessageInfo {
  folderId: number;
  uid: number;
  modseq: number;
  flags: string[];
  internalDate: number;
  /** Stored bytes (the blob). */
  size: number;
  metadata: Required<MessageMetadata>;
}

export interface AppendRequest {
  folderId: number;
  message: NewMessage;
  /**
   * Idempotency key (e.g. an HMAC of transaction id and recipient, never an address in clear):
   * a key seen before makes this item a `duplicate` and stores nothing. Keys are kept until
   * purgeDedupKeys removes them.
   */
  dedupKey?: Uint8Array;
}

export type AppendOutcome =
  | { status: 'stored'; folderId: number; uid: number; modseq: number; uidValidity: number }
  | { status: 'duplicate'; folderId: number }
  | { status: 'over_quota'; folderId: number };

export type FlagMode = 'add' | 'remove' | 'replace';

export interface FlagChange {
  uid: number;
  modseq: number;
  flags: string[];
}

export interface FlagResult {
  /** Messages whose flags changed (one new modseq for the whole operation). */
  changed: FlagChange[];
  /** UIDs refused by UNCHANGEDSINCE (RFC 7162 MODIFIED). */
  modified: number[];
}

export interface CopyResult {
  uidValidity: number;
  /** [source uid, destination uid] in source uid order (UIDPLUS COPYUID). */
  mapping: Array<[number, number]>;
}

export interface ListOptions {
  /** Inclusive UID range. */
  fromUid?: number;
  toUid?: number;
  /** Only messages with modseq > this (CONDSTORE CHANGEDSINCE). */
  changedSince?: number;
  limit?: number;
}

export type QueueState = 'ready' | 'leased' | 'dead';

/**
 * An outbound delivery. `envelope` and the blob are opaque: the server seals both (e.g. to its own
 * spool key, src/crypto/sealed-box.ts) so that the database shows no addresses or content.
 */
export interface QueueItem {
  id: string;
  state: QueueState;
  createdAt: number;
  nextAttemptAt: number;
  /** Attempts started (incremented by each claim). */
  attempts: number;
  /** Server-written, visible: reply codes and short text, no addresses. */
  lastError: string | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  envelope: Uint8Array;
  size: number;
}

export interface NewQueueItem {
  envelope: Uint8Array;
  blob: Uint8Array;
  /** Default: now. */
  nextAttemptAt?: number;
}

export interface ClaimOptions {
  worker: string;
  /** How long the claim is exclusive; after it expires another worker may claim the item. */
  leaseMs: number;
  limit?: number;
}

export interface UsageInfo {
  bytes: number;
  messages: number;
  quota: Quota;
}
