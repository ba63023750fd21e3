/** `dime admin user add|list|passwd|quota|disable|enable|rm|show`. */
import type { Command } from 'commander';
import { destroyKeys } from '../../../keys/index.js';
import type { AccountMode } from '../../../store/types.js';
import { readKeyFile } from '../../common.js';
import { usage } from '../../exit.js';
import { printJson } from '../../io.js';
import { ACCOUNT_MODES, needPasswordStdin, quota, readSignetBytes, withAdmin } from './shared.js';

export function registerUserCommands(admin: Command): void {
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
}
