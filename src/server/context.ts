/**
 * What every part of the running server shares: configuration, the store, the opened domains,
 * the STACIE pool, group commit, the spool key, DNS and signet resolution, logs.
 */

import { createHmac } from 'node:crypto';
import type { OcspCache } from '../protocol/tls/ocsp.js';
import type { DimeResolver } from '../resolver/resolver.js';
import type { SignetResolver } from '../resolver/signets.js';
import type { MailStore } from '../store/index.js';
import type { ServerConfig } from './config.js';
import type { DataPaths } from './data-dir.js';
import type { DomainRegistry } from './domain-registry.js';
import type { GroupCommitter } from './group-commit.js';
import type { Logger } from './logger.js';
import type { MailServices } from './mail-services.js';
import type { SpoolKey } from './spool.js';
import type { StaciePool } from './stacie/pool.js';
import type { TlsMaterial } from './tls-material.js';

export interface OutboundKick {
  /** Work is queued: run the queue worker soon. */
  kick(): void;
}

export interface ServerContext {
  readonly config: ServerConfig;
  readonly paths: DataPaths;
  readonly log: Logger;
  readonly store: MailStore;
  readonly domains: DomainRegistry;
  readonly stacie: StaciePool;
  readonly committer: GroupCommitter;
  readonly spool: SpoolKey;
  /** 64 bytes: fake STACIE salts, dedup keys. */
  readonly serverSecret: Uint8Array;
  readonly resolver: DimeResolver;
  readonly signets: SignetResolver;
  /** OCSP answers for DX certificates without a pin, shared by every DMTP connection. */
  readonly ocspCache: OcspCache;
  readonly tls: TlsMaterial;
  readonly outbound: OutboundKick;
  readonly mail: MailServices;
  /** `host` (or `host:port`) + standard port → the port to really use (config outbound.portMap). */
  mapPort(host: string, port: number): number;
}

/** An opaque idempotency key: HMAC of the parts under the server secret (never an address in clear). */
export function dedupKey(secret: Uint8Array, ...parts: (string | number | Uint8Array)[]): Uint8Array {
  const h = createHmac('sha256', secret);
  h.update('dime-dedup-v1');
  for (const p of parts) {
    const b = typeof p === 'number' ? String(p) : p;
    h.update(typeof b === 'string' ? Buffer.from(b, 'utf8') : b);
    h.update('\0');
  }
  return new Uint8Array(h.digest());
}

/** The port map of the config as a function (DMTP PortOverrides form). */
export function portMapper(map: Readonly<Record<string, number>>): (host: string, port: number) => number {
  const lower = new Map(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v]));
  return (host, port) => lower.get(`${host.toLowerCase()}:${port}`) ?? lower.get(String(port)) ?? port;
}
