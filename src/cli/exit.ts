import { DimeError, type DimeErrorCode } from '../errors/index.js';

/** Exit codes of every command (a fixed contract other tools drive). */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

const USAGE_CODES: ReadonlySet<DimeErrorCode> = new Set([
  'USAGE',
  'IO_ERROR',
  'PASSPHRASE_REQUIRED',
  'BAD_CONFIG',
]);

export function exitCodeFor(code: DimeErrorCode): number {
  return USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_INVALID;
}

/** Thrown for command-line misuse the option parser cannot see (exit 2). */
export function usage(message: string): never {
  throw new DimeError('USAGE', message);
}
