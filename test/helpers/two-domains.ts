/**
 * Two DIME domains on loopback, for the end-to-end tests and `npm run demo:two-domains`:
 * alpha.test and beta.test, each served by its own server (in this process, or as a real
 * `dime server start` child process), with names served by a real authoritative server with signed
 * zones and a real validating resolver (dns-harness.ts: Knot + Unbound, DNSSEC from a test root).
 *
 * Each zone publishes what `dime admin dns` prints for its domain (MX, the `_dx` management record
 * with the POK and the `tls=` pin of the server certificate and `dx=dx.<domain>`, DKIM, SPF, DMARC,
 * TLSA) plus `dx.<domain> A 127.0.0.1`. Both servers resolve through the validating resolver, and
 * `outbound.portMap` sends DMTP (26) and SMTP (25) for the other domain's host to its test ports.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Admin } from '../../src/server/admin/admin.js';
import { type DnsRecord, dnsRecords } from '../../src/server/admin/dns.js';
import { loadServerConfig, mergeConfig } from '../../src/server/config.js';
import { createLogger, silentLogger } from '../../src/server/logger.js';
import { createMailServices } from '../../src/server/mail-adapter.js';
import type { MailServices } from '../../src/server/mail-services.js';
import { type RunningServer, startMailServer } from '../../src/server/server.js';
import { aRecord, type DnsHarness, mxRecord, startDnsHarness, txt, type ZoneRecord } from './dns-harness.js';

export const TWO_DOMAINS_PASSPHRASE = 'two domains test passphrase';
const REPO = resolve(import.meta.dirname, '../..');

export type NodeName = 'alpha' | 'beta';

export interface DomainNode {
  readonly name: NodeName;
  readonly domain: string;
  readonly hostname: string;
  readonly dataDir: string;
  readonly ports: { smtp: number; submission: number; submissions: number; dmtp: number };
  /** The in-process server (inline mode), null while stopped or in process mode. */
  running: RunningServer | null;
  /** The child process (process mode). */
  child: ChildProcess | null;
  /** Starts (again) with the written config. */
  start(): Promise<void>;
  /** Drains and stops (SIGTERM in process mode); resolves with the exit code in process mode. */
  stop(): Promise<number | null>;
  /** Rewrites config.json with `patch` merged in, and restarts. */
  reconfigure(patch: Record<string, unknown>): Promise<void>;
  /** Admin over the data directory (works while the server runs). */
  admin(): Promise<Admin>;
  addUser(address: string, password: string, mode?: 'trustful' | 'cautious' | 'paranoid'): Promise<void>;
  /** The records `dime admin dns` gives for the domain. */
  records(): Promise<DnsRecord[]>;
}

export interface TwoDomains {
  readonly dns: DnsHarness;
  readonly alpha: DomainNode;
  readonly beta: DomainNode;
  /** Zone records that publish `records` (plus the DX host's address). */
  zoneOf(node: DomainNode, records: readonly DnsRecord[]): ZoneRecord[];
  /** Publishes the domain's records (optionally changed, e.g. without `_dx`), re-signed; flushes the resolver. */
  publish(
    node: DomainNode,
    edit?: (records: DnsRecord[]) => DnsRecord[],
    options?: { bogus?: readonly string[] },
  ): Promise<void>;
  stop(): Promise<void>;
}

export interface TwoDomainsOptions {
  /** 'inline': startMailServer here; 'process': `node bin/dime.js server start` (needs the build). */
  mode: 'inline' | 'process';
  /** Store engine for both servers (inline mode; default sqlite). */
  store?: (node: NodeName) => Record<string, unknown>;
  /** Extra config per server (merged over the defaults). */
  config?: Partial<Record<NodeName, Record<string, unknown>>>;
  /** Wrap the mail services (inline mode). */
  mail?: (m: MailServices) => MailServices;
  /** Logs of the servers on stderr (inline: pino level; process: pass the child's stderr through). */
  log?: string;
  /**
   * Runs once per node after its data directory and config.json exist and before its first start
   * (e.g. `dime admin domain add` importing an existing org key, so the first start bootstraps none).
   */
  beforeStart?: (node: DomainNode) => Promise<void> | void;
}

