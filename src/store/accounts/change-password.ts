import { crypto } from '../../crypto/index.js';
import { DimeError } from '../../errors/index.js';
import type { DimeKeys } from '../../keys/index.js';
import { STACIE_SALT_LENGTH, verifyPasswordKey } from '../../stacie/index.js';
import type { MailStore } from '../mail-store.js';
import type { RealmShard, User } from '../types.js';
import { stacieUsername } from './address.js';
import { wipeValues } from './create-account.js';
import { directDerive, type StacieDeriver } from './derive.js';
import { checkPassword, type LoginOptions } from './login.js';
import { MIN_PASSWORD_LENGTH, passwordBytes, requireLongEnough } from './password.js';
import { mailRealmKey, newMailRealm } from './realm.js';
import { checkEncryptedUserKey, newWrappedUserKey, rewrapUserKey } from './user-key.js';

/** New salt, token and mail realm shard for a password; the caller wipes `masterKey`. */
async function freshCredentials(
  username: string,
  password: Uint8Array,
  bonus: number,
  derive: StacieDeriver,
  serial: number,
): Promise<{ salt: Uint8Array; verification: Uint8Array; realm: RealmShard; realmKey: Uint8Array }> {
  const salt = crypto().randomBytes(STACIE_SALT_LENGTH);
  const values = await derive({ username, password, salt, bonus });
  const realm = newMailRealm(serial);
  try {
    return {
      salt,
      verification: values.verification,
      realm,
      realmKey: mailRealmKey(values.masterKey, { salt, realms: [realm] }),
    };
  } finally {
    wipeValues(values);
  }
}

function nextSerial(user: User): number {
  const cur = user.realms.find((r) => r.label === 'mail')?.serial ?? 0;
  return (cur + 1) & 0xffff;
}

export interface ChangePasswordOptions extends LoginOptions {
  /** New bonus (default: keep the current one). */
  bonus?: number;
}

/**
 * Password change with the old password: the user key inside the 1976 object stays the same and
 * is re-wrapped under the new mail realm key, so mail sealed to it needs no re-encryption.
 * CONFLICT when the credentials changed concurrently.
 */
export async function changePassword(
  store: MailStore,
  login: string,
  oldPassword: string | Uint8Array,
  newPassword: string | Uint8Array,
  o: ChangePasswordOptions = {},
): Promise<User> {
  const next = passwordBytes(newPassword);
  requireLongEnough(next, o.minimumPasswordLength ?? MIN_PASSWORD_LENGTH);
  const derive = o.derive ?? directDerive;
  const { user, address, values } = await checkPassword(store, login, oldPassword, o);
  let oldRealmKey: Uint8Array;
  try {
    oldRealmKey = mailRealmKey(values.masterKey, user);
  } finally {
    wipeValues(values);
  }
  try {
    const fresh = await freshCredentials(
      stacieUsername(address),
      next,
      o.bonus ?? user.bonus,
      derive,
      nextSerial(user),
    );
    try {
      return await store.updateCredentials(user.id, {
        expectedVerification: user.verification,
        salt: fresh.salt,
        bonus: o.bonus ?? user.bonus,
        verification: fresh.verification,
        realms: [fresh.realm, ...user.realms.filter((r) => r.label !== 'mail')],
        ...(user.encryptedKey
          ? { encryptedKey: rewrapUserKey(user.encryptedKey, oldRealmKey, fresh.realmKey) }
          : {}),
      });
    } finally {
      crypto().zeroize(fresh.realmKey);
    }
  } finally {
    crypto().zeroize(oldRealmKey);
  }
}

export interface ResetPasswordOptions {
  newPassword: string | Uint8Array;
  bonus?: number;
  /** Signs the new user key's signet. */
  orgKeys?: DimeKeys;
  derive?: StacieDeriver;
  minimumPasswordLength?: number;
}

/**
 * Administrator reset without the old password. The old user key cannot be opened, so a trustful
 * or cautious account gets a NEW user key (and signet when org keys are given): mail sealed to the
 * old key stays unreadable. Paranoid accounts keep their signet and only get new credentials.
 */
export async function resetPassword(
  store: MailStore,
  userId: number,
  o: ResetPasswordOptions,
): Promise<User> {
  const pw = passwordBytes(o.newPassword);
  requireLongEnough(pw, o.minimumPasswordLength ?? MIN_PASSWORD_LENGTH);
  const user = await store.getUser(userId);
  if (!user) throw new DimeError('NOT_FOUND', 'user not found', { userId });
  const domain = await store.getDomainById(user.domainId);
  if (!domain) throw new DimeError('NOT_FOUND', 'domain not found', { domainId: user.domainId });
  const name = stacieUsername({ local: user.username, domain: domain.name });
  const bonus = o.bonus ?? user.bonus;
  const fresh = await freshCredentials(name, pw, bonus, o.derive ?? directDerive, nextSerial(user));
  try {
    const realms = [fresh.realm, ...user.realms.filter((r) => r.label !== 'mail')];
    if (user.mode === 'paranoid') {
      return await store.updateCredentials(user.id, {
        expectedVerification: user.verification,
        salt: fresh.salt,
        bonus,
        verification: fresh.verification,
        realms,
      });
    }
    const wrapped = newWrappedUserKey(fresh.realmKey, o.orgKeys, name);
    return await store.updateCredentials(user.id, {
      expectedVerification: user.verification,
      salt: fresh.salt,
      bonus,
      verification: fresh.verification,
      realms,
      encryptedKey: wrapped.encryptedKey,
      signet: wrapped.signet,
      encryptionPublicKey: wrapped.encryptionPublicKey,
    });
  } finally {
    crypto().zeroize(fresh.realmKey);
  }
}

/**
 * DMAP password change (stacie.md §7.2): the client proves the old password with its old password
 * key and sends new credentials and its user key re-wrapped by itself. BAD_CREDENTIALS for a
 * wrong proof.
 */
export async function replaceCredentials(
  store: MailStore,
  userId: number,
  c: {
    oldPasswordKey: Uint8Array;
    salt: Uint8Array;
    bonus: number;
    verification: Uint8Array;
    mailRealm: RealmShard;
    encryptedKey?: Uint8Array;
  },
): Promise<User> {
  const user = await store.getUser(userId);
  if (!user) throw new DimeError('NOT_FOUND', 'user not found', { userId });
  const domain = await store.getDomainById(user.domainId);
  if (!domain) throw new DimeError('NOT_FOUND', 'domain not found', { domainId: user.domainId });
  const name = new TextEncoder().encode(stacieUsername({ local: user.username, domain: domain.name }));
  if (!verifyPasswordKey(user.verification, name, user.salt, c.oldPasswordKey)) {
    throw new DimeError('BAD_CREDENTIALS', 'the old password key does not match');
  }
  if (c.mailRealm.label !== 'mail') throw new DimeError('BAD_PARAMETER', 'expected the mail realm shard');
  if (c.encryptedKey) checkEncryptedUserKey(c.encryptedKey);
  return store.updateCredentials(userId, {
    expectedVerification: user.verification,
    salt: c.salt,
    bonus: c.bonus,
    verification: c.verification,
    realms: [c.mailRealm, ...user.realms.filter((r) => r.label !== 'mail')],
    ...(c.encryptedKey ? { encryptedKey: c.encryptedKey } : {}),
  });
}
