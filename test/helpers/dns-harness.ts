/**
 * A real DNS world on loopback for tests and demos: an authoritative server (Knot DNS) serving
 * DNSSEC-signed zones (ldns-signzone, Ed25519) under a signed test root, and a validating resolver
 * (Unbound) whose only trust anchor is that root and whose every query stays on 127.0.0.1.
 *
 * Nothing here mocks DNS: the code under test talks to Unbound over real sockets, Unbound recurses
 * to Knot and validates every answer. Both run as the current user with their files in a temp
 * directory, on free ephemeral ports, and stop() kills them and removes the directory (also on
 * process exit, so a failing test leaves nothing running).
 *
 * Layout: a signed root zone "." delegates to every configured zone (or to the closest configured
 * parent zone), with DS records for the signed ones, so `unsigned` zones are provably insecure
 * (NSEC, no DS) and names outside every zone are securely NXDOMAIN. Unbound has stub-zones for "."
 * and each zone pointing at Knot's port, so it never asks anyone else.
 *
 * Debian packages (DNS_PACKAGES): knot (knotd, knotc), unbound (unbound, unbound-control), ldnsutils
 * (ldns-keygen, ldns-signzone).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { quoteCharacterString, zoneLine } from '../../src/record/index.js';

const run = promisify(execFile);

/** The Debian packages the harness needs (`apt-get install -y knot unbound ldnsutils`). */
export const DNS_PACKAGES = ['knot', 'unbound', 'ldnsutils'] as const;

const BINARIES = ['knotd', 'knotc', 'unbound', 'unbound-control', 'ldns-keygen', 'ldns-signzone'] as const;
type Binary = (typeof BINARIES)[number];

/** One resource record of a zone. `name` is relative to the zone ('@' = apex) or absolute (ends in '.'). */
export interface ZoneRecord {
  readonly name: string;
  readonly type: string;
  /** RDATA in zone-file syntax. */
  readonly data: string;
  readonly ttl?: number;
}

/** A TXT RR holding `text`, cut into ≤ 255-byte character-strings (how a record is published). */
export function txt(name: string, text: string, ttl?: number): ZoneRecord {
  return { name, type: 'TXT', data: zoneLine(text), ttl };
}

/** The management record of the zone's domain: `_dx` TXT holding `text` (record.md §1). */
export function dxRecord(text: string, ttl?: number): ZoneRecord {
  return txt('_dx', text, ttl);
}

/** A TXT RR made of exactly these character-strings. */
export function txtStrings(name: string, strings: readonly string[], ttl?: number): ZoneRecord {
  return { name, type: 'TXT', data: strings.map(quoteCharacterString).join(' '), ttl };
}

export function aRecord(name: string, address = '127.0.0.1', ttl?: number): ZoneRecord {
  return { name, type: 'A', data: address, ttl };
}

export function aaaaRecord(name: string, address = '::1', ttl?: number): ZoneRecord {
  return { name, type: 'AAAA', data: address, ttl };
}

/** `exchange` relative to the zone or absolute ('.' for a null MX). */
export function mxRecord(name: string, preference: number, exchange: string, ttl?: number): ZoneRecord {
  return { name, type: 'MX', data: `${preference} ${exchange}`, ttl };
}

export function cnameRecord(name: string, target: string, ttl?: number): ZoneRecord {
  return { name, type: 'CNAME', data: target, ttl };
}

export interface DnsHarnessOptions {
  /** Zone name (e.g. 'alpha.test') → its records; SOA and NS are added. */
  readonly zones: Readonly<Record<string, readonly ZoneRecord[]>>;
  /**
   * Owner names (absolute, with or without the final dot) whose RRSIGs are corrupted after signing:
   * every RRset there validates as BOGUS; `name/TYPE` corrupts only the RRSIG over that type. A zone
   * apex without a type makes the whole zone bogus (its DNSKEY RRset).
   */
  readonly bogus?: readonly string[];
  /** Zones served without DNSSEC: delegated without DS, so their answers are insecure. */
  readonly unsigned?: readonly string[];
  /** Default TTL of records without one (seconds, default 300). */
  readonly ttl?: number;
  /** Names the resolver refuses to answer (Unbound `local-zone: … refuse`): REFUSED, as from a misconfigured resolver. */
  readonly refuse?: readonly string[];
}

