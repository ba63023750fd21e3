import type { Clock } from '../clock.js';
import type { MailStore } from '../mail-store.js';
import type { QueuePolicy } from '../queue-policy.js';
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
} from '../types.js';
import * as aliases from './aliases.js';
import * as append from './append.js';
import type { StoreContext } from './context.js';
import { copyOrMove } from './copy-move.js';
import * as domains from './domains.js';
import type { Engine } from './engine.js';
import { expunge } from './expunge.js';
import * as folders from './folders.js';
import { currentVersion } from './migrate.js';
import * as queue from './queue.js';
import * as read from './read-messages.js';
import { setFlags } from './set-flags.js';
import * as users from './users.js';

/** MailStore over any Engine: the same SQL and the same code for SQLite and PostgreSQL. */
export class SqlMailStore implements MailStore {
  readonly engine: 'sqlite' | 'postgres';
  private readonly ctx: StoreContext;
  private closed = false;

  constructor(engine: Engine, clock: Clock, policy: QueuePolicy) {
    this.engine = engine.dialect.name;
    this.ctx = { engine, clock, policy };
  }

  schemaVersion(): Promise<number> {
    return currentVersion(this.ctx.engine);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ctx.engine.close();
  }

  addDomain(d: NewDomain): Promise<Domain> {
    return domains.addDomain(this.ctx, d);
  }
  getDomain(name: string): Promise<Domain | null> {
    return domains.getDomain(this.ctx, name);
  }
  getDomainById(id: number): Promise<Domain | null> {
    return domains.getDomainById(this.ctx, id);
  }
  listDomains(): Promise<Domain[]> {
    return domains.listDomains(this.ctx);
  }
  updateDomain(
    id: number,
    change: { orgKeyRef?: string | null; orgSignet?: Uint8Array | null },
  ): Promise<Domain> {
    return domains.updateDomain(this.ctx, id, change);
  }
  removeDomain(id: number): Promise<void> {
    return domains.removeDomain(this.ctx, id);
  }

  createUser(u: NewUser): Promise<User> {
    return users.createUser(this.ctx, u);
  }
  getUser(id: number): Promise<User | null> {
    return users.getUser(this.ctx, id);
  }
  findUser(domainId: number, username: string): Promise<User | null> {
    return users.findUser(this.ctx, domainId, username);
  }
  listUsers(domainId?: number): Promise<User[]> {
    return users.listUsers(this.ctx, domainId);
  }
  updateCredentials(userId: number, update: CredentialUpdate): Promise<User> {
    return users.updateCredentials(this.ctx, userId, update);
  }
  setUserKey(
    userId: number,
    encryptedKey: Uint8Array | null,
    encryptionPublicKey?: Uint8Array | null,
  ): Promise<User> {
    return users.setUserKey(this.ctx, userId, encryptedKey, encryptionPublicKey);
  }
  setUserSignet(
    userId: number,
    signet: Uint8Array | null,
    encryptionPublicKey?: Uint8Array | null,
  ): Promise<User> {
    return users.setUserSignet(this.ctx, userId, signet, encryptionPublicKey);
  }
  setUserDisabled(userId: number, disabled: boolean): Promise<User> {
    return users.setUserDisabled(this.ctx, userId, disabled);
  }
  setUserQuota(userId: number, quota: Quota): Promise<User> {
    return users.setUserQuota(this.ctx, userId, quota);
  }
  deleteUser(userId: number): Promise<void> {
    return users.deleteUser(this.ctx, userId);
  }
  usage(userId: number): Promise<UsageInfo> {
    return users.usage(this.ctx, userId);
  }

  addAlias(domainId: number, localPart: string, userId: number): Promise<Alias> {
    return aliases.addAlias(this.ctx, domainId, localPart, userId);
  }
  removeAlias(domainId: number, localPart: string): Promise<boolean> {
    return aliases.removeAlias(this.ctx, domainId, localPart);
  }
  listAliases(userId: number): Promise<Alias[]> {
    return aliases.listAliases(this.ctx, userId);
  }
  resolveAddress(domainName: string, localPart: string): Promise<User | null> {
    return aliases.resolveAddress(this.ctx, domainName, localPart);
  }

