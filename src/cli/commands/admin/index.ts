/** `dime admin …`: a server data directory, beside the running server or without it. */
import type { Command } from 'commander';
import { printJson } from '../../io.js';
import { registerAliasCommands } from './alias.js';
import { registerDomainCommands } from './domain.js';
import { registerQueueCommands } from './queue.js';
import { withAdmin } from './shared.js';
import { registerUserCommands } from './user.js';

export function registerAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description('administer a server data directory (works while the server runs)')
    .requiredOption('--data <dir>', 'the server data directory')
    .option('--config <file>', 'JSON configuration file (default DATA/config.json when present)');

  registerDomainCommands(admin);
  registerUserCommands(admin);
  registerAliasCommands(admin);
  registerQueueCommands(admin);

  admin
    .command('dns')
    .description('every DNS record to publish for a local domain: MX, _dx TXT, DKIM, SPF, DMARC, TLSA')
    .argument('<domain>')
    .option('--hostname <name>', 'the MX/DX host (default: the name on the server certificate)')
    .option('--json', 'print {"records":[{"name","type","value"}]}')
    .action(async (name: string, opts: { hostname?: string; json?: boolean }, cmd: Command) => {
      const { dnsRecords, zoneText } = await import('../../../server/admin/dns.js');
      const records = await withAdmin(cmd, (a) =>
        dnsRecords(a, name, opts.hostname ? { hostname: opts.hostname } : {}),
      );
      if (opts.json) printJson({ records });
      else process.stdout.write(zoneText(records));
    });
}
