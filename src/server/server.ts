/**
 * `dime server start`: one process with every listener of this issue (smtp + DMTP dual mode,
 * submission with STARTTLS and the DMTP switch, submissions with implicit TLS, dmtp with TLS from
 * the first byte), the outbound queue worker, the STACIE worker pool and group commit over one
 * store. First start bootstraps the data directory: passphrase (generated into DATA/secrets when
 * none is configured), server secret, spool key, TLS certificate, and the local domain with its
 * org key, org signet and DKIM key.
 *
 * stop() drains: the listeners stop accepting, idle sessions get 421, sessions receiving or
 * storing a message are waited for (up to drainTimeoutMs), the queue worker finishes the
 * deliveries it holds, group commit empties, then the store closes.
 */

import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { createMailListener, listen } from '../protocol/net/listener.js';
import { serverTlsOptions } from '../protocol/net/tls-context.js';
import { MailSession } from '../protocol/session/session.js';
import type { SessionConfig } from '../protocol/session/types.js';
import { OcspCache } from '../protocol/tls/ocsp.js';
import { OcspStapler } from '../protocol/tls/ocsp-stapler.js';
import { DimeResolver } from '../resolver/resolver.js';
import { SignetResolver } from '../resolver/signets.js';
import { LISTENERS, type ListenerName, type ServerConfig } from './config.js';
import { portMapper, type ServerContext } from './context.js';
import { DataPaths, ensureDir, loadServerSecret, resolveServerPassphrase } from './data-dir.js';
import { DomainRegistry } from './domain-registry.js';
import { addLocalDomain, ensureDkimKey } from './domains.js';
import { GroupCommitter } from './group-commit.js';
import { createHooks, type ListenerRole, TransferTracker } from './hooks.js';
import type { Logger } from './logger.js';
import type { MailServices } from './mail-services.js';
import { OutboundWorker } from './outbound/worker.js';
import { SpoolKey } from './spool.js';
import { StaciePool } from './stacie/pool.js';
import { openServerStore } from './store.js';
import { loadTlsMaterial } from './tls-material.js';

export interface StartOptions {
  config: ServerConfig;
  log: Logger;
  mail: MailServices;
  env?: NodeJS.ProcessEnv;
}

export interface ReadyLine {
  ready: true;
  domain: string;
  hostname: string;
  ports: Record<ListenerName, number>;
}

export interface RunningServer {
  readonly ready: ReadyLine;
  readonly ctx: ServerContext;
  readonly worker: OutboundWorker;
  /** True when this start created the local domain (first run). */
  readonly bootstrapped: boolean;
  /** Users in the store at start. */
  readonly userCount: number;
  /** Drains and stops (idempotent). */
  stop(): Promise<void>;
}

const ROLE: Readonly<Record<ListenerName, ListenerRole>> = {
  smtp: 'mx',
  submission: 'submission',
  submissions: 'submission',
  dmtp: 'dmtp',
};

function sessionConfig(config: ServerConfig, name: ListenerName): SessionConfig {
  const common = {
    hostname: config.hostname,
    maxMessageSize: config.limits.maxMessageSize,
    maxRecipients: config.limits.maxRecipients,
    idleTimeoutMs: config.limits.idleTimeoutMs,
    errorDelayMs: 0,
  };
  switch (name) {
    case 'smtp':
      return { ...common, protocol: 'smtp', auth: 'off' };
    case 'submission':
      return { ...common, protocol: 'smtp', auth: 'required', requireTls: true };
    case 'submissions':
      return { ...common, protocol: 'smtp', auth: 'required', implicitTls: true };
    case 'dmtp':
      return { ...common, protocol: 'dmtp' };
  }
}

/**
 * The OCSP stapler of the configured certificate (leaf, then its issuer), or null when it cannot
 * staple (no OCSP URL in the leaf, no issuer in the chain): then the listeners send no staple.
 */
