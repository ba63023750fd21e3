/**
 * Administration over a data directory (`dime admin --data DIR …`), safe while the server runs:
 * SQLite in WAL mode with a busy timeout (the admin's short transactions wait for the server's and
 * the other way round), PostgreSQL with its own locks. The server picks up new domains within a
 * few seconds (DomainRegistry refresh) and reads users from the store on every use.
 */

import { existsSync } from 'node:fs';
import { DimeError } from '../../errors/index.js';
import { parseUserSignet } from '../../signet/index.js';
import {
  type AccountMode,
  createAccount,
  type MailStore,
  parseLogin,
  resetPassword,
  type User,
} from '../../store/index.js';
import { loadServerConfig, type ServerConfig } from '../config.js';
import { DataPaths, resolveServerPassphrase } from '../data-dir.js';
import { addLocalDomain, type DkimKeyMaker, normalizeDomainName, openLocalDomain } from '../domains.js';
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

  async addDomain(name: string, makeDkim: DkimKeyMaker): Promise<{ domain: string }> {
    const d = await addLocalDomain(
      this.store,
      this.paths,
      normalizeDomainName(name),
      this.passphrase(),
      makeDkim,
    );
    return { domain: d.name };
  }

  private async userOf(address: string): Promise<{ user: User; address: string }> {
    let parsed: { local: string; domain: string };
    try {
      parsed = parseLogin(address);
    } catch {
      throw new DimeError('BAD_INPUT', `not an address: ${JSON.stringify(address)}`);
    }
    const domain = await this.store.getDomain(parsed.domain);
    if (!domain) throw new DimeError('NOT_FOUND', `domain ${parsed.domain} is not local`);
    const user = await this.store.findUser(domain.id, parsed.local);
    if (!user) throw new DimeError('NOT_FOUND', `no user ${parsed.local}@${parsed.domain}`);
    return { user, address: `${user.username}@${domain.name}` };
  }

  /**
   * A new user: STACIE credentials, and unless paranoid a user key under the mail realm key with a
   * signet signed by the domain's org key. A paranoid user brings its own signet (or gets none yet).
   */
  async addUser(
    address: string,
    password: Uint8Array,
    o: {
      mode?: AccountMode;
      signet?: Uint8Array;
      quotaBytes?: number | null;
      quotaMessages?: number | null;
    } = {},
  ): Promise<{ address: string; mode: AccountMode }> {
    const parsed = parseLogin(address);
    const row = await this.store.getDomain(parsed.domain);
    if (!row)
      throw new DimeError('NOT_FOUND', `domain ${parsed.domain} is not local (dime admin domain add first)`);
    const mode = o.mode ?? (this.config.accounts.defaultMode as AccountMode);
    const domain =
      mode === 'paranoid'
        ? null
        : openLocalDomain(this.paths, row, this.passphrase(), this.config.dkim.selector);
    try {
      if (o.signet) parseUserSignet(o.signet);
      const user = await createAccount(this.store, {
        username: address,
        password,
        mode,
        ...(domain ? { orgKeys: domain.orgKeys } : {}),
        ...(o.signet ? { signet: o.signet } : {}),
        quota: {
          bytes: o.quotaBytes !== undefined ? o.quotaBytes : this.config.limits.quotaBytes,
          messages: o.quotaMessages !== undefined ? o.quotaMessages : this.config.limits.quotaMessages,
        },
      });
      return { address: `${user.username}@${row.name}`, mode: user.mode };
    } finally {
      if (domain) {
        domain.orgKeys.signingSeed.fill(0);
        domain.orgKeys.encryptionPrivate.fill(0);
      }
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
      if (domain) {
        domain.orgKeys.signingSeed.fill(0);
        domain.orgKeys.encryptionPrivate.fill(0);
      }
    }
  }

  async removeUser(address: string): Promise<{ address: string }> {
    const { user, address: a } = await this.userOf(address);
    await this.store.deleteUser(user.id);
    return { address: a };
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
