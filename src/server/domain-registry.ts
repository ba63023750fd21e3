/**
 * The running server's view of its local domains: the names (refreshed from the store, so a domain
 * that `dime admin domain add` creates while the server runs is served within `refreshMs`), each
 * domain's opened org key, org signet and DKIM key (loaded on first use, kept in memory only), and
 * the signets it publishes over DMTP (SGNT/HIST/VRFY, the DMTP RCPT check, the local source of the
 * SignetResolver).
 */

import { destroyKeys } from '../keys/index.js';
import type { LocalSignetSource, SignetSubject } from '../resolver/signets.js';
import { parseUserSignet, type Signet } from '../signet/index.js';
import { type MailStore, parseLogin, type User } from '../store/index.js';
import type { DataPaths } from './data-dir.js';
import { type LocalDomain, openLocalDomain } from './domains.js';

export class DomainRegistry implements LocalSignetSource {
  private names = new Set<string>();
  private readonly opened = new Map<string, LocalDomain>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: MailStore,
    private readonly paths: DataPaths,
    private readonly passphrase: string,
    private readonly dkimSelector: string,
  ) {}

  /** Loads the domain list; then keeps it fresh every `refreshMs`. */
  async start(refreshMs = 3000): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch(() => {
        // the next round tries again
      });
    }, refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    const rows = await this.store.listDomains();
    this.names = new Set(rows.map((r) => r.name));
    for (const name of [...this.opened.keys()]) {
      if (!this.names.has(name)) this.forget(name);
    }
  }

  list(): string[] {
    return [...this.names].sort();
  }

  isLocalDomain(domain: string): boolean {
    return this.names.has(domain.toLowerCase().replace(/\.$/, ''));
  }

  /** The opened domain, or null when it is not local (a miss refreshes the list once). */
  async get(domain: string): Promise<LocalDomain | null> {
    const name = domain.toLowerCase().replace(/\.$/, '');
    const hit = this.opened.get(name);
    if (hit) return hit;
    const row = await this.store.getDomain(name);
    if (!row) return null;
    this.names.add(name);
    const again = this.opened.get(name);
    if (again) return again;
    const d = openLocalDomain(this.paths, row, this.passphrase, this.dkimSelector);
    this.opened.set(name, d);
    return d;
  }

  /** The user a local address delivers to (username or alias), or null. */
  async findUser(address: string): Promise<{ user: User; domain: string } | null> {
    let parsed: { local: string; domain: string };
    try {
      parsed = parseLogin(address);
    } catch {
      return null;
    }
    if (!this.isLocalDomain(parsed.domain)) {
      await this.refresh();
      if (!this.isLocalDomain(parsed.domain)) return null;
    }
    const user = await this.store.resolveAddress(parsed.domain, parsed.local);
    return user ? { user, domain: parsed.domain } : null;
  }

  /** SGNT/HIST/VRFY and the SignetResolver's local source: one-link chains (the store keeps the current signet). */
  async lookupSignet(subject: SignetSubject): Promise<readonly Signet[] | null> {
    if (subject.kind === 'org') {
      const d = await this.get(subject.domain);
      return d ? [d.orgSignet] : null;
    }
    const found = await this.findUser(subject.address);
    if (!found?.user.signet || found.user.disabled) return null;
    return [parseUserSignet(found.user.signet)];
  }

  private forget(name: string): void {
    const d = this.opened.get(name);
    if (d) destroyKeys(d.orgKeys);
    this.opened.delete(name);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const name of [...this.opened.keys()]) this.forget(name);
  }
}