async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => res(typeof a === 'object' && a ? a.port : 0));
      });
    });
    if (port !== 0 && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

function relative(name: string, zone: string): string {
  return name === zone ? '@' : name.endsWith(`.${zone}`) ? name.slice(0, -(zone.length + 1)) : `${name}.`;
}

function zoneRecords(domain: string, hostname: string, records: readonly DnsRecord[]): ZoneRecord[] {
  const out: ZoneRecord[] = [aRecord(relative(hostname, domain))];
  for (const r of records) {
    const name = relative(r.name, domain);
    if (r.type === 'TXT') out.push(txt(name, r.value));
    else if (r.type === 'MX') {
      const [pref, host] = r.value.split(' ');
      out.push(mxRecord(name, Number(pref), host!));
    } else out.push({ name, type: r.type, data: r.value });
  }
  return out;
}

export async function startTwoDomains(o: TwoDomainsOptions): Promise<TwoDomains> {
  const taken = new Set<number>();
  const specs = {
    alpha: { domain: 'alpha.test', hostname: 'dx.alpha.test' },
    beta: { domain: 'beta.test', hostname: 'dx.beta.test' },
  } as const;
  const ports = {} as Record<NodeName, DomainNode['ports']>;
  for (const n of ['alpha', 'beta'] as const) {
    ports[n] = {
      smtp: await freePort(taken),
      submission: await freePort(taken),
      submissions: await freePort(taken),
      dmtp: await freePort(taken),
    };
  }
  const dns = await startDnsHarness({
    zones: {
      'alpha.test': [aRecord('dx'), mxRecord('@', 10, 'dx.alpha.test.')],
      'beta.test': [aRecord('dx'), mxRecord('@', 10, 'dx.beta.test.')],
    },
  });
  const dirs: string[] = [];
  const nodes = {} as Record<NodeName, DomainNode>;
  try {
    for (const n of ['alpha', 'beta'] as const) {
      const other: NodeName = n === 'alpha' ? 'beta' : 'alpha';
      const spec = specs[n];
      const dataDir = mkdtempSync(join(tmpdir(), `dime-${n}-`));
      dirs.push(dataDir);
      const op = ports[other];
      const oh = specs[other].hostname;
      const od = specs[other].domain;
      const config = {
        domain: spec.domain,
        hostname: spec.hostname,
        host: '127.0.0.1',
        ports: ports[n],
        passphrase: TWO_DOMAINS_PASSPHRASE,
        dns: { resolvers: [dns.resolverAddress] },
        stacie: { workers: 1 },
        drainTimeoutMs: 3000,
        outbound: {
          portMap: {
            [`${oh}:26`]: op.dmtp,
            [`${oh}:25`]: op.smtp,
            [`${oh}:587`]: op.submission,
            [`${od}:25`]: op.smtp,
          },
          pollMs: 200,
        },
        ...(o.store ? { store: o.store(n) } : {}),
        ...(o.config?.[n] ?? {}),
      };
      writeFileSync(join(dataDir, 'config.json'), JSON.stringify(config, null, 2));
      nodes[n] = makeNode(n, spec.domain, spec.hostname, dataDir, ports[n], o);
    }
    if (o.beforeStart) {
      await o.beforeStart(nodes.alpha);
      await o.beforeStart(nodes.beta);
    }
    await Promise.all([nodes.alpha.start(), nodes.beta.start()]);
    const publish: TwoDomains['publish'] = async (node, edit, options) => {
      const records = await node.records();
      await dns.setRecords(
        node.domain,
        zoneRecords(node.domain, node.hostname, edit ? edit(records) : records),
        // always set: a record published bogus once stays bogus until told otherwise
        { bogus: options?.bogus ?? [] },
      );
    };
    await publish(nodes.alpha);
    await publish(nodes.beta);
    return {
      dns,
      alpha: nodes.alpha,
      beta: nodes.beta,
      zoneOf: (node, records) => zoneRecords(node.domain, node.hostname, records),
      publish,
      async stop() {
        await Promise.all([nodes.alpha.stop(), nodes.beta.stop()]);
        await dns.stop();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.all(Object.values(nodes).map((x) => x.stop().catch(() => null)));
    await dns.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}

function makeNode(
  name: NodeName,
  domain: string,
  hostname: string,
  dataDir: string,
  ports: DomainNode['ports'],
  o: TwoDomainsOptions,
): DomainNode {
  let exited: Promise<number | null> | null = null;
  const node: DomainNode = {
    name,
    domain,
    hostname,
    dataDir,
    ports,
    running: null,
    child: null,
    async start() {
      if (o.mode === 'inline') {
        const config = loadServerConfig({ dataDir, env: {} });
        const log = o.log
          ? createLogger({ level: o.log, name })
          : config.log.file
            ? createLogger({
                level: config.log.level,
                file: resolve(dataDir, config.log.file),
                name,
                stderr: false,
              })
            : silentLogger();
        const base = createMailServices(config);
        node.running = await startMailServer({ config, log, mail: o.mail ? o.mail(base) : base, env: {} });
        return;
      }
      const child = spawn(
        process.execPath,
        [join(REPO, 'bin/dime.js'), 'server', 'start', '--data', dataDir],
        {
          env: { ...process.env, DIME_SERVER_PASSPHRASE: '' },
          stdio: ['ignore', 'pipe', o.log ? 'inherit' : 'pipe'],
        },
      );
      node.child = child;
      exited = new Promise((r) => child.once('exit', (code) => r(code)));
      let out = '';
      let err = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        err = (err + d).slice(-20_000);
      });
      await new Promise<void>((res, rej) => {
        const t = setInterval(() => {
          if (out.includes('"ready":true')) {
            clearInterval(t);
            res();
          }
        }, 25);
        exited!.then((code) => {
          clearInterval(t);
          rej(new Error(`${name} server exited (${code}) before it was ready\n${err}`));
        });
      });
    },
    async stop() {
      if (node.running) {
        const r = node.running;
        node.running = null;
        await r.stop();
        return null;
      }
      const child = node.child;
      if (!child || !exited) return null;
      node.child = null;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async reconfigure(patch) {
      const file = join(dataDir, 'config.json');
      const current = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify(mergeConfig(current, patch), null, 2));
      await node.stop();
      await node.start();
    },
    admin: () => Admin.open({ dataDir, env: {} }),
    async addUser(address, password, mode = 'trustful') {
      const a = await node.admin();
      try {
        await a.addUser(address, new Uint8Array(Buffer.from(password, 'utf8')), { mode });
      } finally {
        await a.close();
      }
    },
    async records() {
      const a = await node.admin();
      try {
        return await dnsRecords(a, domain);
      } finally {
        await a.close();
      }
    },
  };
  return node;
}
