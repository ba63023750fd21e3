/**
 * Signet resolution (flow.md §1–§2, record.md §5–§6, signets.md §4–§5, README open points):
 *
 * * org signet of a domain: the management record (DNS_BOGUS is fatal, before any connection),
 *   the DX candidates, `SGNT <domain>` over DMTP, then: an org signet, its field-1 POK one of the
 *   record's `pok` values (POK_MISMATCH), every signature it has (4, 253, 255) valid with that POK
 *   (BAD_SIGNATURE). Crypto, full and ID forms are all accepted (README "SGNT signet form").
 * * user signet of an address: the org signet first (same connection), then `SGNT <address> [fp]`,
 *   verified with the org signet (self signature 5, org signatures 6/253/255). When the signet has a
 *   chain-of-custody signature, `HIST` is fetched and every link's custody signature is checked with
 *   the previous link's key, and the chain must end with the current signet.
 * * "revoked" = superseded (README open points): a signet asked for by fingerprint is checked with
 *   `VRFY`; `UPDATE` (or not being the last HIST link) makes it `superseded`, with the chain from it
 *   to the current signet verified. `requireCurrent` turns that into SIGNET_REVOKED.
 * * a local source (this server's own domains) answers without DNS or DMTP.
 *
 * Caching (our decisions; record.md §7 covers only records): verified org signets for
 * `orgTtlSeconds` (default 1 h, never past the record's hard limit), and only while the record
 * still lists their POK — a record whose POKs changed makes the cached signet refetched (POK
 * rotation, README open point: refetch, and POK_MISMATCH if the new one does not match either);
 * user signets for `userTtlSeconds` (default 15 min) while the org signet that verified them is
 * still the current one; SGNT 550/551 (SIGNET_NOT_FOUND) for `negativeTtlSeconds` (default 5 min).
 * Temporary failures, TLS and DNS errors are never cached. The clock is injectable.
 */

import { toBase64Unpadded } from '../encoding/base64.js';
import { DimeError } from '../errors/index.js';
import {
  connectDmtp,
  type DmtpClientOptions,
  type DmtpConnection,
  type DmtpDomainConnection,
} from '../protocol/dmtp/client.js';
import type { DxCertificateVerdict } from '../protocol/dmtp/client-tls.js';
import { CUSTODY_SIG } from '../signet/field-table.js';
import { fingerprint } from '../signet/fingerprint.js';
import { parseSignet, type Signet, signetId } from '../signet/signet.js';
import { type VerifyResult, verifySignet } from '../signet/verify.js';
import { normalizeName } from './names.js';
import type { Clock, ManagementRecordLookup } from './record-cache.js';
import type { DimeResolver } from './resolver.js';
import type { UsableDnssecState } from './types.js';

export const DEFAULT_ORG_SIGNET_TTL_SECONDS = 3600;
export const DEFAULT_USER_SIGNET_TTL_SECONDS = 900;
export const DEFAULT_SIGNET_NEGATIVE_TTL_SECONDS = 300;
const MAX_ENTRIES = 10_000;

type Awaitable<T> = T | Promise<T>;

/** Who a signet lookup is about (the SGNT/HIST/VRFY subject). */
export type SignetSubject =
  | { kind: 'org'; domain: string }
  | { kind: 'user'; address: string; domain: string };

/** Signets this server holds itself (its own domains): no DNS, no DMTP. */
export interface LocalSignetSource {
  /** True for the domains this source answers for (normalized, lower case). */
  isLocalDomain(domain: string): boolean;
  /** The chain of an org or user, oldest first, the last one current; null when unknown. */
  lookupSignet(subject: SignetSubject): Awaitable<readonly Signet[] | null>;
}

/** A LocalSignetSource from fixed signets (a single signet is a one-link chain). */
export function staticSignetSource(signets: {
  readonly orgs: Readonly<Record<string, Signet | readonly Signet[]>>;
  readonly users?: Readonly<Record<string, Signet | readonly Signet[]>>;
}): LocalSignetSource {
  const list = (v: Signet | readonly Signet[]): readonly Signet[] => ('kind' in v ? [v as Signet] : v);
  const orgs = new Map(Object.entries(signets.orgs).map(([d, v]) => [normalizeName(d), list(v)]));
  const users = new Map(Object.entries(signets.users ?? {}).map(([a, v]) => [a.toLowerCase(), list(v)]));
  return {
    isLocalDomain: (domain) => orgs.has(domain),
    lookupSignet: (s) => (s.kind === 'org' ? orgs.get(s.domain) : users.get(s.address)) ?? null,
  };
}

