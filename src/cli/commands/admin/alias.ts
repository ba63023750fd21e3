/** `dime admin alias add|list|rm`. */
import type { Command } from 'commander';
import { printJson } from '../../io.js';
import { withAdmin } from './shared.js';

export function registerAliasCommands(admin: Command): void {
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
}