export interface DnsHarness {
  /** The validating resolver, `127.0.0.1:PORT` (loopback, so its AD bit is trusted). */
  readonly resolverAddress: string;
  /** The authoritative server, `127.0.0.1:PORT` (answers with AA, never with AD). */
  readonly authAddress: string;
  /** Temp directory with configs, zones, keys and logs. */
  readonly dir: string;
  /** Replaces a zone's records (re-signed, reloaded) and flushes the resolver's cache. */
  setRecords(
    zone: string,
    records: readonly ZoneRecord[],
    options?: { bogus?: readonly string[] },
  ): Promise<void>;
  /** Empties the resolver's caches (records, keys, negative answers, server state). */
  flushResolver(): Promise<void>;
  /** SIGSTOP / SIGCONT the resolver: a resolver that silently stops answering, then comes back. */
  suspendResolver(): void;
  resumeResolver(): void;
  /** Stops the authoritative server (the resolver then cannot reach any zone), and starts it again. */
  stopAuthority(): Promise<void>;
  startAuthority(): Promise<void>;
  /** The last lines of both servers' logs (for failure messages). */
  logs(): string;
  /** Stops both servers and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

// --- binaries -------------------------------------------------------------------------------------

function findBinary(name: Binary): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error(
    `dns-harness: '${name}' not found; install the Debian packages: apt-get install -y ${DNS_PACKAGES.join(' ')}`,
  );
}

/** Paths of the harness's programs; throws naming the packages to install when one is missing. */
export function dnsHarnessBinaries(): Record<Binary, string> {
  return Object.fromEntries(BINARIES.map((b) => [b, findBinary(b)])) as Record<Binary, string>;
}

// --- processes ------------------------------------------------------------------------------------

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

function startProcess(bin: string, args: string[]): ChildProcess {
  installExitHook();
  const child = spawn(bin, args, { stdio: 'ignore', detached: false });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function stopProcess(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// --- ports and probes -----------------------------------------------------------------------------

/** A port free for both TCP and UDP on 127.0.0.1 right now. */
async function freePort(avoid: ReadonlySet<number>): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    if (port === 0 || avoid.has(port)) continue;
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('dns-harness: no free port');
}

/** True when something answers a DNS query (any RCODE) on 127.0.0.1:port within `ms`. */
function probe(port: number, name: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const id = Math.floor(Math.random() * 0xffff);
    const done = (v: boolean) => {
      clearTimeout(t);
      s.removeAllListeners();
      s.on('error', () => {});
      s.close();
      resolve(v);
    };
    const t = setTimeout(() => done(false), ms);
    s.on('error', () => done(false));
    s.on('message', (m) => done(m.length >= 2 && m.readUInt16BE(0) === id));
    s.send(
      dnsPacket.encode({
        type: 'query',
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type: 'SOA', name }],
      }),
      port,
      '127.0.0.1',
    );
  });
}

