import { type Command, CommanderError } from 'commander';
import { DimeError, isDimeError } from '../errors/index.js';
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit.js';
import { printJson } from './io.js';

/**
 * Runs a commander program with the CLI's error contract: DimeErrors print `error: CODE: message`
 * on stderr (and `{"valid":false,"code","message"}` on stdout with --json); exit 1 for invalid or
 * refused input, 2 for usage, I/O and missing passphrases.
 */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  for (const c of allCommands(program)) {
    c.exitOverride();
    c.configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(s.replace(/^(error: )?/, 'error: USAGE: ')),
    });
  }
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0)
        return EXIT_OK;
      if (e.code === 'commander.help') return EXIT_OK;
      if (json) printJson({ valid: false, code: 'USAGE', message: e.message.replace(/^error: /, '') });
      return EXIT_USAGE;
    }
    const err: DimeError = isDimeError(e)
      ? e
      : new DimeError('BAD_INPUT', (e as Error)?.message ?? String(e));
    if (!isDimeError(e) && process.env.DIME_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    process.stderr.write(`error: ${err.code}: ${err.message}\n`);
    if (json) {
      printJson({
        valid: false,
        code: err.code,
        message: err.message,
        ...(typeof err.context.reason === 'string' ? { reason: err.context.reason } : {}),
      });
    }
    return isDimeError(e) ? exitCodeFor(err.code) : EXIT_INVALID;
  }
}

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap((x) => allCommands(x as Command))];
}
