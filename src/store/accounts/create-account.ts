import { crypto } from '../../crypto/index.js';
import { DimeError } from '../../errors/index.js';
import type { DimeKeys } from '../../keys/index.js';
import { STACIE_SALT_LENGTH, type StacieValues } from '../../stacie/index.js';
import type { MailStore } from '../mail-store.js';
import type { AccountMode, Quota, User } from '../types.js';
import { parseLogin, stacieUsername } from './address.js';
import { directDerive, type StacieDeriver } from './derive.js';
import { MIN_PASSWORD_LENGTH, passwordBytes, requireLongEnough } from './password.js';
import { mailRealmKey, newMailRealm } from './realm.js';
import { newWrappedUserKey, signetEncryptionKey, wrapUserKey } from './user-key.js';

export interface CreateAccountOptions {
  /** The user's address or local part (normalized as for login, stacie.md §2.1). */
  username: string;
  /** The domain (must exist in the store); taken from `username` when that has an `@`. */
  domain?: string;
  password: string | Uint8Array;
  /** Default trustful (keys.md §5). */
  mode?: AccountMode;
  /** STACIE bonus rounds (default 0). */
  bonus?: number;
  quota?: Partial<Quota>;
  /** Default INBOX, Sent, Drafts, Trash, Junk. */
  folders?: readonly string[];
  /** The domain's org keys: when given, the new user key gets a signet signed by them. */
  orgKeys?: DimeKeys;
  /**
   * Paranoid accounts: the user's own signet (the key never reaches the server). Trustful and
   * cautious accounts: the signet of `userKeys` (both made elsewhere; the caller checked them).
   */
  signet?: Uint8Array;
  /**
   * Trustful and cautious accounts: an existing user key (with its `signet`) instead of a new
   * one; it is sealed under the mail realm key like a generated key. The caller keeps ownership.
   */
  userKeys?: DimeKeys;
  derive?: StacieDeriver;
  minimumPasswordLength?: number;
}

export const DEFAULT_FOLDERS: readonly string[] = ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk'];

export function wipeValues(v: StacieValues): void {
  const c = crypto();
  c.zeroize(v.seed);
  c.zeroize(v.masterKey);
  c.zeroize(v.passwordKey);
}

/**
 * A new account: salt, bonus and verification token from STACIE (stacie.md §4), a mail realm
 * shard (rotated form), and, unless paranoid, a new user key sealed under the mail realm key as a
 * type 1976 object (keys.md §3, §5). Nothing derived from the password is kept except what
 * stacie.md §8 stores; the master key, realm key and plain user key are wiped.
 */
export async function createAccount(store: MailStore, o: CreateAccountOptions): Promise<User> {
  const mode = o.mode ?? 'trustful';
  const address = parseLogin(o.username, o.domain);
  if (o.domain !== undefined && parseLogin(`x@${o.domain}`).domain !== address.domain) {
    throw new DimeError('BAD_PARAMETER', 'the username names another domain');
  }
  const password = passwordBytes(o.password);
  requireLongEnough(password, o.minimumPasswordLength ?? MIN_PASSWORD_LENGTH);
  if (mode === 'paranoid' && o.userKeys !== undefined) {
    throw new DimeError('BAD_PARAMETER', 'a paranoid account keeps its key off the server');
  }
  if (mode !== 'paranoid' && (o.signet !== undefined) !== (o.userKeys !== undefined)) {
    throw new DimeError(
      'BAD_PARAMETER',
      o.signet !== undefined
        ? 'only paranoid accounts bring a signet without its key'
        : 'an imported user key needs its signet',
    );
  }
  const domain = await store.getDomain(address.domain);
  if (!domain) throw new DimeError('NOT_FOUND', `domain ${address.domain} not found`);

  const salt = crypto().randomBytes(STACIE_SALT_LENGTH);
  const bonus = o.bonus ?? 0;
  const name = stacieUsername(address);
  const values = await (o.derive ?? directDerive)({ username: name, password, salt, bonus });
  const realm = newMailRealm();
  let encryptedKey: Uint8Array | null = null;
  let encryptionPublicKey: Uint8Array | null = null;
  let signet: Uint8Array | null = null;
  try {
    if (mode === 'paranoid') {
      if (o.signet !== undefined) {
        signet = o.signet;
        encryptionPublicKey = signetEncryptionKey(o.signet);
      }
    } else {
      const realmKey = mailRealmKey(values.masterKey, { salt, realms: [realm] });
      try {
        if (o.userKeys && o.signet) {
          encryptionPublicKey = signetEncryptionKey(o.signet);
          if (!crypto().timingSafeEqual(encryptionPublicKey, o.userKeys.encryptionPublic)) {
            throw new DimeError('SIGNET_MISMATCH', 'the user key does not belong to the signet');
          }
          encryptedKey = wrapUserKey(realmKey, o.userKeys);
          signet = o.signet;
        } else {
          const wrapped = newWrappedUserKey(realmKey, o.orgKeys, name);
          encryptedKey = wrapped.encryptedKey;
          encryptionPublicKey = wrapped.encryptionPublicKey;
          signet = wrapped.signet;
        }
      } finally {
        crypto().zeroize(realmKey);
      }
    }
  } finally {
    wipeValues(values);
  }
  return store.createUser({
    domainId: domain.id,
    username: address.local,
    salt,
    bonus,
    verification: values.verification,
    mode,
    realms: [realm],
    encryptedKey,
    encryptionPublicKey,
    signet,
    ...(o.quota ? { quota: o.quota } : {}),
    folders: o.folders ?? DEFAULT_FOLDERS,
  });
}
