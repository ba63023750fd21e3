import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DimeError } from '../errors/index.js';

/** Reads a file, or stdin for "-". Failures are IO_ERROR (exit 2). */
export function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path === '-' ? 0 : path));
  } catch (e) {
    throw new DimeError(
      'IO_ERROR',
      `cannot read ${path === '-' ? 'standard input' : path}: ${(e as Error).message}`,
    );
  }
}

export function readText(path: string): string {
  return Buffer.from(readInput(path)).toString('utf8');
}

/** Writes a file (or stdout for "-"); `mode` for secrets. */
export function writeOutput(path: string, data: string | Uint8Array, mode = 0o644): void {
  try {
    if (path === '-') {
      process.stdout.write(data);
      return;
    }
    writeFileSync(path, data, { mode });
  } catch (e) {
    throw new DimeError('IO_ERROR', `cannot write ${path}: ${(e as Error).message}`);
  }
}

/** Creates a new file only if it does not exist yet (keys are never silently overwritten). */
export function writeNewFile(path: string, data: string | Uint8Array, mode: number, force: boolean): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, data, { mode, flag: force ? 'w' : 'wx' });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EEXIST' ? 'file exists (use --force to replace it)' : err.message;
    throw new DimeError('IO_ERROR', `cannot write ${path}: ${why}`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
