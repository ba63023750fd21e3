/**
 * The data directory (docs/config.md "Data directory"):
 *
 * ```
 * DATA/
 *   config.json              optional configuration (read when --config is not given)
 *   mail.db, -wal, -shm      SQLite store (embedded default), mode 0600
 *   tls/key.pem              self-made RSA key, PKCS#8 encrypted under the server passphrase
 *   tls/cert.pem             its self-signed certificate (hostname, localhost, 127.0.0.1, ::1)
 *   keys/spool.key           DIME PROTECTED KEY: the key the outbound queue is sealed to
 *   domains/<d>/org.key      DIME PROTECTED KEY: the domain's org key (keys.md §6)
 *   domains/<d>/org.signet   the org signet (armored, public)
 *   domains/<d>/dkim.key     DKIM RSA key, PKCS#8 encrypted under the server passphrase
 *   domains/<d>/dkim.txt     the DKIM public key DNS value
 *   secrets/passphrase       generated passphrase, 0600 (only when none is configured)
 *   secrets/server-secret    64 random bytes, 0600: fake STACIE salts, dedup keys
 * ```
 *
 * Private keys are never written unencrypted. Directories are 0700, secret files 0600.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DimeError } from '../errors/index.js';

export class DataPaths {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  get configFile(): string {
    return join(this.root, 'config.json');
  }
  get tlsDir(): string {
    return join(this.root, 'tls');
  }
  get tlsKey(): string {
    return join(this.tlsDir, 'key.pem');
  }
  get tlsCert(): string {
    return join(this.tlsDir, 'cert.pem');
  }
  get spoolKey(): string {
    return join(this.root, 'keys', 'spool.key');
  }
  get secretsDir(): string {
    return join(this.root, 'secrets');
  }
  get passphraseFile(): string {
    return join(this.secretsDir, 'passphrase');
  }
  get serverSecret(): string {
    return join(this.secretsDir, 'server-secret');
  }
  domainDir(domain: string): string {
    return join(this.root, 'domains', domain);
  }
  /** Relative form stored as the domain's orgKeyRef. */
  orgKeyRef(domain: string): string {
    return join('domains', domain, 'org.key');
  }
  orgKey(domain: string): string {
    return join(this.root, this.orgKeyRef(domain));
  }
  orgSignet(domain: string): string {
    return join(this.domainDir(domain), 'org.signet');
  }
  dkimKey(domain: string): string {
    return join(this.domainDir(domain), 'dkim.key');
  }
  dkimPublic(domain: string): string {
    return join(this.domainDir(domain), 'dkim.txt');
  }
  /** A path relative to the data directory (or absolute) made absolute. */
  resolve(p: string): string {
    return resolve(this.root, p);
  }
}

export function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new DimeError('IO_ERROR', `cannot create ${path}: ${(e as Error).message}`);
  }
}

/**
 * Writes a file atomically (temp file, fsync through writeFileSync's flush, rename) with `mode`.
 * `exclusive`: IO_ERROR when the target exists (keys are never silently replaced).
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number,
  exclusive = true,
): void {
  ensureDir(dirname(path));
  if (exclusive && existsSync(path)) throw new DimeError('IO_ERROR', `${path} exists already`);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx', flush: true });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    throw new DimeError('IO_ERROR', `cannot write ${path}: ${(e as Error).message}`);
  }
}

export function readFileOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DimeError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The server secret (64 bytes, 0600), created on first use. */
export function loadServerSecret(paths: DataPaths, create: boolean): Uint8Array {
  if (existsSync(paths.serverSecret)) {
    const b = readFileOrThrow(paths.serverSecret);
    if (b.length !== 64) throw new DimeError('IO_ERROR', `${paths.serverSecret} is not 64 bytes`);
    return new Uint8Array(b);
  }
  if (!create) throw new DimeError('IO_ERROR', `${paths.serverSecret} is missing (start the server once)`);
  const secret = randomBytes(64);
  writeFileAtomic(paths.serverSecret, secret, 0o600);
  return new Uint8Array(secret);
}

export type PassphraseOrigin = 'config' | 'env' | 'file' | 'generated' | 'data-dir';

export interface ServerPassphrase {
  value: string;
  origin: PassphraseOrigin;
}

/**
 * The passphrase that protects every private key in the data directory: DIME_SERVER_PASSPHRASE
 * (merged into config.passphrase), else the configured passphraseFile, else DATA/secrets/passphrase;
 * with `generate`, a new random one is written there (0600) and the caller logs a warning
 * recommending the environment variable. Otherwise PASSPHRASE_REQUIRED.
 */
export function resolveServerPassphrase(
  paths: DataPaths,
  config: { passphrase?: string | undefined; passphraseFile?: string | undefined },
  o: { generate: boolean; env?: NodeJS.ProcessEnv },
): ServerPassphrase {
  const env = o.env ?? process.env;
  const fromEnv = env.DIME_SERVER_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, origin: 'env' };
  if (config.passphrase) return { value: config.passphrase, origin: 'config' };
  if (config.passphraseFile) {
    const text = readFileOrThrow(paths.resolve(config.passphraseFile))
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (text === '') throw new DimeError('BAD_CONFIG', 'config: passphraseFile: the file is empty');
    return { value: text, origin: 'file' };
  }
  if (existsSync(paths.passphraseFile)) {
    const text = readFileOrThrow(paths.passphraseFile)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (text !== '') return { value: text, origin: 'data-dir' };
  }
  if (!o.generate) {
    throw new DimeError(
      'PASSPHRASE_REQUIRED',
      'the data directory keys need a passphrase: set DIME_SERVER_PASSPHRASE (or passphrase/passphraseFile in the config)',
    );
  }
  const value = randomBytes(32).toString('base64url');
  writeFileAtomic(paths.passphraseFile, `${value}\n`, 0o600);
  return { value, origin: 'generated' };
}
