import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin/index.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerMessageCommands } from './commands/message.js';
import { registerRecordCommands } from './commands/record.js';
import { registerResolveCommand } from './commands/resolve.js';
import { registerServerCommands } from './commands/server.js';
import { registerSignetCommands } from './commands/signet.js';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('dime')
    .description('DIME: signets, keys, management records, encrypted messages and the mail server')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');
  registerKeyCommands(program);
  registerSignetCommands(program);
  registerRecordCommands(program);
  registerResolveCommand(program);
  registerMessageCommands(program);
  registerServerCommands(program);
  registerAdminCommands(program);
  registerDemoCommand(program);
  return program;
}