function createStapler(certPem: string, log: Logger): OcspStapler | null {
  const stapler = OcspStapler.fromChain(certPem, {
    onReport: (r) => {
      switch (r.event) {
        case 'stapling':
          log.info(
            { url: r.url, thisUpdate: r.thisUpdate, nextUpdate: r.nextUpdate, refreshAt: r.refreshAt },
            'OCSP stapling: fresh response',
          );
          break;
        case 'refused':
          log.warn({ url: r.url, status: r.status }, `OCSP stapling: ${r.message}`);
          break;
        case 'failed': {
          const fields = {
            url: r.url,
            failure: r.failure,
            err: r.message,
            consecutive: r.consecutive,
            servingPrevious: r.servingPrevious,
            retryAt: r.retryAt,
          };
          // the first failure in a row is a warning; repeats (every retry) are debug
          if (r.consecutive === 1) log.warn(fields, 'OCSP stapling: fetch failed');
          else log.debug(fields, 'OCSP stapling: fetch failed again');
          break;
        }
      }
    },
  });
  if (stapler.disabled) {
    const fields = { reason: stapler.disabled, err: stapler.disabledMessage };
    // no OCSP URL is the ordinary case of a certificate without a responder
    if (stapler.disabled === 'no-url') log.debug(fields, 'OCSP stapling off');
    else log.warn(fields, 'OCSP stapling off');
    return null;
  }
  log.info({ url: stapler.url }, 'OCSP stapling on');
  return stapler;
}

