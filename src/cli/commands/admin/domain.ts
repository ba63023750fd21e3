/** `dime admin domain add|list|rm`. */
import type { Command } from 'commander';
import { destroyKeys } from '../../../keys/index.js';
import { readKeyFile } from '../../common.js';
import { usage } from '../../exit.js';
import { printJson } from '../../io.js';
import { type KeyImportOptions, readSignetBytes, withAdmin } from './shared.js';

export function registerDomainCommands(admin: Command): void {
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
      const { generateDkimKey } = await import('../../../server/mail-adapter.js');
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
}
