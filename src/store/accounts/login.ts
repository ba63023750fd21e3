import { crypto } from '../../crypto/index.js';
import { DimeError } from '../../errors/index.js';
import { type DimeKeys, destroyKeys } from '../../keys/index.js';
import { fakeSalt, type StacieValues } from '../../stacie/index.js';
import type { MailStore } from '../mail-store.js';
import type { Domain, User } from '../types.js';
import { type AccountAddress, parseLogin, stacieUsername } from './address.js';
import { wipeValues } from './create-account.js';
import { directDerive, type StacieDeriver } from './derive.js';
import { longEnough, MIN_PASSWORD_LENGTH, passwordBytes } from './password.js';
import { mailRealmKey } from './realm.js';
import { openUserKey } from './user-key.js';

export interface LoginOptions {
  /** Domain of login names without `@`. */
  defaultDomain?: string;
  derive?: StacieDeriver;
  minimumPasswordLength?: number;
  /**
   * Secret for the salt of unknown users (stacie.md §7.2): an unknown name costs the same
   * derivation as a known one. Default: a random secret per process.
   */
  serverSecret?: Uint8Array;
}

/**
 * What a successful login holds for the length of the session, in memory only: the STACIE master
 * key, the mail realm key and, for trustful accounts, the opened user key (keys.md §5). Call
 * destroy() when the session ends.
 */
export interface Session {
  user: User;
  domain: Domain;
  /** The name STACIE hashed (`local@domain`). */
  stacieUsername: string;
  masterKey: Uint8Array;
  realmKey: Uint8Array;
  /** Trustful accounts only; null for cautious (the client opens it) and paranoid (none stored). */
  userKeys: DimeKeys | null;
  destroy(): void;
}

const processSecret = crypto().randomBytes(64);

function badCredentials(): never {
  throw new DimeError('BAD_CREDENTIALS', 'wrong login name or password');
}

/** The password check of magma `auth_login` (stacie.md §7.1); the derived values are the caller's to wipe. */
export async function checkPassword(
  store: MailStore,
  login: string,
  password: string | Uint8Array,
  o: LoginOptions = {},
): Promise<{ user: User; domain: Domain; address: AccountAddress; values: StacieValues }> {
  const derive = o.derive ?? directDerive;
  const pw = passwordBytes(password);
  if (!longEnough(pw, o.minimumPasswordLength ?? MIN_PASSWORD_LENGTH)) badCredentials();
  let address: AccountAddress;
  try {
    address = parseLogin(login, o.defaultDomain);
  } catch {
    badCredentials();
  }
  const name = stacieUsername(address);
  const domain = await store.getDomain(address.domain);
  const user = domain ? await store.findUser(domain.id, address.local) : null;
  if (!domain || !user) {
    // same work as for a real account, then the same answer
    const v = await derive({
      username: name,
      password: pw,
      salt: fakeSalt(o.serverSecret ?? processSecret, name),
      bonus: 0,
    });
    wipeValues(v);
    badCredentials();
  }
  const values = await derive({ username: name, password: pw, salt: user.salt, bonus: user.bonus });
  if (!crypto().timingSafeEqual(values.verification, user.verification)) {
    wipeValues(values);
    badCredentials();
  }
  if (user.disabled) {
    wipeValues(values);
    throw new DimeError('ACCOUNT_DISABLED', 'the account is disabled', { userId: user.id });
  }
  return { user, domain, address, values };
}

/**
 * Password login (IMAP, POP3, SMTP AUTH, web): STACIE with the stored salt and bonus, compare the
 * verification token, then master key → mail realm key → user key. BAD_CREDENTIALS for a wrong
 * name or password alike, ACCOUNT_DISABLED after a right password on a disabled account.
 */
export async function verifyLogin(
  store: MailStore,
  login: string,
  password: string | Uint8Array,
  o: LoginOptions = {},
): Promise<Session> {
  const { user, domain, address, values } = await checkPassword(store, login, password, o);
  const c = crypto();
  c.zeroize(values.seed);
  c.zeroize(values.passwordKey);
  const masterKey = values.masterKey;
  let realmKey: Uint8Array;
  let userKeys: DimeKeys | null = null;
  try {
    realmKey = mailRealmKey(masterKey, user);
    if (user.mode === 'trustful' && user.encryptedKey) userKeys = openUserKey(user.encryptedKey, realmKey);
  } catch (e) {
    c.zeroize(masterKey);
    throw e;
  }
  return {
    user,
    domain,
    stacieUsername: stacieUsername(address),
    masterKey,
    realmKey,
    userKeys,
    destroy() {
      c.zeroize(masterKey);
      c.zeroize(realmKey);
      if (userKeys) destroyKeys(userKeys);
    },
  };
}
