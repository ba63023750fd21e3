/**
 * Structured logs (pino, one JSON object per line) on stderr, and in a file when configured. stdout
 * is kept for the one ready line. Secrets never reach a log line: the server logs ids, codes and
 * domains, never passwords, keys, message content or local parts; `redact` is the safety net for
 * fields with secret names.
 */

import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  'passphrase',
  'secret',
  'key',
  'privateKey',
  'privateKeyPem',
  'masterKey',
  'realmKey',
  '*.password',
  '*.passphrase',
  '*.secret',
  '*.privateKey',
  '*.privateKeyPem',
  '*.masterKey',
  '*.realmKey',
];

export function createLogger(o: {
  level: string;
  file?: string | undefined;
  name?: string;
  /** Also on stderr (default true). */
  stderr?: boolean;
}): Logger {
  const streams: pino.StreamEntry[] = [];
  if (o.stderr !== false) streams.push({ stream: pino.destination({ dest: 2, sync: true }) });
  if (o.file) streams.push({ stream: pino.destination({ dest: o.file, sync: true, mkdir: true }) });
  if (streams.length === 0) return silentLogger();
  return pino(
    {
      level: o.level,
      name: o.name ?? 'dime-server',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    streams.length === 1 ? streams[0]!.stream : pino.multistream(streams),
  );
}

/** A logger that drops everything (library use and tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
