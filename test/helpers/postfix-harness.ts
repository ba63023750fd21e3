/**
 * A real Postfix (Debian 12: 3.7.x) for conformance tests and benchmarks: a separate instance with
 * its own config_directory, queue_directory and data_directory in a temp folder, one smtpd on an
 * ephemeral loopback port (master.cf inet service `127.0.0.1:<port>`), nothing else listening.
 *
 * Modes:
 * - 'sink-maildir': every address at every domain is a virtual mailbox delivered to one Maildir
 *   (`virtual_mailbox_domains = static:all`, `virtual_mailbox_maps = static:sink/`), owned by
 *   `nobody`; mail is never relayed anywhere (`default_transport = error:…`).
 * - 'relay': loopback clients may relay to any domain; everything goes to `relayTo` (relayhost
 *   `[host]:port`), opportunistic TLS.
 *
 * SMTP smuggling: `smtpdForbidBareNewline` sets `smtpd_forbid_bare_newline` (Postfix 3.7.10+;
 * Debian's default is `no`, which leaves it open) AND empties `smtpd_forbid_bare_newline_exclusions`
 * (its default `$mynetworks` would exempt every loopback client, i.e. every test). Values in 3.7.11:
 * - `true` / 'normalize' (`yes` is its alias): only <CR><LF>.<CR><LF> ends DATA; lines ending in a
 *   bare LF are accepted as if they ended in CRLF, so `<LF>.<LF>` and friends are message content
 *   and the message is queued whole at the real end;
 * - 'reject': a command or message line with a bare LF is refused: at the end of DATA Postfix
 *   answers `550 5.5.2 Error: bare <LF> received` (smtpd_forbid_bare_newline_reject_code) and
 *   stores nothing;
 * - `false`: Debian's default `no` (vulnerable).
 *
 * Nothing reaches the network: no DNS lookups (`smtpd_peername_lookup = no`,
 * `smtp_dns_support_level = disabled`, relayhost an IP literal), logs to a file in the folder
 * (`maillog_file`, postlogd), no chroot. Requires root (the daemons drop to the `postfix` user, the
 * virtual agent to `nobody`).
 *
 * Debian packages (POSTFIX_PACKAGES): postfix (debconf `postfix/main_mailer_type` = "No
 * configuration", so the package sets up no system instance), swaks for the client-side tests.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Debian packages the harness and its client-side tests need. */
export const POSTFIX_PACKAGES = ['postfix', 'swaks'] as const;

/** debconf answer for an unattended install that creates no system instance. */
export const POSTFIX_DEBCONF = 'postfix postfix/main_mailer_type select No configuration';

export interface PostfixOptions {
  readonly mode: 'sink-maildir' | 'relay';
  /** Listening port on 127.0.0.1; 0 or absent: an ephemeral one. */
  readonly port?: number;
  /** `smtpd_forbid_bare_newline` with no exclusions (see above): true = 'normalize'. */
  readonly smtpdForbidBareNewline: boolean | 'normalize' | 'reject';
  /** `smtpd_forbid_unauth_pipelining` (Postfix 3.7.9+, Debian default `no`). */
  readonly smtpdForbidUnauthPipelining?: boolean;
  /** Relay mode: where everything goes. */
  readonly relayTo?: { readonly host: string; readonly port: number };
  /** STARTTLS for smtpd with this certificate (PEM), `smtpd_tls_security_level = may`. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
  /** myhostname (banner, EHLO), default 'postfix.test'. */
  readonly hostname?: string;
  /** More main.cf settings (win over the harness's). */
  readonly mainCf?: Readonly<Record<string, string>>;
  /** Start-up limit in ms (default 30 000). */
  readonly startTimeoutMs?: number;
}

export interface PostfixInstance {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The Maildir (with new/, cur/, tmp/) of sink mode; '' in relay mode. */
  readonly maildir: string;
  /** The instance's folder (etc/, spool/, data/, mail/, maillog). */
  readonly dir: string;
  /** mail_version, e.g. '3.7.11'. */
  readonly version: string;
  /** The effective value of a main.cf parameter (`postconf -c etc -h NAME`). */
  postconf(name: string): Promise<string>;
  /** The files in Maildir/new, oldest first. */
  messageFiles(): string[];
  /** Waits until Maildir/new holds at least `n` messages; returns their contents. */
  waitForMessages(n: number, timeoutMs?: number): Promise<Buffer[]>;
  /** Runs `postqueue -c etc -p` (the queue listing). */
  queue(): Promise<string>;
  /** The last lines of the maillog. */
  logs(lines?: number): string;
  /** `postfix stop`, waits for the master to exit (SIGKILL after 10 s), removes the folder. */
  stop(): Promise<void>;
}

function findBinary(name: string): string {
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
    `postfix-harness: '${name}' not found; install the Debian packages: ` +
      `echo '${POSTFIX_DEBCONF}' | debconf-set-selections && apt-get install -y ${POSTFIX_PACKAGES.join(' ')}`,
  );
}

/** Version string of the installed Postfix. */
export async function postfixVersion(): Promise<string> {
  const { stdout } = await run(findBinary('postconf'), ['-d', '-h', 'mail_version']);
  return stdout.trim();
}