  createFolder(userId: number, name: string, options?: { subscribed?: boolean }): Promise<Folder> {
    return folders.createFolder(this.ctx, userId, name, options);
  }
  getFolder(userId: number, name: string): Promise<Folder | null> {
    return folders.getFolder(this.ctx, userId, name);
  }
  getFolderById(id: number): Promise<Folder | null> {
    return folders.getFolderById(this.ctx, id);
  }
  listFolders(userId: number): Promise<Folder[]> {
    return folders.listFolders(this.ctx, userId);
  }
  summarizeFolders(userId: number): Promise<FolderSummary[]> {
    return folders.summarizeFolders(this.ctx, userId);
  }
  renameFolder(folderId: number, newName: string): Promise<Folder> {
    return folders.renameFolder(this.ctx, folderId, newName);
  }
  setSubscribed(folderId: number, subscribed: boolean): Promise<Folder> {
    return folders.setSubscribed(this.ctx, folderId, subscribed);
  }
  deleteFolder(folderId: number): Promise<void> {
    return folders.deleteFolder(this.ctx, folderId);
  }

  appendMessage(
    folderId: number,
    message: NewMessage,
  ): Promise<{ uid: number; modseq: number; uidValidity: number }> {
    return append.appendMessage(this.ctx, folderId, message);
  }
  appendMessages(items: readonly AppendRequest[]): Promise<AppendOutcome[]> {
    return append.appendMessages(this.ctx, items);
  }
  getMessage(folderId: number, uid: number): Promise<MessageInfo | null> {
    return read.getMessage(this.ctx, folderId, uid);
  }
  listMessages(folderId: number, options?: ListOptions): Promise<MessageInfo[]> {
    return read.listMessages(this.ctx, folderId, options);
  }
  readBlob(folderId: number, uid: number): Promise<Uint8Array | null> {
    return read.readBlob(this.ctx, folderId, uid);
  }
  setFlags(
    folderId: number,
    uids: readonly number[],
    mode: FlagMode,
    flags: readonly string[],
    options?: { unchangedSince?: number },
  ): Promise<FlagResult> {
    return setFlags(this.ctx, folderId, uids, mode, flags, options);
  }
  expunge(
    folderId: number,
    options?: { uids?: readonly number[]; requireDeleted?: boolean },
  ): Promise<number[]> {
    return expunge(this.ctx, folderId, options);
  }
  vanishedSince(folderId: number, sinceModseq: number): Promise<number[]> {
    return read.vanishedSince(this.ctx, folderId, sinceModseq);
  }
  copyMessages(sourceFolderId: number, uids: readonly number[], targetFolderId: number): Promise<CopyResult> {
    return copyOrMove(this.ctx, sourceFolderId, uids, targetFolderId, false);
  }
  moveMessages(sourceFolderId: number, uids: readonly number[], targetFolderId: number): Promise<CopyResult> {
    return copyOrMove(this.ctx, sourceFolderId, uids, targetFolderId, true);
  }
  purgeDedupKeys(before: number): Promise<number> {
    return append.purgeDedupKeys(this.ctx, before);
  }

  enqueue(item: NewQueueItem): Promise<QueueItem> {
    return queue.enqueue(this.ctx, item);
  }
  getQueueItem(id: string): Promise<QueueItem | null> {
    return queue.getQueueItem(this.ctx, id);
  }
  readQueueBlob(id: string): Promise<Uint8Array | null> {
    return queue.readQueueBlob(this.ctx, id);
  }
  listQueue(state?: QueueState): Promise<QueueItem[]> {
    return queue.listQueue(this.ctx, state);
  }
  claim(options: ClaimOptions): Promise<QueueItem[]> {
    return queue.claim(this.ctx, options);
  }
  complete(id: string, worker: string): Promise<boolean> {
    return queue.complete(this.ctx, id, worker);
  }
  retry(id: string, worker: string, error: string): Promise<QueueItem | null> {
    return queue.retry(this.ctx, id, worker, error);
  }
  fail(id: string, worker: string, error: string): Promise<QueueItem | null> {
    return queue.fail(this.ctx, id, worker, error);
  }
  release(id: string, worker: string): Promise<boolean> {
    return queue.release(this.ctx, id, worker);
  }
  expediteQueue(id?: string): Promise<number> {
    return queue.expediteQueue(this.ctx, id);
  }

  removeQueueItem(id: string): Promise<boolean> {
    return queue.removeQueueItem(this.ctx, id);
  }
}
