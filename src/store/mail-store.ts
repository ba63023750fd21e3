import type {
  Alias,
  AppendOutcome,
  AppendRequest,
  ClaimOptions,
  CopyResult,
  CredentialUpdate,
  Domain,
  FlagMode,
  FlagResult,
  Folder,
  FolderSummary,
  ListOptions,
  MessageInfo,
  NewDomain,
  NewMessage,
  NewQueueItem,
  NewUser,
  QueueItem,
  QueueState,
  Quota,
  UsageInfo,
  User,
} from './types.js';

/**
 * The server's durable state behind one interface, with two engines (SQLite, PostgreSQL). Every
 * method that changes more than one row is one transaction; when a promise resolves, the change is
 * committed and on disk. The store sees only ciphertext, opaque blobs and the server-visible
 * metadata of types.ts. Failures are DimeErrors: NOT_FOUND, CONFLICT, QUOTA_EXCEEDED, STORE_FAILED.
 */
export interface MailStore {
  readonly engine: 'sqlite' | 'postgres';
  /** Highest applied schema migration. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;

  // domains
  addDomain(domain: NewDomain): Promise<Domain>;
  getDomain(name: string): Promise<Domain | null>;
  getDomainById(id: number): Promise<Domain | null>;
  listDomains(): Promise<Domain[]>;
  updateDomain(
    id: number,
    change: { orgKeyRef?: string | null; orgSignet?: Uint8Array | null },
  ): Promise<Domain>;
  /** CONFLICT while users or aliases remain. */
  removeDomain(id: number): Promise<void>;

  // users
  /** Creates the user, its realm shards and its first folders in one transaction. */
  createUser(user: NewUser): Promise<User>;
  getUser(id: number): Promise<User | null>;
  findUser(domainId: number, username: string): Promise<User | null>;
  listUsers(domainId?: number): Promise<User[]>;
  /** Password change: replaces salt, bonus, verification, shards (and key) if the token is still the expected one. */
  updateCredentials(userId: number, update: CredentialUpdate): Promise<User>;
  /** DMAP `KEY STORE` and key rotation; bumps keySerial. */
  setUserKey(
    userId: number,
    encryptedKey: Uint8Array | null,
    encryptionPublicKey?: Uint8Array | null,
  ): Promise<User>;
  setUserSignet(
    userId: number,
    signet: Uint8Array | null,
    encryptionPublicKey?: Uint8Array | null,
  ): Promise<User>;
  setUserDisabled(userId: number, disabled: boolean): Promise<User>;
  setUserQuota(userId: number, quota: Quota): Promise<User>;
  /** Removes the user with folders, messages, aliases and shards. */
  deleteUser(userId: number): Promise<void>;
  usage(userId: number): Promise<UsageInfo>;

  // aliases
  addAlias(domainId: number, localPart: string, userId: number): Promise<Alias>;
  removeAlias(domainId: number, localPart: string): Promise<boolean>;
  listAliases(userId: number): Promise<Alias[]>;
  /** The user a local address delivers to: a username of the domain first, then an alias. */
  resolveAddress(domainName: string, localPart: string): Promise<User | null>;

  // folders
  createFolder(userId: number, name: string, options?: { subscribed?: boolean }): Promise<Folder>;
  getFolder(userId: number, name: string): Promise<Folder | null>;
  getFolderById(id: number): Promise<Folder | null>;
  listFolders(userId: number): Promise<Folder[]>;
  /** Message and byte counts per folder (one query). */
  summarizeFolders(userId: number): Promise<FolderSummary[]>;
  /** Keeps the UIDVALIDITY (RFC 3501 RENAME). */
  renameFolder(folderId: number, newName: string): Promise<Folder>;
  setSubscribed(folderId: number, subscribed: boolean): Promise<Folder>;
  /** Deletes the folder and its messages. */
  deleteFolder(folderId: number): Promise<void>;

  // messages
  /** One message; QUOTA_EXCEEDED when it does not fit. */
  appendMessage(
    folderId: number,
    message: NewMessage,
  ): Promise<{ uid: number; modseq: number; uidValidity: number }>;
  /**
   * Many messages in one transaction (one fsync: group commit across sessions). Each item has
   * its own outcome: stored, duplicate (dedup key seen) or over_quota; NOT_FOUND fails the batch.
   */
  appendMessages(items: readonly AppendRequest[]): Promise<AppendOutcome[]>;
  getMessage(folderId: number, uid: number): Promise<MessageInfo | null>;
  listMessages(folderId: number, options?: ListOptions): Promise<MessageInfo[]>;
  /** The stored bytes; null for an unknown UID. */
  readBlob(folderId: number, uid: number): Promise<Uint8Array | null>;
  /** STORE (FLAGS | +FLAGS | -FLAGS) with optional UNCHANGEDSINCE. `\Recent` is not stored. */
  setFlags(
    folderId: number,
    uids: readonly number[],
    mode: FlagMode,
    flags: readonly string[],
    options?: { unchangedSince?: number },
  ): Promise<FlagResult>;
  /**
   * EXPUNGE: removes messages flagged \Deleted (all, or only among `uids`: UID EXPUNGE); with
   * `requireDeleted: false`, removes exactly `uids`. Returns the removed UIDs, ascending.
   */
  expunge(
    folderId: number,
    options?: { uids?: readonly number[]; requireDeleted?: boolean },
  ): Promise<number[]>;
  /** UIDs expunged with modseq > `sinceModseq` (QRESYNC VANISHED). */
  vanishedSince(folderId: number, sinceModseq: number): Promise<number[]>;
  /** COPY within one user's folders; counts against the quota; the blob is shared, not duplicated. */
  copyMessages(sourceFolderId: number, uids: readonly number[], targetFolderId: number): Promise<CopyResult>;
  /** MOVE (RFC 6851): atomic copy + expunge, quota unchanged. */
  moveMessages(sourceFolderId: number, uids: readonly number[], targetFolderId: number): Promise<CopyResult>;

  // idempotency keys
  /** Forgets dedup keys recorded before `before` (ms); returns how many. */
  purgeDedupKeys(before: number): Promise<number>;

  // outbound queue
  enqueue(item: NewQueueItem): Promise<QueueItem>;
  getQueueItem(id: string): Promise<QueueItem | null>;
  readQueueBlob(id: string): Promise<Uint8Array | null>;
  listQueue(state?: QueueState): Promise<QueueItem[]>;
  /**
   * Leases up to `limit` due items (ready with nextAttemptAt ≤ now, or leased with an expired
   * lease) to `worker`, oldest due first; attempts + 1. Two workers never get the same item.
   */
  claim(options: ClaimOptions): Promise<QueueItem[]>;
  /** Delivered: removes the item. False when the lease is no longer this worker's. */
  complete(id: string, worker: string): Promise<boolean>;
  /**
   * Temporary failure: back to ready after the policy's backoff, or dead once the policy's attempts
   * or age are used up. Null when the lease is no longer this worker's.
   */
  retry(id: string, worker: string, error: string): Promise<QueueItem | null>;
  /** Permanent failure: dead (the server bounces, then removes it). */
  fail(id: string, worker: string, error: string): Promise<QueueItem | null>;
  /** Gives a lease back without counting the attempt (shutdown). */
  release(id: string, worker: string): Promise<boolean>;
  /** Ready items (one, or all) due now; leased and dead ones stay. How many were rescheduled. */
  expediteQueue(id?: string): Promise<number>;
  removeQueueItem(id: string): Promise<boolean>;
}