export interface SignetResolverOptions extends DmtpClientOptions {
  readonly resolver: DimeResolver;
  /** Milliseconds since the epoch (default Date.now): cache ages only; network timeouts use real time. */
  readonly clock?: Clock;
  readonly orgTtlSeconds?: number;
  readonly userTtlSeconds?: number;
  readonly negativeTtlSeconds?: number;
  readonly local?: LocalSignetSource;
}

/** The DX a signet came from. */
export interface SignetServer {
  readonly host: string;
  readonly port: number;
  readonly connectedPort: number;
  readonly mode: 'dmtp' | 'dual';
  readonly address: string;
  readonly tls: { protocol: string | null; cipher: string | null; certificate: DxCertificateVerdict };
}

export type SignetSource = 'dmtp' | 'cache' | 'local';

export interface OrgSignetResolution {
  readonly kind: 'org';
  readonly domain: string;
  readonly signet: Signet;
  readonly verification: VerifyResult;
  /** The record whose POK vouches for the signet (null for a local domain). */
  readonly record: ManagementRecordLookup | null;
  readonly dnssec: UsableDnssecState | 'local';
  readonly source: SignetSource;
  /** Where it was fetched (null for a local domain). */
  readonly server: SignetServer | null;
  readonly fetchedAt: number;
  readonly expiresAt: number;
}

export interface ChainLink {
  readonly signet: Signet;
  /** Crypto fingerprint, unpadded base64. */
  readonly fingerprint: string;
  /** Custody signature (field 4) checked with the previous link's key; `none` for a link without one, `unchecked` for a first link that has one. */
  readonly custody: 'valid' | 'none' | 'unchecked';
  /** Org signatures checked with the current org signet; `unverified` when they do not verify with it (signed by an earlier org key). */
  readonly org: 'valid' | 'unverified';
}

export interface UserSignetResolution {
  readonly kind: 'user';
  readonly address: string;
  readonly domain: string;
  /** The signet asked for: the current one, or the one named by the fingerprint. */
  readonly signet: Signet;
  readonly verification: VerifyResult;
  /** `superseded` = revoked (README open points). */
  readonly status: 'current' | 'superseded';
  /** The current signet (the same object as `signet` when current). */
  readonly current: Signet;
  /**
   * The verified chain of custody, oldest first, ending with the current signet: from the first
   * link HIST gave (whole history for a current signet, from the asked one for a superseded
   * one); just the signet when it has no custody signature.
   */
  readonly chain: readonly ChainLink[];
  readonly org: OrgSignetResolution;
  readonly source: SignetSource;
  readonly server: SignetServer | null;
  readonly fetchedAt: number;
  readonly expiresAt: number;
}

export interface UserLookupOptions {
  /**
   * Ask for this signet instead of the current one: its crypto or full fingerprint (unpadded
   * base64). An ID fingerprint reaches the server, but SGNT answers with the full split (README
   * "SGNT signet form"), which cannot be checked against it: SIGNET_MISMATCH.
   */
  readonly fingerprint?: string;
  /** Throw SIGNET_REVOKED when the signet is superseded. */
  readonly requireCurrent?: boolean;
}

interface Cached<T> {
  readonly value: T;
  readonly expiresAt: number;
}

function cryptoFp(s: Signet): string {
  return toBase64Unpadded(fingerprint(s, 'crypto')!);
}

function hasFingerprint(s: Signet, fp: string): boolean {
  return (['crypto', 'full', 'id'] as const).some((k) => {
    const f = fingerprint(s, k);
    return f !== null && toBase64Unpadded(f) === fp;
  });
}

function sameSignet(a: Signet, b: Signet): boolean {
  return cryptoFp(a) === cryptoFp(b);
}