async function waitUntilAnswering(child: ChildProcess, port: number, what: string, log: () => string) {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`dns-harness: ${what} exited during start-up\n${log()}`);
    }
    if (await probe(port, '.', 200)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dns-harness: ${what} did not answer on port ${port}\n${log()}`);
}

// --- zones ----------------------------------------------------------------------------------------

/** `owner` or `owner/TYPE` → [absolute owner, upper-case type or null]. */
function bogusEntry(entry: string): [string, string | null] {
  const i = entry.indexOf('/');
  return i < 0 ? [abs(entry), null] : [abs(entry.slice(0, i)), entry.slice(i + 1).toUpperCase()];
}

function abs(name: string): string {
  const n = name.toLowerCase();
  return n === '.' ? '.' : n.endsWith('.') ? n : `${n}.`;
}

function owner(name: string, zone: string): string {
  if (name === '@' || name === '') return zone;
  if (name.endsWith('.')) return name.toLowerCase();
  return zone === '.' ? `${name.toLowerCase()}.` : `${name.toLowerCase()}.${zone}`;
}

/** The closest configured zone strictly above `zone`, or the root. */
function parentZone(zone: string, zones: readonly string[]): string {
  let best = '.';
  for (const z of zones) {
    if (z !== zone && zone.endsWith(`.${z}`) && z.length > best.length) best = z;
  }
  return best;
}

const NS_LABEL = 'ns-harness';

function nsName(zone: string): string {
  return zone === '.' ? `${NS_LABEL}.` : `${NS_LABEL}.${zone}`;
}

/** Swaps one base64 character of the signature: still well-formed, never valid. */
function corruptSignature(line: string): string {
  const fields = line.split(/\s+/);
  const sig = fields[fields.length - 1]!;
  const i = Math.min(8, sig.length - 3);
  const c = sig[i] === 'A' ? 'B' : 'A';
  fields[fields.length - 1] = sig.slice(0, i) + c + sig.slice(i + 1);
  return fields.join('\t');
}

// --- the harness ----------------------------------------------------------------------------------

interface ZoneState {
  readonly name: string; // absolute
  records: readonly ZoneRecord[];
  /** absolute owner → covered types to corrupt (null = all). */
  bogus: ReadonlyMap<string, ReadonlySet<string> | null>;
  readonly signed: boolean;
  serial: number;
  keyBase: string | null; // ldns key base path
  ds: string; // DS lines for the parent
}

/**
 * Starts Knot and Unbound for `options` and resolves once both answer. A start that fails (a port
 * taken between choosing it and binding it, say) is cleaned up and tried again, three times at most.
 */
export async function startDnsHarness(options: DnsHarnessOptions): Promise<DnsHarness> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

async function startOnce(options: DnsHarnessOptions): Promise<DnsHarness> {
  const bin = dnsHarnessBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'dime-dns-'));
  const defaultTtl = options.ttl ?? 300;
  const unsigned = new Set((options.unsigned ?? []).map(abs));
  const allBogus = options.bogus ?? [];
  const bogusMap = (entries: readonly string[], zone: string) => {
    const m = new Map<string, Set<string> | null>();
    for (const e of entries) {
      const [name, type] = bogusEntry(e);
      if (zone !== '.' && name !== zone && !name.endsWith(`.${zone}`)) continue;
      if (type === null) m.set(name, null);
      else if (m.get(name) !== null) m.set(name, new Set([...(m.get(name) ?? []), type]));
    }
    return m;
  };

  let knot: ChildProcess | null = null;
  let unbound: ChildProcess | null = null;
  let stopped = false;

  const logTail = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };
  const logs = () => `--- knot.log\n${logTail('knot.log')}\n--- unbound.log\n${logTail('unbound.log')}`;

  const cleanup = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([stopProcess(unbound), stopProcess(knot)]);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const zoneNames = Object.keys(options.zones).map(abs);
    if (zoneNames.includes('.')) throw new Error('dns-harness: the root zone is the harness own');
    const zones = new Map<string, ZoneState>();
    const root: ZoneState = {
      name: '.',
      records: [],
      bogus: new Map(),
      signed: true,
      serial: 1,
      keyBase: null,
      ds: '',
    };
    zones.set('.', root);
    for (const [z, records] of Object.entries(options.zones)) {
      const name = abs(z);
      zones.set(name, {
        name,
        records,
        bogus: bogusMap(allBogus, name),
        signed: !unsigned.has(name),
        serial: 1,
        keyBase: null,
        ds: '',
      });
    }

    // Keys: one Ed25519 key with the SEP flag (a combined signing key) per signed zone.
    for (const z of zones.values()) {
      if (!z.signed) continue;
      const { stdout } = await run(bin['ldns-keygen'], ['-a', 'ED25519', '-k', z.name], { cwd: dir });
      z.keyBase = join(dir, stdout.trim());
      z.ds = readFileSync(`${z.keyBase}.ds`, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith(';'))
        .join('\n');
    }

    const allNames = [...zones.keys()].filter((n) => n !== '.');

    const zoneText = (z: ZoneState): string => {
      const lines = [
        `$TTL ${defaultTtl}`,
        `${z.name} ${defaultTtl} IN SOA ${nsName(z.name)} hostmaster.${z.name === '.' ? '' : z.name} ${z.serial} 3600 600 86400 60`,
        `${z.name} ${defaultTtl} IN NS ${nsName(z.name)}`,
        `${nsName(z.name)} ${defaultTtl} IN A 127.0.0.1`,
      ];
      for (const r of z.records) {
        lines.push(`${owner(r.name, z.name)} ${r.ttl ?? defaultTtl} IN ${r.type} ${r.data}`);
      }
      // delegations to the zones whose closest parent this is
      for (const child of allNames) {
        if (parentZone(child, allNames) !== z.name) continue;
        const c = zones.get(child)!;
        lines.push(`${child} ${defaultTtl} IN NS ${nsName(child)}`);
        lines.push(`${nsName(child)} ${defaultTtl} IN A 127.0.0.1`);
        if (c.signed && c.ds !== '') lines.push(c.ds);
      }
      return `${lines.join('\n')}\n`;
    };

    const fileOf = (z: ZoneState) => join(dir, z.name === '.' ? 'root.zone' : `${z.name}zone`);
    const servedFileOf = (z: ZoneState) => (z.signed ? `${fileOf(z)}.signed` : fileOf(z));

    const writeZone = async (z: ZoneState) => {
      writeFileSync(fileOf(z), zoneText(z));
      if (!z.signed) return;
      const now = Math.floor(Date.now() / 1000);
      await run(
        bin['ldns-signzone'],
        [
          '-i',
          String(now - 3600),
          '-e',
          String(now + 30 * 86400),
          '-o',
          z.name,
          '-f',
          servedFileOf(z),
          fileOf(z),
          z.keyBase!,
        ],
        { cwd: dir },
      );
      if (z.bogus.size > 0) {
        const signed = readFileSync(servedFileOf(z), 'utf8').split('\n');
        const out = signed.map((line) => {
          const f = line.split(/\s+/);
          if (f.length <= 5 || f[3] !== 'RRSIG' || !z.bogus.has(f[0]!.toLowerCase())) return line;
          const types = z.bogus.get(f[0]!.toLowerCase());
          return types === null || types?.has(f[4]!.toUpperCase()) ? corruptSignature(line) : line;
        });
        writeFileSync(servedFileOf(z), out.join('\n'));
      }
    };

    for (const z of zones.values()) await writeZone(z);

    const knotPort = await freePort(new Set());
    const unboundPort = await freePort(new Set([knotPort]));
    const knotConf = join(dir, 'knot.conf');
    const knotSock = join(dir, 'knot.sock');
    writeFileSync(
      knotConf,
      [
        'server:',
        `    rundir: "${dir}"`,
        `    listen: 127.0.0.1@${knotPort}`,
        '    udp-workers: 1',
        '    tcp-workers: 1',
        '    background-workers: 1',
        'database:',
        `    storage: "${join(dir, 'knot-db')}"`,
        'control:',
        `    listen: "${knotSock}"`,
        'log:',
        `  - target: "${join(dir, 'knot.log')}"`,
        '    any: info',
        'template:',
        '  - id: default',
        '    zonefile-sync: -1',
        '    zonefile-load: whole',
        '    journal-content: none',
        '    semantic-checks: off',
        'zone:',
        ...[...zones.values()].flatMap((z) => [`  - domain: "${z.name}"`, `    file: "${servedFileOf(z)}"`]),
        '',
      ].join('\n'),
    );

    const unboundConf = join(dir, 'unbound.conf');
    const ta = join(dir, 'root-anchor.ds');
    writeFileSync(ta, `${root.ds}\n`);
    const tlds = new Set(allNames.map((n) => n.split('.').slice(-2).join('.')));
    writeFileSync(
      unboundConf,
      [
        'server:',
        '    interface: 127.0.0.1',
        `    port: ${unboundPort}`,
        '    do-ip6: no',
        '    do-daemonize: no',
        '    username: ""',
        '    chroot: ""',
        `    directory: "${dir}"`,
        `    pidfile: "${join(dir, 'unbound.pid')}"`,
        '    use-syslog: no',
        `    logfile: "${join(dir, 'unbound.log')}"`,
        '    verbosity: 1',
        '    val-log-level: 2',
        '    num-threads: 1',
        '    so-reuseport: no',
        '    interface-automatic: no',
        '    outgoing-interface: 127.0.0.1',
        '    outgoing-range: 32',
        '    outgoing-num-tcp: 8',
        '    incoming-num-tcp: 16',
        '    num-queries-per-thread: 32',
        '    access-control: 127.0.0.0/8 allow',
        '    do-not-query-localhost: no',
        '    module-config: "validator iterator"',
        `    trust-anchor-file: "${ta}"`,
        '    trust-anchor-signaling: no',
        '    root-key-sentinel: no',
        '    qname-minimisation: no',
        '    target-fetch-policy: "0 0 0 0 0"',
        '    prefetch: no',
        '    ede: yes',
        '    msg-cache-size: 1m',
        '    rrset-cache-size: 1m',
        '    key-cache-size: 1m',
        '    neg-cache-size: 1m',
        ...[...tlds].map((t) => `    local-zone: "${t}" nodefault`),
        ...(options.refuse ?? []).map((n) => `    local-zone: "${abs(n)}" refuse`),
        'remote-control:',
        '    control-enable: yes',
        `    control-interface: "${join(dir, 'unbound.ctl')}"`,
        '    control-use-cert: no',
        ...[...zones.keys()].flatMap((z) => [
          'stub-zone:',
          `    name: "${z}"`,
          `    stub-addr: 127.0.0.1@${knotPort}`,
        ]),
        '',
      ].join('\n'),
    );

    const startKnot = async () => {
      knot = startProcess(bin.knotd, ['-c', knotConf]);
      await waitUntilAnswering(knot, knotPort, 'knotd', logs);
    };
    await startKnot();
    unbound = startProcess(bin.unbound, ['-d', '-c', unboundConf]);
    await waitUntilAnswering(unbound, unboundPort, 'unbound', logs);

    const control = async (...args: string[]) => {
      await run(bin['unbound-control'], ['-c', unboundConf, ...args]);
    };
    const flushResolver = async () => {
      await control('flush_zone', '.');
      await control('flush_bogus');
      await control('flush_negative');
      await control('flush_infra', 'all');
    };

    return {
      resolverAddress: `127.0.0.1:${unboundPort}`,
      authAddress: `127.0.0.1:${knotPort}`,
      dir,
      async setRecords(zone, records, opts) {
        const z = zones.get(abs(zone));
        if (!z || z.name === '.') throw new Error(`dns-harness: unknown zone ${zone}`);
        z.records = records;
        if (opts?.bogus) z.bogus = bogusMap(opts.bogus, z.name);
        z.serial += 1;
        await writeZone(z);
        await run(bin.knotc, ['-s', knotSock, 'zone-reload', z.name]);
        // zone-reload is asynchronous: wait until Knot serves the new serial
        const until = Date.now() + 10_000;
        for (;;) {
          const serial = await soaSerial(knotPort, z.name);
          if (serial === z.serial) break;
          if (Date.now() > until) throw new Error(`dns-harness: ${z.name} not reloaded\n${logs()}`);
          await new Promise((r) => setTimeout(r, 25));
        }
        await flushResolver();
      },
      flushResolver,
      suspendResolver() {
        unbound?.kill('SIGSTOP');
      },
      resumeResolver() {
        unbound?.kill('SIGCONT');
      },
      async stopAuthority() {
        await stopProcess(knot);
        knot = null;
      },
      async startAuthority() {
        if (knot !== null) return;
        await startKnot();
        await flushResolver();
      },
      logs,
      stop: cleanup,
    };
  } catch (e) {
    const detail = logs();
    await cleanup();
    if (e instanceof Error && !e.message.includes('--- knot.log')) e.message += `\n${detail}`;
    throw e;
  }
}

/** The SOA serial Knot serves for `zone` (not recursive), or null. */
function soaSerial(port: number, zone: string): Promise<number | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const id = Math.floor(Math.random() * 0xffff);
    const done = (v: number | null) => {
      clearTimeout(t);
      s.removeAllListeners();
      s.on('error', () => {});
      s.close();
      resolve(v);
    };
    const t = setTimeout(() => done(null), 500);
    s.on('error', () => done(null));
    s.on('message', (m) => {
      try {
        const p = dnsPacket.decode(m);
        const soa = p.answers?.find((a) => a.type === 'SOA');
        done(soa && soa.type === 'SOA' ? (soa.data.serial ?? null) : null);
      } catch {
        done(null);
      }
    });
    s.send(
      dnsPacket.encode({ type: 'query', id, questions: [{ type: 'SOA', name: zone }] }),
      port,
      '127.0.0.1',
    );
  });
}