export async function startMailServer(o: StartOptions): Promise<RunningServer> {
  const { config, log } = o;
  const paths = new DataPaths(config.dataDir);
  ensureDir(paths.root);
  const passphrase = resolveServerPassphrase(paths, config, { generate: true, env: o.env ?? process.env });
  if (passphrase.origin === 'generated' || passphrase.origin === 'data-dir') {
    log.warn(
      { file: paths.passphraseFile, origin: passphrase.origin },
      'the key passphrase is kept in the data directory (mode 0600): set DIME_SERVER_PASSPHRASE instead and remove the file, so the keys on disk cannot be opened with the disk alone',
    );
  }
  const serverSecret = loadServerSecret(paths, true);
  const store = await openServerStore(config, paths);
  const closers: (() => Promise<void> | void)[] = [() => store.close()];
  const cleanup = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
  };
  try {
    const spool = SpoolKey.load(paths, passphrase.value, true);
    closers.push(() => spool.destroy());
    let bootstrapped = false;
    if (!(await store.getDomain(config.domain))) {
      await addLocalDomain(store, paths, config.domain, passphrase.value, o.mail.generateDkimKey);
      bootstrapped = true;
      log.info({ domain: config.domain }, 'created the local domain (org key, org signet, DKIM key)');
    }
    for (const d of await store.listDomains()) {
      ensureDkimKey(paths, d.name, passphrase.value, o.mail.generateDkimKey);
    }
    const tls = await loadTlsMaterial(paths, config.hostname, passphrase.value, config.tls);
    if (tls.created) log.info({ hostname: config.hostname }, 'made a self-signed RSA certificate');
    if (!tls.names.includes(config.hostname)) {
      log.warn(
        { hostname: config.hostname, names: tls.names },
        'the configured certificate does not carry the hostname: DMTP peers without a pin will refuse it',
      );
    }

    const domains = new DomainRegistry(store, paths, passphrase.value, config.dkim.selector);
    await domains.start();
    closers.push(() => domains.close());
    // open the configured domain now: a wrong passphrase fails the start, not the first message
    await domains.get(config.domain);

    const stacie = new StaciePool(config.stacie.workers);
    closers.push(() => stacie.close());
    const committer = new GroupCommitter(store);
    const mapPort = portMapper(config.outbound.portMap);
    const resolver = new DimeResolver({
      ...(config.dns.resolvers ? { servers: config.dns.resolvers } : {}),
      trusted: config.dns.trusted,
      timeoutMs: config.dns.timeoutMs,
    });
    const ocspCache = new OcspCache();
    const signets = new SignetResolver({
      resolver,
      ocspCache,
      local: domains,
      ehlo: config.hostname,
      portOverrides: mapPort,
      timeouts: { connectMs: 5000, tlsMs: 5000, ocspMs: 5000, commandMs: 15_000 },
      ...(config.outbound.ca ? { ca: readFileSync(paths.resolve(config.outbound.ca)) } : {}),
    });
    let worker: OutboundWorker | null = null;
    const ctx: ServerContext = {
      config,
      ocspCache,
      paths,
      log,
      store,
      domains,
      stacie,
      committer,
      spool,
      serverSecret,
      resolver,
      signets,
      tls,
      mail: o.mail,
      mapPort,
      outbound: { kick: () => worker?.kick() },
    };
    worker = new OutboundWorker(ctx);
    const outbound = worker;

    const stapler = config.tls?.ocspStapling ? createStapler(tls.certPem, log) : null;
    if (stapler) {
      stapler.start();
      closers.push(() => stapler.stop());
    }
    const tlsOptions = {
      ...serverTlsOptions({ key: tls.keyPem, cert: tls.certPem }),
      ...(stapler ? { ocsp: stapler } : {}),
    };
    const tracker = new TransferTracker();
    const sessions = new Set<MailSession>();
    const servers: net.Server[] = [];
    const sockets = new Set<net.Socket>();
    const ports = {} as Record<ListenerName, number>;
    closers.push(async () => {
      for (const sock of sockets) sock.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    });
    for (const name of LISTENERS) {
      const role = ROLE[name];
      const hooks = createHooks(ctx, role, tracker);
      const sc = sessionConfig(config, name);
      const onClose = hooks.onClose;
      const server = createMailListener({
        tls: tlsOptions,
        createSession: () => {
          const session = new MailSession(sc, {
            ...hooks,
            onClose(info) {
              sessions.delete(session);
              onClose?.(info);
            },
          });
          sessions.add(session);
          return session;
        },
        onError: (err) => log.debug({ listener: name, err: err.message }, 'connection error'),
      });
      server.maxConnections = config.limits.maxConnections;
      server.on('connection', (sock) => {
        // replies are small writes answered by the peer's next command: no Nagle delay on them
        sock.setNoDelay(true);
        sockets.add(sock);
        sock.once('close', () => sockets.delete(sock));
      });
      servers.push(server);
      ports[name] = await listen(server, config.listenPorts[name], config.host);
      log.info({ listener: name, port: ports[name], host: config.host }, 'listening');
    }
    outbound.start();
    const userCount = (await store.listUsers()).length;

    let stopping: Promise<void> | null = null;
    const stop = () => {
      stopping ??= (async () => {
        log.info({ sessions: sessions.size, busy: tracker.size }, 'draining');
        const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
        // idle sessions are told at once; busy ones finish their message first
        const deadline = Date.now() + config.drainTimeoutMs;
        const sweep = () => {
          for (const s of [...sessions]) {
            if (!tracker.isBusy(s.info.id)) s.serviceClosing();
          }
        };
        sweep();
        while (sessions.size > 0 && Date.now() < deadline) {
          await Promise.race([tracker.idle(), new Promise((r) => setTimeout(r, 50))]);
          sweep();
        }
        for (const s of [...sessions]) s.serviceClosing();
        for (const sock of sockets) sock.destroy();
        await closed;
        stapler?.stop();
        await outbound.stop();
        await committer.idle();
        await domains.close();
        await stacie.close();
        spool.destroy();
        await store.close();
        log.info('stopped');
      })();
      return stopping;
    };

    return {
      ready: { ready: true, domain: config.domain, hostname: config.hostname, ports },
      ctx,
      worker: outbound,
      bootstrapped,
      userCount,
      stop,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