/** `local@domain` → normalized parts; BAD_INPUT otherwise. */
export function parseAddress(address: string): { address: string; local: string; domain: string } {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at <= 0 || local.length > 64 || !/^[\x21-\x7e]+$/.test(local) || /[<>[\]@\s]/.test(local)) {
    throw new DimeError('BAD_INPUT', `not a mail address: ${JSON.stringify(address)}`);
  }
  const domain = normalizeName(address.slice(at + 1));
  return { address: `${local.toLowerCase()}@${domain}`, local: local.toLowerCase(), domain };
}

function notFound(e: DimeError, what: string): DimeError {
  const code = e.context.code;
  return new DimeError('SIGNET_NOT_FOUND', `${what}: ${e.message}`, {
    code,
    reply: e.context.reply,
    reason: code === 551 ? 'not-in-chain' : 'unknown',
    temporary: false,
  });
}

function isNotFoundReply(e: unknown): e is DimeError {
  return (
    e instanceof DimeError && e.code === 'DMTP_REFUSED' && (e.context.code === 550 || e.context.code === 551)
  );
}

function serverOf(c: DmtpConnection): SignetServer {
  return {
    host: c.target.host,
    port: c.target.port,
    connectedPort: c.connectedPort,
    mode: c.target.mode,
    address: c.target.address,
    tls: c.tls,
  };
}

function checkId(s: Signet, expected: string, what: string): void {
  const id = signetId(s);
  if (id !== null && id.toLowerCase() !== expected) {
    throw new DimeError(
      'SIGNET_MISMATCH',
      `the ${what} signet names ${JSON.stringify(id)}, not ${expected}`,
      {
        id,
        expected,
      },
    );
  }
}

/** One lazily opened DMTP connection to a domain's DX, shared by the lookups of one resolution. */
class DomainSession {
  private pending: Promise<DmtpDomainConnection> | null = null;
  constructor(
    private readonly domain: string,
    private readonly options: SignetResolverOptions,
  ) {}

  async connection(): Promise<DmtpConnection> {
    this.pending ??= connectDmtp(this.domain, this.options);
    return (await this.pending).connection;
  }

  async close(): Promise<void> {
    if (!this.pending) return;
    try {
      await (await this.pending).connection.quit();
    } catch {
      // the connection never came up
    }
  }
}

/**
 * Resolves and verifies org and user signets (see the file comment), with a cache. One instance
 * per sender or server; safe to share between concurrent lookups (each opens its own connection).
 */
