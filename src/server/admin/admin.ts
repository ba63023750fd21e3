/**
 * Administration over a data directory (`dime admin --data DIR …`), safe while the server runs:
 * SQLite in WAL mode with a busy timeout (the admin's short transactions wait for the server's and
 * the other way round), PostgreSQL with its own locks. The server picks up new domains within a
 * few seconds (DomainRegistry refresh) and reads users from the store on every use.
 */

import { existsSync } from 'node:fs';
import { DimeError } from '../../errors/index.js';
import { type DimeKeys, destroyKeys } from '../../keys/index.js';
import { checkKeysMatchSignet } from '../../message/parties.js';
import { parseOrgSignet, parseUserSignet, signetId, verifySignet } from '../../signet/index.js';
import {
  type AccountMode,
  changePassword,
  createAccount,
  type Domain,
  type MailStore,
  parseLogin,
  resetPassword,
  type User,
} from '../../store/index.js';
import { loadServerConfig, type ServerConfig } from '../config.js';
import { DataPaths, resolveServerPassphrase } from '../data-dir.js';
import {
  addLocalDomain,
  type DkimKeyMaker,
  type ImportedOrgKey,
  normalizeDomainName,
  openLocalDomain,
} from '../domains.js';
import { openServerStore } from '../store.js';

export interface AdminOptions {
  dataDir: string;
  configFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface UserSummary {
  address: string;
  mode: AccountMode;
  folders: { name: string; messages: number; bytes: number }[];
}

/**
 * Checks a user signet made elsewhere for `address` of the local domain `row`: a user signet whose
 * org signatures (crypto, and full and ID when present) verify with the domain's org signet, whose
 * own signature verifies, whose ID field (when present) names the address (same normalized form),
 * and, with `keys`, whose keys are those (SIGNET_MISMATCH).
 */
export function checkImportedUserSignet(
  address: string,
  bytes: Uint8Array,
  row: Domain,
  keys?: DimeKeys,
): void {
  const signet = parseUserSignet(bytes);
  if (!row.orgSignet) throw new DimeError('NOT_FOUND', `domain ${row.name} has no org signet`);
  const org = parseOrgSignet(row.orgSignet);
  try {
    verifySignet(signet, { org });
  } catch (e) {
    if (e instanceof DimeError && e.code === 'BAD_SIGNATURE') {
      throw new DimeError(
        'SIGNET_MISMATCH',
        `the user signet does not verify against the org signet of ${row.name}: ${e.message}`,
        { domain: row.name },
      );
    }
    throw e;
  }
  const id = signetId(signet);
  if (id !== null) {
    let named: { local: string; domain: string } | null = null;
    try {
      named = parseLogin(id);
    } catch {
      named = null;
    }
    const want = parseLogin(address);
    if (!named || named.local !== want.local || named.domain !== want.domain) {
      throw new DimeError('SIGNET_MISMATCH', `the user signet is for ${JSON.stringify(id)}, not ${address}`, {
        id,
      });
    }
  }
  if (keys) {
    try {
      checkKeysMatchSignet('recipient', keys, signet);
    } catch {
      throw new DimeError(
        'SIGNET_MISMATCH',
        `the user key does not belong to the signet given for ${address}`,
      );
    }
  }
}

export class Admin {
  private passphraseValue: string | null = null;

