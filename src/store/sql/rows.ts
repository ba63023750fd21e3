import { decodeFlags } from '../flags.js';
import type {
  AccountMode,
  Alias,
  Domain,
  Folder,
  MessageInfo,
  QueueItem,
  QueueState,
  RealmShard,
  User,
} from '../types.js';
import type { Row } from './engine.js';

/** Row → entity mappers shared by both engines (same column names; numbers may come as strings). */

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new TypeError('expected a byte column');
}

function bytesOrNull(v: unknown): Uint8Array | null {
  return v === null || v === undefined ? null : bytes(v);
}

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function toDomain(r: Row): Domain {
  return {
    id: num(r.id),
    name: String(r.name),
    orgKeyRef: strOrNull(r.org_key_ref),
    orgSignet: bytesOrNull(r.org_signet),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function toRealm(r: Row): RealmShard {
  return {
    label: String(r.label),
    serial: num(r.serial),
    shard: bytes(r.shard),
    rotated: num(r.rotated) === 1,
  };
}

export function toUser(r: Row, realms: RealmShard[]): User {
  return {
    id: num(r.id),
    domainId: num(r.domain_id),
    username: String(r.username),
    salt: bytes(r.salt),
    bonus: num(r.bonus),
    verification: bytes(r.verification),
    mode: String(r.mode) as AccountMode,
    realms,
    encryptedKey: bytesOrNull(r.encrypted_key),
    encryptionPublicKey: bytesOrNull(r.encryption_public),
    signet: bytesOrNull(r.signet),
    keySerial: num(r.key_serial),
    quota: { bytes: numOrNull(r.quota_bytes), messages: numOrNull(r.quota_messages) },
    usedBytes: num(r.used_bytes),
    usedMessages: num(r.used_messages),
    disabled: num(r.disabled) === 1,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function toAlias(r: Row): Alias {
  return {
    domainId: num(r.domain_id),
    localPart: String(r.local_part),
    userId: num(r.user_id),
    createdAt: num(r.created_at),
  };
}

export function toFolder(r: Row): Folder {
  return {
    id: num(r.id),
    userId: num(r.user_id),
    name: String(r.name),
    uidValidity: num(r.uidvalidity),
    uidNext: num(r.uidnext),
    highestModseq: num(r.highest_modseq),
    subscribed: num(r.subscribed) === 1,
    createdAt: num(r.created_at),
  };
}

/** Columns of `messages` that toMessage reads (never the blob). */
export const MESSAGE_COLUMNS =
  'folder_id, uid, modseq, system_flags, keywords, internal_date, size, kind, origin_domain, ' +
  'origin_fingerprint, transaction_id, verification, trace, plain_size';

export function toMessage(r: Row): MessageInfo {
  return {
    folderId: num(r.folder_id),
    uid: num(r.uid),
    modseq: num(r.modseq),
    flags: decodeFlags(num(r.system_flags), String(r.keywords)),
    internalDate: num(r.internal_date),
    size: num(r.size),
    metadata: {
      kind: String(r.kind) as 'dime' | 'sealed',
      originDomain: strOrNull(r.origin_domain),
      originFingerprint: strOrNull(r.origin_fingerprint),
      transactionId: strOrNull(r.transaction_id),
      verification: strOrNull(r.verification),
      trace: bytesOrNull(r.trace),
      plainSize: numOrNull(r.plain_size),
    },
  };
}

/** Columns of `queue` that toQueueItem reads (never the blob). */
export const QUEUE_COLUMNS =
  'id, state, created_at, next_attempt_at, attempts, last_error, lease_owner, lease_until, envelope, size';

export function toQueueItem(r: Row): QueueItem {
  return {
    id: String(r.id),
    state: String(r.state) as QueueState,
    createdAt: num(r.created_at),
    nextAttemptAt: num(r.next_attempt_at),
    attempts: num(r.attempts),
    lastError: strOrNull(r.last_error),
    leaseOwner: strOrNull(r.lease_owner),
    leaseUntil: numOrNull(r.lease_until),
    envelope: bytes(r.envelope),
    size: num(r.size),
  };
}
