/**
 * A real rspamd (Debian 12's 3.4) for tests: one instance per startRspamd(), run as the current
 * user in the foreground with its own config, database, run and log directories in a temp folder,
 * one `normal` worker on an ephemeral loopback port. Nothing is mocked: the client under test speaks
 * rspamd's HTTP protocol to it.
 *
 * Configuration: Debian's stock rules ($CONFDIR = /etc/rspamd, common.conf: metrics, actions,
 * groups, composites, modules), with $LOCAL_CONFDIR pointed at the temp folder so /etc/rspamd/local.d
 * is never read, and there:
 * - `dns { nameserver = … }`: the given resolver, or a loopback port where nothing listens, so every
 *   lookup fails at once and no query ever leaves the machine (the machine's resolv.conf is not used);
 * - modules that reach the Internet (fuzzy storage, DNS blocklists, remote maps, updates, ASN) are
 *   disabled, and so are SPF/DKIM/DMARC/ARC, which the server checks itself with mailauth;
 * - no redis: the modules that need one (bayes, neural, ratelimit, greylist, replies, history…)
 *   disable themselves.
 * - `hs_cache_dir` is a persistent folder under the OS temp dir: rspamd compiles its URL TLD matcher
 *   with hyperscan once (~15 s on two cores), later starts reuse it (~1–3 s).
 *
 * Debian packages (RSPAMD_PACKAGES): rspamd. Its package enables a systemd service; the harness never
 * uses it (no policy-rc.d needed when no init runs, and nothing listens on 11333 from here).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The Debian packages the harness needs (`apt-get install -y rspamd`). */
export const RSPAMD_PACKAGES = ['rspamd'] as const;

/** Modules the harness turns off (`enabled = false` in local.d). */
export const RSPAMD_DISABLED_MODULES = [
  // reach the Internet
  'fuzzy_check',
  'rbl',
  'multimap',
  'whitelist',
  'phishing',
  'mime_types',
  'rspamd_update',
  'asn',
  // checked by the server itself (mailauth)
  'spf',
  'dkim',
  'dmarc',
  'arc',
] as const;

export interface RspamdOptions {
  /** Resolver for rspamd's own lookups (`IP:PORT`); default: a closed loopback port (all fail fast). */
  readonly dns?: string;
  /** Extra files for $LOCAL_CONFDIR/local.d (name → UCL text), e.g. `{ 'actions.conf': 'reject = 10;' }`. */
  readonly localD?: Readonly<Record<string, string>>;
  /** Start-up limit in ms (default 90 000: the first start compiles the hyperscan cache). */
  readonly startTimeoutMs?: number;
}

export interface RspamdInstance {
  /** `http://127.0.0.1:PORT` of the normal worker. */
  readonly url: string;
  readonly port: number;
  /** The temp folder (config, db, logs). */
  readonly dir: string;
  /** The main process id. */
  readonly pid: number;
  /** The last lines of rspamd's log. */
  logs(): string;
  /** Stops rspamd (SIGTERM, then SIGKILL after 5 s) and removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}

function findRspamd(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, 'rspamd');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error(
    `rspamd-harness: 'rspamd' not found; install the Debian packages: apt-get install -y ${RSPAMD_PACKAGES.join(' ')}`,
  );
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function ping(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ping', method: 'GET', timeout: ms }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'pong'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function hsCacheDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const dir = join(tmpdir(), `dime-rspamd-hs-cache-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Starts rspamd and resolves once its worker answers `/ping`. A start that fails (say, the port was
 * taken between choosing and binding it) is cleaned up and tried again, three times at most.
 */
export async function startRspamd(options: RspamdOptions = {}): Promise<RspamdInstance> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

async function startOnce(options: RspamdOptions): Promise<RspamdInstance> {
  const bin = findRspamd();
  const dir = mkdtempSync(join(tmpdir(), 'dime-rspamd-'));
  for (const d of ['local.d', 'db', 'run', 'log']) mkdirSync(join(dir, d));
  const port = await freeLoopbackPort();
  const dns = options.dns ?? `127.0.0.1:${await freeLoopbackPort()}`;
  const logFile = join(dir, 'log', 'rspamd.log');

  writeFileSync(
    join(dir, 'rspamd.conf'),
    [
      '.include "$CONFDIR/common.conf"',
      'options {',
      '    pidfile = "$RUNDIR/rspamd.pid";',
      '    .include "$CONFDIR/options.inc"',
      '    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"',
      '}',
      'logging {',
      '    type = "file";',
      '    filename = "$LOGDIR/rspamd.log";',
      '    level = "notice";',
      '}',
      'worker "normal" {',
      `    bind_socket = "127.0.0.1:${port}";`,
      '    .include "$CONFDIR/worker-normal.inc"',
      '    count = 1;',
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'local.d', 'options.inc'),
    [
      'dns {',
      `    nameserver = ["${dns}"];`,
      '    timeout = 0.2s;',
      '    retransmits = 1;',
      '}',
      `hs_cache_dir = "${hsCacheDir()}";`,
      '',
    ].join('\n'),
  );
  for (const m of RSPAMD_DISABLED_MODULES)
    writeFileSync(join(dir, 'local.d', `${m}.conf`), 'enabled = false;\n');
  for (const [name, text] of Object.entries(options.localD ?? {})) {
    if (name.includes('/') || name.startsWith('.'))
      throw new Error(`rspamd-harness: bad local.d name ${name}`);
    writeFileSync(join(dir, 'local.d', name), text);
  }

  const args = [
    '-f',
    '-c',
    join(dir, 'rspamd.conf'),
    `--var=LOCAL_CONFDIR=${dir}`,
    `--var=DBDIR=${join(dir, 'db')}`,
    `--var=RUNDIR=${join(dir, 'run')}`,
    `--var=LOGDIR=${join(dir, 'log')}`,
  ];
  // rspamd refuses to run its workers as root unless told so (-i) and given the user to keep.
  if (typeof process.getuid === 'function' && process.getuid() === 0)
    args.push('-u', 'root', '-g', 'root', '-i');

  installExitHook();
  let output = '';
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const onOutput = (b: Buffer) => {
    output = (output + b.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));

  const logs = () => {
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      // not written yet
    }
    return `--- rspamd output\n${output}\n--- rspamd.log\n${text}`;
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const until = Date.now() + (options.startTimeoutMs ?? 90_000);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`rspamd-harness: rspamd exited during start-up\n${logs()}`);
      }
      if (await ping(port, 500)) break;
      if (Date.now() > until)
        throw new Error(`rspamd-harness: rspamd did not answer on port ${port}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `http://127.0.0.1:${port}`, port, dir, pid: child.pid ?? 0, logs, stop };
}
