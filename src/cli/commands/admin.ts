import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decodeObjectInput } from '../../encoding/input.js';
import { DimeError } from '../../errors/index.js';
import { destroyKeys } from '../../keys/index.js';
import type { Admin } from '../../server/admin/admin.js';
import type { AccountMode } from '../../store/types.js';
import { readKeyFile } from '../common.js';
import { usage } from '../exit.js';
import { printJson, readInput } from '../io.js';

interface GlobalOptions {
  data: string;
  config?: string;
}

/** The password line from stdin: one trailing LF or CRLF stripped, nothing else. */
export function readPasswordStdin(): Uint8Array {
  let buf: Buffer;
  try {
    buf = readFileSync(0);
  } catch (e) {
    throw new DimeError('IO_ERROR', `cannot read the password from stdin: ${(e as Error).message}`);
  }
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  if (end > 0 && buf[end - 1] === 0x0d) end--;
  return new Uint8Array(buf.subarray(0, end));
}

interface KeyImportOptions {
  orgKey?: string;
  orgSignet?: string;
  passphraseFile?: string;
  realmKey?: string;
}

/** A signet file in any encoding decodeObjectInput reads (armored, base64, binary). */
function readSignetBytes(path: string): Uint8Array {
  return decodeObjectInput(readInput(path)).binary;
}

/** keys.md §5 (the store's ACCOUNT_MODES; repeated here so `dime --help` loads no server code). */
const ACCOUNT_MODES = ['trustful', 'cautious', 'paranoid'] as const;

async function withAdmin<T>(cmd: Command, f: (admin: Admin) => Promise<T>): Promise<T> {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  // the server modules load only when an admin command runs
  const { Admin } = await import('../../server/admin/admin.js');
  const admin = await Admin.open({ dataDir: g.data, ...(g.config ? { configFile: g.config } : {}) });
  try {
    return await f(admin);
  } finally {
    await admin.close();
  }
}

function needPasswordStdin(opts: { passwordStdin?: boolean }): Uint8Array {
  if (!opts.passwordStdin) usage('the password is read from stdin: add --password-stdin');
  return readPasswordStdin();
}

function quota(value: string | undefined, option: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  if (!/^\d+$/.test(value) || Number(value) < 1) usage(`${option} must be a positive number or "none"`);
  return Number(value);
}