  private constructor(
    readonly config: ServerConfig,
    readonly paths: DataPaths,
    readonly store: MailStore,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async open(o: AdminOptions): Promise<Admin> {
    const paths = new DataPaths(o.dataDir);
    if (!existsSync(paths.root)) throw new DimeError('IO_ERROR', `no data directory at ${paths.root}`);
    const env = o.env ?? process.env;
    const config = loadServerConfig({
      dataDir: paths.root,
      ...(o.configFile ? { configFile: o.configFile } : {}),
      env,
    });
    const store = await openServerStore(config, paths);
    return new Admin(config, paths, store, env);
  }

  /** The server passphrase (never generated here: the server makes it on its first start). */
  passphrase(): string {
    this.passphraseValue ??= resolveServerPassphrase(this.paths, this.config, {
      generate: false,
      env: this.env,
    }).value;
    return this.passphraseValue;
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  /**
   * A new local domain. `imported`: its existing org key and org signet (made elsewhere) instead of
   * new ones: the signet must verify with its own POK, be the key's and name the domain
   * (SIGNET_MISMATCH); the key is stored protected under the server passphrase.
   */
  async addDomain(
    name: string,
    makeDkim: DkimKeyMaker,
    imported?: ImportedOrgKey,
  ): Promise<{ domain: string; imported: boolean }> {
    const d = await addLocalDomain(
      this.store,
      this.paths,
      normalizeDomainName(name),
      this.passphrase(),
      makeDkim,
      imported,
    );
    return { domain: d.name, imported: imported !== undefined };
  }

  private async userOf(address: string): Promise<{ user: User; address: string }> {
    const { local, domain } = await this.localAddress(address);
    const user = await this.store.findUser(domain.id, local);
    if (!user) throw new DimeError('NOT_FOUND', `no user ${local}@${domain.name}`);
    return { user, address: `${user.username}@${domain.name}` };
  }

  /**
   * A new user: STACIE credentials, and unless paranoid a user key under the mail realm key with a
   * signet signed by the domain's org key. A paranoid user brings its own signet (or gets none yet).
   *
   * Imports: `signet` alone (paranoid: the key stays with the user), or `keys` with their `signet`
   * (trustful, cautious: the key is sealed under the user's mail realm key like a generated one).
   * The signet must verify against the domain's org signet and name this address when it has an ID
   * field; the key must be the signet's (SIGNET_MISMATCH).
   */
  async addUser(
    address: string,
    password: Uint8Array,
    o: {
      mode?: AccountMode;
      signet?: Uint8Array;
      keys?: DimeKeys;
      quotaBytes?: number | null;
      quotaMessages?: number | null;
    } = {},
  ): Promise<{ address: string; mode: AccountMode; imported: boolean }> {
    const { local, domain: row } = await this.localAddress(address);
    const mode = o.mode ?? (this.config.accounts.defaultMode as AccountMode);
    if (o.keys && !o.signet) throw new DimeError('USAGE', 'an imported user key needs its signet (--signet)');
    if (o.keys && mode === 'paranoid') {
      throw new DimeError('USAGE', 'a paranoid account keeps its key off the server: drop --key');
    }
    if (o.signet && !o.keys && mode !== 'paranoid') {
      throw new DimeError(
        'USAGE',
        `a signet without its key makes a paranoid account (--mode paranoid); a ${mode} account needs the key too (--key)`,
      );
    }
    if (o.signet) checkImportedUserSignet(`${local}@${row.name}`, o.signet, row, o.keys);
    // the org key signs a new user key's signet; a paranoid or imported key needs no signature
    const domain =
      mode === 'paranoid' || o.keys
        ? null
        : openLocalDomain(this.paths, row, this.passphrase(), this.config.dkim.selector);
    try {
      const user = await createAccount(this.store, {
        username: address,
        password,
        mode,
        ...(domain ? { orgKeys: domain.orgKeys } : {}),
        ...(o.signet ? { signet: o.signet } : {}),
        ...(o.keys ? { userKeys: o.keys } : {}),
        quota: {
          bytes: o.quotaBytes !== undefined ? o.quotaBytes : this.config.limits.quotaBytes,
          messages: o.quotaMessages !== undefined ? o.quotaMessages : this.config.limits.quotaMessages,
        },
      });
      return { address: `${user.username}@${row.name}`, mode: user.mode, imported: o.signet !== undefined };
    } finally {
      if (domain) destroyKeys(domain.orgKeys);
    }
  }

  /**
   * Administrator password reset (no old password): the account gets new STACIE credentials and a
   * NEW user key and signet; mail sealed to the old key stays unreadable (src/store resetPassword).
   */
  async setPassword(address: string, password: Uint8Array): Promise<{ address: string; newKey: boolean }> {
    const { user, address: a } = await this.userOf(address);
    const row = (await this.store.getDomainById(user.domainId))!;
    const domain =
      user.mode === 'paranoid'
        ? null
        : openLocalDomain(this.paths, row, this.passphrase(), this.config.dkim.selector);
    try {
      await resetPassword(this.store, user.id, {
        newPassword: password,
        ...(domain ? { orgKeys: domain.orgKeys } : {}),
      });
      return { address: a, newKey: user.mode !== 'paranoid' };
    } finally {
      if (domain) destroyKeys(domain.orgKeys);
    }
  }

  /**
   * A password change with the current password (stacie.md): the same key, re-wrapped under the new
   * mail realm key, so stored mail stays readable. BAD_CREDENTIALS with a wrong current password.
   */
  async changePassword(
    address: string,
    current: Uint8Array,
    password: Uint8Array,
  ): Promise<{ address: string; newKey: boolean }> {
    const { address: a } = await this.userOf(address);
    await changePassword(this.store, a, current, password);
    return { address: a, newKey: false };
  }

  async removeUser(address: string): Promise<{ address: string }> {
    const { user, address: a } = await this.userOf(address);
    await this.store.deleteUser(user.id);
    return { address: a };
  }

  /** Changes a user's quota; an omitted limit stays as it is (null: no limit). */
  async setQuota(
    address: string,
    change: { bytes?: number | null; messages?: number | null },
  ): Promise<{ address: string; quota: { bytes: number | null; messages: number | null } }> {
    const { user, address: a } = await this.userOf(address);
    const quota = {
      bytes: change.bytes !== undefined ? change.bytes : user.quota.bytes,
      messages: change.messages !== undefined ? change.messages : user.quota.messages,
    };
    const updated = await this.store.setUserQuota(user.id, quota);
    return { address: a, quota: { bytes: updated.quota.bytes, messages: updated.quota.messages } };
  }

  /** A disabled user cannot log in and receives nothing (5xx at RCPT, SGNT unknown); mail stays. */
  async setDisabled(address: string, disabled: boolean): Promise<{ address: string; disabled: boolean }> {
    const { user, address: a } = await this.userOf(address);
    const updated = await this.store.setUserDisabled(user.id, disabled);
    return { address: a, disabled: updated.disabled };
  }

  /** The local domains with their user counts. */
  async listDomains(): Promise<{ domains: { name: string; users: number }[] }> {
    const domains = await this.store.listDomains();
    const out: { name: string; users: number }[] = [];
    for (const d of domains) out.push({ name: d.name, users: (await this.store.listUsers(d.id)).length });
    return { domains: out };
  }

  /**
   * Removes a local domain from the store (CONFLICT while it has users or aliases). Its key files
   * stay in the data directory: `domain add` with the same name takes the same org key up again.
   */
  async removeDomain(name: string): Promise<{ domain: string }> {
    const d = await this.store.getDomain(normalizeDomainName(name));
    if (!d) throw new DimeError('NOT_FOUND', `domain ${name} is not local`);
    await this.store.removeDomain(d.id);
    return { domain: d.name };
  }

  /** The users of one local domain, or of all. */
  async listUsers(
    domainName?: string,
  ): Promise<{ users: { address: string; mode: AccountMode; disabled: boolean }[] }> {
    const domains = await this.store.listDomains();
    const names = new Map(domains.map((d) => [d.id, d.name]));
    let domainId: number | undefined;
    if (domainName !== undefined) {
      const d = await this.store.getDomain(normalizeDomainName(domainName));
      if (!d) throw new DimeError('NOT_FOUND', `domain ${domainName} is not local`);
      domainId = d.id;
    }
    const users = await this.store.listUsers(domainId);
    return {
      users: users.map((u) => ({
        address: `${u.username}@${names.get(u.domainId) ?? '?'}`,
        mode: u.mode,
        disabled: u.disabled,
      })),
    };
  }

  /**
   * `alias` (local part @ a local domain) delivers to the user `target` (any local domain):
   * postmaster@, abuse@ (RFC 5321 §4.5.1, RFC 2142). CONFLICT when the local part is taken.
   */
  async addAlias(alias: string, target: string): Promise<{ alias: string; user: string }> {
    const { local, domain } = await this.localAddress(alias);
    const { user, address } = await this.userOf(target);
    await this.store.addAlias(domain.id, local, user.id);
    return { alias: `${local}@${domain.name}`, user: address };
  }

  async removeAlias(alias: string): Promise<{ alias: string }> {
    const { local, domain } = await this.localAddress(alias);
    if (!(await this.store.removeAlias(domain.id, local))) {
      throw new DimeError('NOT_FOUND', `no alias ${local}@${domain.name}`);
    }
    return { alias: `${local}@${domain.name}` };
  }

  /** The aliases that deliver to `target`. */
  async listAliases(target: string): Promise<{ user: string; aliases: string[] }> {
    const { user, address } = await this.userOf(target);
    const domains = new Map((await this.store.listDomains()).map((d) => [d.id, d.name]));
    const aliases = (await this.store.listAliases(user.id)).map(
      (a) => `${a.localPart}@${domains.get(a.domainId) ?? '?'}`,
    );
    return { user: address, aliases };
  }

  private async localAddress(address: string): Promise<{ local: string; domain: Domain }> {
    let parsed: { local: string; domain: string };
    try {
      parsed = parseLogin(address);
    } catch {
      throw new DimeError('BAD_INPUT', `not an address: ${JSON.stringify(address)}`);
    }
    const domain = await this.store.getDomain(parsed.domain);
    if (!domain) {
      throw new DimeError('NOT_FOUND', `domain ${parsed.domain} is not local (dime admin domain add first)`);
    }
    return { local: parsed.local, domain };
  }

  async showUser(address: string): Promise<UserSummary> {
    const { user, address: a } = await this.userOf(address);
    const folders = await this.store.summarizeFolders(user.id);
    return {
      address: a,
      mode: user.mode,
      folders: folders.map((f) => ({ name: f.folder.name, messages: f.messages, bytes: f.bytes })),
    };
  }
}