export class SignetResolver {
  private readonly clock: Clock;
  private readonly orgs = new Map<string, Cached<OrgSignetResolution>>();
  private readonly users = new Map<string, Cached<UserSignetResolution>>();
  private readonly negative = new Map<string, Cached<DimeError>>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(private readonly options: SignetResolverOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Forgets every cached signet and negative answer. */
  clear(): void {
    this.orgs.clear();
    this.users.clear();
    this.negative.clear();
  }

  /**
   * Forgets what is cached about one user (every fingerprint, and a negative answer): the next
   * lookup asks the DX again. For a sender whose message the destination refused (the recipient
   * may have a new signet since it was cached).
   */
  forgetUser(address: string): void {
    const a = parseAddress(address);
    const prefix = `${a.address}\n`;
    for (const k of [...this.users.keys()]) if (k.startsWith(prefix)) this.users.delete(k);
    for (const k of [...this.negative.keys()]) if (k.startsWith(`user:${prefix}`)) this.negative.delete(k);
  }

  /** `domain` → org signet; `local@domain` → user signet (current unless a fingerprint is given). */
  resolve(
    target: string,
    options: UserLookupOptions = {},
  ): Promise<OrgSignetResolution | UserSignetResolution> {
    return target.includes('@') ? this.resolveUser(target, options) : this.resolveOrg(target);
  }

  /** The verified org signet of `domain`. */
  async resolveOrg(domain: string): Promise<OrgSignetResolution> {
    return this.org(normalizeName(domain), null);
  }

  /** The verified user signet of `address` (its org signet resolved first). */
  async resolveUser(address: string, options: UserLookupOptions = {}): Promise<UserSignetResolution> {
    const a = parseAddress(address);
    if (options.fingerprint !== undefined && !/^[A-Za-z0-9+/]{86}$/.test(options.fingerprint)) {
      throw new DimeError('BAD_INPUT', 'a signet fingerprint is 86 unpadded base64 characters');
    }
    const fp = options.fingerprint ?? null;
    const key = `${a.address}\n${fp ?? ''}`;
    const r = await this.once(`user:${key}`, () => this.user(a.address, a.domain, fp, key));
    if (options.requireCurrent && r.status === 'superseded') {
      throw new DimeError(
        'SIGNET_REVOKED',
        `the signet ${fp ?? ''} of ${a.address} is superseded (revoked)`,
        {
          address: a.address,
          fingerprint: fp,
          current: cryptoFp(r.current),
          temporary: false,
        },
      );
    }
    return r;
  }

  /** Concurrent identical lookups share one fetch. */
  private once<T>(key: string, f: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const p = f().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private now(): number {
    return this.clock();
  }

  private ttl(seconds: number | undefined, fallback: number): number {
    return Math.max(0, seconds ?? fallback) * 1000;
  }

  private remember<T>(map: Map<string, Cached<T>>, key: string, value: T, expiresAt: number): void {
    map.delete(key);
    map.set(key, { value, expiresAt });
    if (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!);
  }

  private negativeHit(key: string): void {
    const n = this.negative.get(key);
    if (!n) return;
    if (n.expiresAt > this.now()) throw n.value;
    this.negative.delete(key);
  }

  private rememberMissing(key: string, e: DimeError): void {
    const until = this.now() + this.ttl(this.options.negativeTtlSeconds, DEFAULT_SIGNET_NEGATIVE_TTL_SECONDS);
    this.remember(this.negative, key, e, until);
  }

  // ------------------------------------------------------------------ org

  private async org(domain: string, session: DomainSession | null): Promise<OrgSignetResolution> {
    const local = this.options.local;
    if (local?.isLocalDomain(domain)) return this.localOrg(domain);
    // The record first, every time (it is cached by the DimeResolver): a bogus or missing record
    // throws here, before any connection, and a cached signet is only served under its record.
    const record = await this.options.resolver.lookupManagementRecord(domain);
    const hit = this.orgs.get(domain);
    if (hit) {
      const pokListed = record.record.pok.some((p) => Buffer.from(p).equals(hit.value.signet.signingKey));
      if (hit.expiresAt > this.now() && pokListed) {
        return { ...hit.value, record, dnssec: record.dnssec, source: 'cache' };
      }
      this.orgs.delete(domain); // expired, or the POK rotated away: fetch again
    }
    this.negativeHit(`org:${domain}`);
    return this.once(`org:${domain}`, async () => {
      const own = session === null;
      const s = session ?? new DomainSession(domain, this.options);
      try {
        return await this.fetchOrg(domain, record, s);
      } finally {
        if (own) await s.close();
      }
    });
  }

  private async fetchOrg(
    domain: string,
    record: ManagementRecordLookup,
    session: DomainSession,
  ): Promise<OrgSignetResolution> {
    const conn = await session.connection();
    let bytes: Uint8Array;
    try {
      bytes = await conn.sgnt(domain);
    } catch (e) {
      if (isNotFoundReply(e)) {
        const err = notFound(e, `no org signet for ${domain}`);
        this.rememberMissing(`org:${domain}`, err);
        throw err;
      }
      throw e;
    }
    const signet = parseSignet(bytes, ['org']);
    let verification: VerifyResult;
    try {
      verification = verifySignet(signet, { pok: record.record.pok });
    } catch (e) {
      if (e instanceof DimeError) {
        throw new DimeError(e.code, `org signet of ${domain} from ${conn.target.host}: ${e.message}`, {
          ...e.context,
          domain,
          temporary: false,
        });
      }
      throw e;
    }
    checkId(signet, domain, 'org');
    const now = this.now();
    const expiresAt = Math.min(
      now + this.ttl(this.options.orgTtlSeconds, DEFAULT_ORG_SIGNET_TTL_SECONDS),
      record.hardLimit,
    );
    const r: OrgSignetResolution = {
      kind: 'org',
      domain,
      signet,
      verification,
      record,
      dnssec: record.dnssec,
      source: 'dmtp',
      server: serverOf(conn),
      fetchedAt: now,
      expiresAt,
    };
    this.remember(this.orgs, domain, r, expiresAt);
    return r;
  }

  private async localOrg(domain: string): Promise<OrgSignetResolution> {
    const chain = await this.options.local!.lookupSignet({ kind: 'org', domain });
    const signet = chain?.[chain.length - 1];
    if (!signet) {
      throw new DimeError('SIGNET_NOT_FOUND', `no local org signet for ${domain}`, {
        reason: 'unknown',
        temporary: false,
      });
    }
    if (signet.kind !== 'org')
      throw new DimeError('BAD_MAGIC', `the local signet of ${domain} is not an org signet`);
    const verification = verifySignet(signet);
    checkId(signet, domain, 'org');
    const now = this.now();
    return {
      kind: 'org',
      domain,
      signet,
      verification,
      record: null,
      dnssec: 'local',
      source: 'local',
      server: null,
      fetchedAt: now,
      expiresAt: Number.POSITIVE_INFINITY,
    };
  }

  // ------------------------------------------------------------------ user

  private async user(
    address: string,
    domain: string,
    fp: string | null,
    key: string,
  ): Promise<UserSignetResolution> {
    if (this.options.local?.isLocalDomain(domain)) return this.localUser(address, domain, fp);
    const session = new DomainSession(domain, this.options);
    try {
      const org = await this.org(domain, session);
      const hit = this.users.get(key);
      if (hit) {
        if (hit.expiresAt > this.now() && sameSignet(hit.value.org.signet, org.signet)) {
          return { ...hit.value, org, source: 'cache' };
        }
        this.users.delete(key);
      }
      this.negativeHit(`user:${key}`);
      const conn = await session.connection();
      const r = await this.fetchUser(conn, address, domain, fp, org, key);
      this.remember(this.users, key, r, r.expiresAt);
      return r;
    } finally {
      await session.close();
    }
  }

  private async fetchUser(
    conn: DmtpConnection,
    address: string,
    domain: string,
    fp: string | null,
    org: OrgSignetResolution,
    key: string,
  ): Promise<UserSignetResolution> {
    const lookup = async <T>(f: () => Promise<T>): Promise<T> => {
      try {
        return await f();
      } catch (e) {
        if (isNotFoundReply(e)) {
          const err = notFound(e, fp ? `no signet ${fp} for ${address}` : `no signet for ${address}`);
          this.rememberMissing(`user:${key}`, err);
          throw err;
        }
        throw e;
      }
    };
    const signet = parseSignet(await lookup(() => conn.sgnt(address, fp)), ['user']);
    if (fp !== null && !hasFingerprint(signet, fp)) {
      throw new DimeError('SIGNET_MISMATCH', `the server answered SGNT ${fp} with another signet`, {
        fingerprint: fp,
      });
    }
    const verification = this.verifyUser(signet, org, address);

    let status: 'current' | 'superseded' = 'current';
    let chainBytes: Uint8Array[] | null = null;
    if (fp !== null) {
      const v = await lookup(() => conn.vrfy(address, cryptoFp(signet)));
      if (v.status === 'update') {
        status = 'superseded';
        chainBytes = await lookup(() => conn.hist(address, cryptoFp(signet)));
      }
    }
    if (chainBytes === null && signet.fields.some((f) => f.id === CUSTODY_SIG)) {
      chainBytes = await lookup(() => conn.hist(address));
    }
    const links = chainBytes === null ? [signet] : chainBytes.map((b) => parseSignet(b, ['user']));
    const chain = this.verifyChain(links, org, address);
    const current = links[links.length - 1]!;
    if (status === 'current' && !sameSignet(current, signet)) {
      // SGNT's signet is not the last HIST link: it is superseded after all
      if (!links.some((l) => sameSignet(l, signet))) {
        throw new DimeError('BROKEN_CUSTODY', `the signet of ${address} is not in its HIST chain`, {
          address,
        });
      }
      status = 'superseded';
    }
    if (status === 'superseded') {
      if (!sameSignet(links[0]!, signet)) {
        throw new DimeError('BROKEN_CUSTODY', `HIST of ${address} does not start at the asked signet`, {
          address,
        });
      }
      this.verifyUser(current, org, address);
    }
    const now = this.now();
    const expiresAt = Math.min(
      now + this.ttl(this.options.userTtlSeconds, DEFAULT_USER_SIGNET_TTL_SECONDS),
      org.expiresAt,
    );
    return {
      kind: 'user',
      address,
      domain,
      signet,
      verification,
      status,
      current: status === 'current' ? signet : current,
      chain,
      org,
      source: 'dmtp',
      server: serverOf(conn),
      fetchedAt: now,
      expiresAt,
    };
  }

  private verifyUser(s: Signet, org: OrgSignetResolution, address: string): VerifyResult {
    try {
      const v = verifySignet(s, { org: org.signet });
      checkId(s, address, 'user');
      return v;
    } catch (e) {
      if (e instanceof DimeError) {
        throw new DimeError(e.code, `user signet of ${address}: ${e.message}`, {
          ...e.context,
          address,
          temporary: false,
        });
      }
      throw e;
    }
  }

  /**
   * Checks a chain oldest first: every link a user signet of `address` with a valid self
   * signature; each link after the first has a custody signature valid with the previous link's
   * key (BROKEN_CUSTODY / BAD_SIGNATURE otherwise); the org signatures of each link are tried with
   * the current org signet (recorded, not required: earlier links may predate an org key change).
   */
  private verifyChain(links: readonly Signet[], org: OrgSignetResolution, address: string): ChainLink[] {
    return links.map((s, i) => {
      const hasCustody = s.fields.some((f) => f.id === CUSTODY_SIG);
      try {
        if (i > 0) verifySignet(s, { previous: links[i - 1]! });
        else verifySignet(s);
        checkId(s, address, 'user');
      } catch (e) {
        if (e instanceof DimeError) {
          throw new DimeError(e.code, `signet history of ${address}, link ${i + 1}: ${e.message}`, {
            ...e.context,
            address,
            link: i,
            temporary: false,
          });
        }
        throw e;
      }
      let orgOk: 'valid' | 'unverified' = 'valid';
      try {
        verifySignet(s, { org: org.signet, selfSignature: false });
      } catch {
        orgOk = 'unverified';
      }
      return {
        signet: s,
        fingerprint: cryptoFp(s),
        custody: !hasCustody ? 'none' : i > 0 ? 'valid' : 'unchecked',
        org: orgOk,
      };
    });
  }

  private async localUser(address: string, domain: string, fp: string | null): Promise<UserSignetResolution> {
    const org = await this.localOrg(domain);
    const chain = await this.options.local!.lookupSignet({ kind: 'user', address, domain });
    if (!chain || chain.length === 0) {
      throw new DimeError('SIGNET_NOT_FOUND', `no local signet for ${address}`, {
        reason: 'unknown',
        temporary: false,
      });
    }
    const at = fp === null ? chain.length - 1 : chain.findIndex((s) => hasFingerprint(s, fp));
    if (at < 0) {
      throw new DimeError('SIGNET_NOT_FOUND', `no local signet ${fp} for ${address}`, {
        reason: 'not-in-chain',
        temporary: false,
      });
    }
    const signet = chain[at]!;
    if (signet.kind !== 'user')
      throw new DimeError('BAD_MAGIC', `the local signet of ${address} is not a user signet`);
    const verification = this.verifyUser(signet, org, address);
    const current = chain[chain.length - 1]!;
    const hasCustody = signet.fields.some((f) => f.id === CUSTODY_SIG);
    const links = at < chain.length - 1 ? chain.slice(at) : hasCustody ? chain : [signet];
    const verified = this.verifyChain(links, org, address);
    if (at < chain.length - 1) this.verifyUser(current, org, address);
    return {
      kind: 'user',
      address,
      domain,
      signet,
      verification,
      status: at === chain.length - 1 ? 'current' : 'superseded',
      current,
      chain: verified,
      org,
      source: 'local',
      server: null,
      fetchedAt: this.now(),
      expiresAt: Number.POSITIVE_INFINITY,
    };
  }
}
