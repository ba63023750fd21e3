import { readFileSync, readSync } from 'node:fs';
import { DimeError } from '../errors/index.js';

export interface PassphraseOptions {
  passphraseFile?: string;
}

function fromTty(prompt: string): string | null {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return null;
  process.stderr.write(prompt);
  // Synchronous, echo-less read of one line from the terminal.
  const wasRaw = process.stdin.isRaw;
  process.stdin.setRawMode(true);
  const buf = Buffer.alloc(1);
  let line = '';
  try {
    for (;;) {
      let n = 0;
      try {
        n = readSync(0, buf, 0, 1, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
      if (n === 0) break;
      const ch = buf.toString('utf8');
      if (ch === '\r' || ch === '\n') break;
      if (ch === '\u0003') throw new DimeError('PASSPHRASE_REQUIRED', 'passphrase entry interrupted');
      if (ch === '\u007f') line = line.slice(0, -1);
      else line += ch;
    }
  } finally {
    process.stdin.setRawMode(wasRaw);
    process.stderr.write('\n');
  }
  return line;
}

/**
 * The passphrase of a protected key file (keys.md §6): --passphrase-file (one trailing LF or
 * CRLF stripped), else DIME_PASSPHRASE (empty = unset), else a TTY prompt, else
 * PASSPHRASE_REQUIRED (exit 2).
 */
export function resolvePassphrase(opts: PassphraseOptions, prompt = 'Passphrase: '): string {
  if (opts.passphraseFile) {
    let text: string;
    try {
      text = readFileSync(opts.passphraseFile === '-' ? 0 : opts.passphraseFile, 'utf8');
    } catch (e) {
      throw new DimeError('IO_ERROR', `cannot read passphrase file: ${(e as Error).message}`);
    }
    return text.replace(/\r?\n$/, '');
  }
  const env = process.env.DIME_PASSPHRASE;
  if (env !== undefined && env !== '') return env;
  const typed = fromTty(prompt);
  if (typed !== null) return typed;
  throw new DimeError(
    'PASSPHRASE_REQUIRED',
    'a passphrase is required: use --passphrase-file, DIME_PASSPHRASE or a terminal (or --plain for an unprotected key)',
  );
}

/** A lazily asked passphrase, for readers that only need one for protected files. */
export function passphraseSource(opts: PassphraseOptions): () => string {
  let cached: string | undefined;
  return () => {
    cached ??= resolvePassphrase(opts);
    return cached;
  };
}