export function registerAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description('administer a server data directory (works while the server runs)')
    .requiredOption('--data <dir>', 'the server data directory')
    .option('--config <file>', 'JSON configuration file (default DATA/config.json when present)');

  const domain = admin.command('domain').description('local domains');
  domain
    .command('add')
    .description(
      'add a local domain: org key (protected), org signet, DKIM key; with --org-key and --org-signet, the existing ones are imported',
    )
    .argument('<domain>')
    .option('--org-key <file>', 'import this org key (plain, protected or encrypted key file, any encoding)')
    .option('--org-signet <file>', 'the org signet of --org-key (must match it and name the domain)')
    .option('--passphrase-file <file>', 'passphrase of a protected --org-key (else DIME_PASSPHRASE)')
    .option('--realm-key <hex>', 'realm key (128 hex digits) of an encrypted --org-key')
    .option('--json', 'print {"domain","imported"} as JSON')
    .action(async (name: string, opts: KeyImportOptions & { json?: boolean }, cmd: Command) => {
      if ((opts.orgKey === undefined) !== (opts.orgSignet === undefined)) {
        usage('--org-key and --org-signet go together');
      }
      if (!opts.orgKey && (opts.passphraseFile || opts.realmKey)) {
        usage('--passphrase-file and --realm-key are for --org-key');
      }
      const imported = opts.orgKey
        ? { keys: readKeyFile(opts.orgKey, opts, ['org']).keys, signet: readSignetBytes(opts.orgSignet!) }
        : undefined;
      const { generateDkimKey } = await import('../../server/mail-adapter.js');
      try {
        const r = await withAdmin(cmd, (a) => a.addDomain(name, generateDkimKey, imported));
        if (opts.json) printJson(r);
        else {
          process.stdout.write(
            `domain ${r.domain} added${r.imported ? ' with the imported org key and signet' : ''}; DNS records: dime admin dns ${r.domain}\n`,
          );
        }
      } finally {
        if (imported) destroyKeys(imported.keys);
      }
    });

  domain
    .command('list')
    .description('the local domains')
    .option('--json', 'print {"domains":[{"name","users"}]}')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const r = await withAdmin(cmd, (a) => a.listDomains());
      if (opts.json) printJson(r);
      else process.stdout.write(r.domains.map((d) => `${d.name} (${d.users} users)\n`).join(''));
    });
  domain
    .command('rm')
    .description('remove a local domain without users or aliases (its key files stay in the data directory)')
    .argument('<domain>')
    .option('--json', 'print {"domain","removed":true}')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await withAdmin(cmd, (a) => a.removeDomain(name));
      if (opts.json) printJson({ domain: r.domain, removed: true });
      else process.stdout.write(`domain ${r.domain} removed\n`);
    });

  const user = admin.command('user').description('users');
  user
    .command('list')
    .description('the users of a local domain, or of all')
    .argument('[domain]')
    .option('--json', 'print {"users":[{"address","mode","disabled"}]}')
    .action(async (name: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const r = await withAdmin(cmd, (a) => a.listUsers(name));
      if (opts.json) printJson(r);
      else {
        process.stdout.write(
          r.users.map((u) => `${u.address} (${u.mode}${u.disabled ? ', disabled' : ''})\n`).join(''),
        );
      }
    });
  user
    .command('add')
    .description('create a user; the password is read from stdin (one trailing newline stripped)')
    .argument('<address>')
    .option('--password-stdin', 'read the password from stdin')
    .option('--mode <mode>', 'trustful | cautious | paranoid (keys.md §5; default from the config: trustful)')
    .option(
      '--signet <file>',
      "import the user's signet (signed by the domain's org key): alone for a paranoid account, with --key otherwise",
    )
    .option(
      '--key <file>',
      'import the user key of --signet (trustful, cautious): sealed under the mail realm key like a new one',
    )
    .option('--passphrase-file <file>', 'passphrase of a protected --key (else DIME_PASSPHRASE)')
    .option('--realm-key <hex>', 'realm key (128 hex digits) of an encrypted --key')
    .option('--quota-bytes <n>', 'byte quota, or "none"')
    .option('--quota-messages <n>', 'message quota, or "none"')
    .option('--json', 'print {"address","mode"} as JSON')
    .action(
      async (
        address: string,
        opts: {
          passwordStdin?: boolean;
          mode?: string;
          signet?: string;
          key?: string;
          passphraseFile?: string;
          realmKey?: string;
          quotaBytes?: string;
          quotaMessages?: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.mode !== undefined && !(ACCOUNT_MODES as readonly string[]).includes(opts.mode)) {
          usage(`--mode must be one of ${ACCOUNT_MODES.join(', ')}`);
        }
        if (opts.key && !opts.signet) usage('--key needs the signet of that key (--signet)');
        if (opts.key && opts.mode === 'paranoid') {
          usage('a paranoid account keeps its key off the server: drop --key');
        }
        if (!opts.key && (opts.passphraseFile || opts.realmKey)) {
          usage('--passphrase-file and --realm-key are for --key');
        }
        for (const [flag, value] of [
          ['--signet', opts.signet],
          ['--key', opts.key],
          ['--passphrase-file', opts.passphraseFile],
        ] as const) {
          if (value === '-') usage(`${flag} cannot read stdin: stdin carries the password`);
        }
        const qb = quota(opts.quotaBytes, '--quota-bytes');
        const qm = quota(opts.quotaMessages, '--quota-messages');
        const signet = opts.signet ? readSignetBytes(opts.signet) : undefined;
        const keys = opts.key ? readKeyFile(opts.key, opts, ['user']).keys : undefined;
        const password = needPasswordStdin(opts);
        try {
          const r = await withAdmin(cmd, (a) =>
            a.addUser(address, password, {
              ...(opts.mode ? { mode: opts.mode as AccountMode } : {}),
              ...(signet ? { signet } : {}),
              ...(keys ? { keys } : {}),
              ...(qb !== undefined ? { quotaBytes: qb } : {}),
              ...(qm !== undefined ? { quotaMessages: qm } : {}),
            }),
          );
          if (opts.json) printJson(r);
          else {
            process.stdout.write(
              `user ${r.address} created (${r.mode})${r.imported ? (keys ? ' with the imported key and signet' : ' with the imported signet') : ''}\n`,
            );
          }
        } finally {
          password.fill(0);
          if (keys) destroyKeys(keys);
        }
      },
    );

  user
    .command('passwd')
    .description(
      'set a new password (administrator reset: trustful and cautious accounts get a new key; mail sealed to the old key stays unreadable)',
    )
    .argument('<address>')
    .option('--password-stdin', 'read the new password from stdin')
    .option(
      '--keep-key',
      "with the user's current password: stdin holds two lines, the current password then the new one; the key is re-wrapped and stored mail stays readable",
    )
    .option('--json', 'print {"address","new_key"} as JSON')
    .action(
      async (
        address: string,
        opts: { passwordStdin?: boolean; keepKey?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const input = needPasswordStdin(opts);
        let password = input;
        let current: Uint8Array | null = null;
        if (opts.keepKey) {
          const nl = input.indexOf(0x0a);
          if (nl < 0) usage('--keep-key: stdin holds the current password, a newline, then the new password');
          current = input.slice(0, nl > 0 && input[nl - 1] === 0x0d ? nl - 1 : nl);
          password = input.slice(nl + 1);
          input.fill(0);
        }
        try {
          const r = await withAdmin(cmd, (a) =>
            current ? a.changePassword(address, current, password) : a.setPassword(address, password),
          );
          if (r.newKey) {
            process.stderr.write(
              `warning: ${r.address} has a new key; mail stored for the old key can no longer be opened\n`,
            );
          }
          if (opts.json) printJson({ address: r.address, new_key: r.newKey });
          else process.stdout.write(`password of ${r.address} set\n`);
        } finally {
          password.fill(0);
          current?.fill(0);
        }
      },
    );

  user
    .command('rm')
    .description('remove a user with all folders and messages')
    .argument('<address>')
    .option('--json', 'print {"address","removed":true} as JSON')
    .action(async (address: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await withAdmin(cmd, (a) => a.removeUser(address));
      if (opts.json) printJson({ address: r.address, removed: true });
      else process.stdout.write(`user ${r.address} removed\n`);
    });

  user
    .command('show')
    .description('a user: mode and folders with message and byte counts')
    .argument('<address>')
    .option('--json', 'print {"address","mode","folders":[{"name","messages","bytes"}]}')
    .action(async (address: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await withAdmin(cmd, (a) => a.showUser(address));
      if (opts.json) {
        printJson(r);
        return;
      }
      const lines = [
        `${r.address} (${r.mode})`,
        ...r.folders.map((f) => `  ${f.name}: ${f.messages} messages, ${f.bytes} bytes`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  user
    .command('quota')
    .description("change a user's quota (an omitted limit stays)")
    .argument('<address>')
    .option('--bytes <n>', 'byte quota, or "none"')
    .option('--messages <n>', 'message quota, or "none"')
    .option('--json', 'print {"address","quota":{"bytes","messages"}}')
    .action(
      async (address: string, opts: { bytes?: string; messages?: string; json?: boolean }, cmd: Command) => {
        const bytes = quota(opts.bytes, '--bytes');
        const messages = quota(opts.messages, '--messages');
        if (bytes === undefined && messages === undefined) usage('give --bytes, --messages or both');
        const r = await withAdmin(cmd, (a) =>
          a.setQuota(address, {
            ...(bytes !== undefined ? { bytes } : {}),
            ...(messages !== undefined ? { messages } : {}),
          }),
        );
        if (opts.json) printJson(r);
        else {
          const show = (n: number | null) => (n === null ? 'none' : String(n));
          process.stdout.write(
            `${r.address}: quota ${show(r.quota.bytes)} bytes, ${show(r.quota.messages)} messages\n`,
          );
        }
      },
    );
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    user
      .command(name)
      .description(
        disabled
          ? 'disable a user: no login, no new mail (refused at RCPT); the stored mail stays'
          : 'enable a disabled user again',
      )
      .argument('<address>')
      .option('--json', 'print {"address","disabled"}')
      .action(async (address: string, opts: { json?: boolean }, cmd: Command) => {
        const r = await withAdmin(cmd, (a) => a.setDisabled(address, disabled));
        if (opts.json) printJson(r);
        else process.stdout.write(`user ${r.address} ${r.disabled ? 'disabled' : 'enabled'}\n`);
      });
  }

  const alias = admin.command('alias').description('aliases: other addresses that deliver to a user');
  alias
    .command('add')
    .description('ALIAS (e.g. postmaster@DOMAIN, RFC 5321 §4.5.1) delivers to the user USER')
    .argument('<alias>')
    .argument('<user>')
    .option('--json', 'print {"alias","user"} as JSON')
    .action(async (name: string, target: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await withAdmin(cmd, (a) => a.addAlias(name, target));
      if (opts.json) printJson(r);
      else process.stdout.write(`alias ${r.alias} → ${r.user}\n`);
    });
  alias
    .command('rm')
    .description('remove an alias')
    .argument('<alias>')
    .option('--json', 'print {"alias","removed":true} as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await withAdmin(cmd, (a) => a.removeAlias(name));
      if (opts.json) printJson({ alias: r.alias, removed: true });
      else process.stdout.write(`alias ${r.alias} removed\n`);
    });
  alias
    .command('list')
    .description("a user's aliases")
    .argument('<user>')
    .option('--json', 'print {"user","aliases":[…]} as JSON')
    .action(async (target: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await withAdmin(cmd, (a) => a.listAliases(target));
      if (opts.json) printJson(r);
      else process.stdout.write(r.aliases.map((x) => `${x}\n`).join(''));
    });

  const queue = admin.command('queue').description('the outbound queue');
  queue
    .command('list')
    .description('queued mail: recipient, state, attempts, next attempt, last error')
    .option(
      '--json',
      'print {"items":[{"id","state","kind","recipient","domain","author","size","attempts","created","next_attempt","last_error"}]}',
    )
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { listQueue } = await import('../../server/admin/queue.js');
      const r = await withAdmin(cmd, (a) => listQueue(a));
      if (opts.json) printJson(r);
      else {
        process.stdout.write(
          r.items
            .map(
              (q) =>
                `${q.id} ${q.state} ${q.kind} ${q.recipient} (${q.size} bytes, ${q.attempts} attempts, next ${q.next_attempt})${q.last_error ? `\n    ${q.last_error}` : ''}\n`,
            )
            .join(''),
        );
      }
    });
  queue
    .command('retry')
    .description('deliver now: one ready item, or all of them (the server takes them at its next poll)')
    .argument('[id]')
    .option('--json', 'print {"rescheduled":n}')
    .action(async (id: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const { retryQueue } = await import('../../server/admin/queue.js');
      const r = await withAdmin(cmd, (a) => retryQueue(a, id));
      if (opts.json) printJson(r);
      else process.stdout.write(`${r.rescheduled} item(s) due now\n`);
    });
  queue
    .command('rm')
    .description('drop a queued item without delivering or bouncing it')
    .argument('<id>')
    .option('--json', 'print {"id","removed":true}')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { removeQueueItem } = await import('../../server/admin/queue.js');
      const r = await withAdmin(cmd, (a) => removeQueueItem(a, id));
      if (opts.json) printJson(r);
      else process.stdout.write(`queue item ${r.id} removed\n`);
    });

  admin
    .command('dns')
    .description('every DNS record to publish for a local domain: MX, _dx TXT, DKIM, SPF, DMARC, TLSA')
    .argument('<domain>')
    .option('--hostname <name>', 'the MX/DX host (default: the name on the server certificate)')
    .option('--json', 'print {"records":[{"name","type","value"}]}')
    .action(async (name: string, opts: { hostname?: string; json?: boolean }, cmd: Command) => {
      const { dnsRecords, zoneText } = await import('../../server/admin/dns.js');
      const records = await withAdmin(cmd, (a) =>
        dnsRecords(a, name, opts.hostname ? { hostname: opts.hostname } : {}),
      );
      if (opts.json) printJson({ records });
      else process.stdout.write(zoneText(records));
    });
}