function versionAtLeast(v: string, min: readonly number[]): boolean {
  const parts = v.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i]!;
  }
  return true;
}

async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** True when something on 127.0.0.1:port sends a 220 greeting within `ms`. */
function greets(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (v: boolean) => {
      clearTimeout(t);
      s.removeAllListeners();
      s.on('error', () => {});
      if (v) s.end('QUIT\r\n');
      else s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(false), ms);
    s.on('error', () => done(false));
    s.on('data', (b) => {
      data += b.toString('latin1');
      if (data.includes('\n')) done(data.startsWith('220'));
    });
  });
}

const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function masterPid(dir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, 'spool', 'pid', 'master.pid'), 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [child, dir] of running) {
      const pid = masterPid(dir);
      try {
        if (pid !== null) process.kill(pid, 'SIGKILL');
        child.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

function groupId(name: string): number {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`postfix-harness: group ${name} missing`);
  return Number(line.split(':')[2]);
}

function userIds(name: string): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/**
 * Starts the instance and resolves once its smtpd greets. A start that fails (a port taken
 * between choosing and binding it) is cleaned up and tried again, three times at most.
 */
export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      if (attempt >= 3 || options.port) throw e;
    }
  }
}

async function startOnce(options: PostfixOptions): Promise<PostfixInstance> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('postfix-harness: must run as root (Postfix daemons drop privileges themselves)');
  }
  const postfix = findBinary('postfix');
  const postconf = findBinary('postconf');
  const postqueue = findBinary('postqueue');
  const version = await postfixVersion();
  if (options.smtpdForbidBareNewline && !versionAtLeast(version, [3, 7, 10])) {
    throw new Error(
      `postfix-harness: smtpd_forbid_bare_newline needs Postfix 3.7.10 or later, not ${version}`,
    );
  }
  if (options.mode === 'relay' && !options.relayTo)
    throw new Error('postfix-harness: relay mode needs relayTo');
  const postfixUser = userIds('postfix');
  const nobody = userIds('nobody');
  if (!postfixUser || !nobody) throw new Error('postfix-harness: users postfix and nobody must exist');

  const dir = mkdtempSync(join(tmpdir(), 'dime-postfix-'));
  chmodSync(dir, 0o755); // the postfix user must reach the queue inside
  const etc = join(dir, 'etc');
  const spool = join(dir, 'spool');
  const data = join(dir, 'data');
  const mail = join(dir, 'mail');
  for (const d of [etc, spool, data, mail]) mkdirSync(d, { mode: 0o755 });
  chownSync(data, postfixUser.uid, postfixUser.gid);
  // The queue layout `postfix check` would make (postfix-files), made here so that start-up can
  // skip the integrity checks (`quick-start`), which take seconds.
  const postdrop = groupId('postdrop');
  for (const q of [
    'active',
    'bounce',
    'corrupt',
    'defer',
    'deferred',
    'flush',
    'hold',
    'incoming',
    'private',
    'saved',
    'trace',
  ]) {
    mkdirSync(join(spool, q), { mode: 0o700 });
    chownSync(join(spool, q), postfixUser.uid, 0);
  }
  mkdirSync(join(spool, 'maildrop'));
  chmodSync(join(spool, 'maildrop'), 0o730);
  chownSync(join(spool, 'maildrop'), postfixUser.uid, postdrop);
  mkdirSync(join(spool, 'public'));
  chmodSync(join(spool, 'public'), 0o710);
  chownSync(join(spool, 'public'), postfixUser.uid, postdrop);
  mkdirSync(join(spool, 'pid'), { mode: 0o755 });
  writeFileSync(join(spool, 'quick-start'), '');
  chownSync(mail, nobody.uid, nobody.gid);
  const maillog = join(dir, 'maillog');
  const port = options.port && options.port > 0 ? options.port : await freePort();

  const main: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: spool,
    data_directory: data,
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    myhostname: options.hostname ?? 'postfix.test',
    mydomain: 'postfix.test',
    myorigin: '$myhostname',
    mydestination: '',
    inet_interfaces: 'loopback-only',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    maillog_file: maillog,
    maillog_file_prefixes: dir,
    smtpd_banner: '$myhostname ESMTP',
    smtpd_peername_lookup: 'no',
    smtp_dns_support_level: 'disabled',
    alias_maps: '',
    alias_database: '',
    biff: 'no',
    append_dot_mydomain: 'no',
    readme_directory: 'no',
    smtputf8_enable: 'yes',
  };
  if (options.smtpdForbidBareNewline) {
    main.smtpd_forbid_bare_newline = options.smtpdForbidBareNewline === 'reject' ? 'reject' : 'normalize';
    main.smtpd_forbid_bare_newline_exclusions = '';
  }
  if (options.smtpdForbidUnauthPipelining !== undefined) {
    main.smtpd_forbid_unauth_pipelining = options.smtpdForbidUnauthPipelining ? 'yes' : 'no';
  }
  if (options.mode === 'sink-maildir') {
    Object.assign(main, {
      virtual_mailbox_domains: 'static:all',
      virtual_mailbox_base: mail,
      virtual_mailbox_maps: 'static:sink/',
      virtual_uid_maps: `static:${nobody.uid}`,
      virtual_gid_maps: `static:${nobody.gid}`,
      virtual_minimum_uid: '100',
      default_transport: 'error:this sink does not relay',
      relay_transport: 'error:this sink does not relay',
    });
  } else {
    const to = options.relayTo!;
    Object.assign(main, {
      relayhost: `[${to.host}]:${to.port}`,
      relay_domains: '',
      smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
      smtp_tls_security_level: 'may',
      smtp_tls_loglevel: '1',
      smtp_helo_name: '$myhostname',
    });
  }
  if (options.tls) {
    writeFileSync(join(etc, 'tls-cert.pem'), options.tls.certPem);
    writeFileSync(join(etc, 'tls-key.pem'), options.tls.keyPem, { mode: 0o600 });
    Object.assign(main, {
      smtpd_tls_cert_file: join(etc, 'tls-cert.pem'),
      smtpd_tls_key_file: join(etc, 'tls-key.pem'),
      smtpd_tls_security_level: 'may',
      smtpd_tls_loglevel: '1',
    });
  }
  Object.assign(main, options.mainCf ?? {});
  writeFileSync(
    join(etc, 'main.cf'),
    `${Object.entries(main)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  );
  // service type private unpriv chroot wakeup maxproc command
  writeFileSync(
    join(etc, 'master.cf'),
    [
      `127.0.0.1:${port} inet n - n - - smtpd`,
      'pickup    unix  n - n 60 1 pickup',
      'cleanup   unix  n - n - 0 cleanup',
      'qmgr      unix  n - n 300 1 qmgr',
      'tlsmgr    unix  - - n 1000? 1 tlsmgr',
      'rewrite   unix  - - n - - trivial-rewrite',
      'bounce    unix  - - n - 0 bounce',
      'defer     unix  - - n - 0 bounce',
      'trace     unix  - - n - 0 bounce',
      'verify    unix  - - n - 1 verify',
      'flush     unix  n - n 1000? 0 flush',
      'proxymap  unix  - - n - - proxymap',
      'smtp      unix  - - n - - smtp',
      'relay     unix  - - n - - smtp',
      'showq     unix  n - n - - showq',
      'error     unix  - - n - - error',
      'retry     unix  - - n - - error',
      'discard   unix  - - n - - discard',
      'local     unix  - n n - - local',
      'virtual   unix  - n n - - virtual',
      'lmtp      unix  - - n - - lmtp',
      'anvil     unix  - - n - 1 anvil',
      'scache    unix  - - n - 1 scache',
      'postlog   unix-dgram n - n - 1 postlogd',
      '',
    ].join('\n'),
  );

  const logs = (lines = 40) => {
    try {
      return readFileSync(maillog, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no maillog yet)';
    }
  };

  installExitHook();
  let output = '';
  // start-fg keeps the master in the foreground under this child; `postfix stop` ends both.
  const child = spawn(postfix, ['-c', etc, 'start-fg'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(child, dir);
  const onOutput = (b: Buffer) => {
    output = (output + b.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      await run(postfix, ['-c', etc, 'stop']).catch(() => undefined);
      const timer = setTimeout(() => {
        const pid = masterPid(dir);
        try {
          if (pid !== null) process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
        child.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const until = Date.now() + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`postfix-harness: postfix exited during start-up\n${output}\n${logs()}`);
      }
      if (await greets(port, 1000)) break;
      if (Date.now() > until)
        throw new Error(`postfix-harness: no greeting on port ${port}\n${output}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const maildir = options.mode === 'sink-maildir' ? join(mail, 'sink') : '';
  const messageFiles = () => {
    if (maildir === '') return [];
    try {
      // Postfix names a Maildir file `<seconds>.V<dev>I<inode>M<microseconds>.<host>`: a plain
      // sort orders two deliveries in one second by inode, so order by the time in the name.
      const when = (f: string): number => {
        const m = /^(\d+)\.V[0-9a-f]+I[0-9a-f]+M(\d+)\./.exec(f);
        return m ? Number(m[1]) * 1e6 + Number(m[2]) : Number.MAX_SAFE_INTEGER;
      };
      return readdirSync(join(maildir, 'new'))
        .sort((a, b) => when(a) - when(b) || (a < b ? -1 : a > b ? 1 : 0))
        .map((f) => join(maildir, 'new', f));
    } catch {
      return [];
    }
  };
  return {
    host: '127.0.0.1',
    port,
    maildir,
    dir,
    version,
    async postconf(name: string) {
      const { stdout } = await run(postconf, ['-c', etc, '-h', name]);
      return stdout.trim();
    },
    messageFiles,
    async waitForMessages(n: number, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const files = messageFiles();
        if (files.length >= n) return files.map((f) => readFileSync(f));
        if (Date.now() > end) {
          throw new Error(`postfix-harness: ${files.length} of ${n} messages in the Maildir\n${logs()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async queue() {
      const { stdout } = await run(postqueue, ['-c', etc, '-p']);
      return stdout;
    },
    logs,
    stop,
  };
}
