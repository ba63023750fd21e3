import { DimeError } from '../errors/index.js';
import { STACIE_KEY_LENGTH, STACIE_SALT_LENGTH, STACIE_SHARD_LENGTH } from '../stacie/index.js';
import { ACCOUNT_MODES, type NewUser, type Quota, type RealmShard } from './types.js';

/** Input checks shared by both engines: every value is checked before it reaches SQL. */

const DOMAIN =
  /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** A stored username or alias local part (already normalized: stacie.md §2.1). */
const LOCAL = /^[^\s@\x00-\x1f\x7f]{1,64}$/;
const CONTROL = /[\x00-\x1f\x7f]/;

function bad(message: string, context?: Record<string, unknown>): never {
  throw new DimeError('BAD_PARAMETER', message, context);
}

/** Lower-case ASCII, no trailing dot. */
export function domainName(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(n)) bad(`not a domain name: ${JSON.stringify(name)}`);
  return n;
}

export function localPart(name: string): string {
  if (!LOCAL.test(name)) bad(`not a stored username or local part: ${JSON.stringify(name)}`);
  return name;
}

/** IMAP mailbox name; INBOX in any case is INBOX (RFC 3501 §5.1). */
export function folderName(name: string): string {
  if (name.length === 0 || name.length > 1024 || CONTROL.test(name))
    bad(`not a folder name: ${JSON.stringify(name)}`);
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

export function length(what: string, value: Uint8Array, n: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== n) bad(`${what} must be ${n} bytes`);
  return value;
}

export function count(what: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) bad(`${what} out of range`, { value });
  return value;
}

export function positive(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) bad(`${what} must be a positive integer`, { value });
  return value;
}

export function quota(q: Partial<Quota> | undefined): Quota {
  const bytes = q?.bytes ?? null;
  const messages = q?.messages ?? null;
  if (bytes !== null) count('quota bytes', bytes);
  if (messages !== null) count('quota messages', messages);
  return { bytes, messages };
}

export function realms(list: readonly RealmShard[]): readonly RealmShard[] {
  const labels = new Set<string>();
  for (const r of list) {
    if (r.label.length === 0 || CONTROL.test(r.label)) bad('bad realm label');
    if (labels.has(r.label)) bad(`realm ${r.label} given twice`);
    labels.add(r.label);
    length('shard', r.shard, STACIE_SHARD_LENGTH);
    count('realm serial', r.serial, 0xffff);
  }
  return list;
}

export function credentials(c: { salt: Uint8Array; bonus: number; verification: Uint8Array }): void {
  length('salt', c.salt, STACIE_SALT_LENGTH);
  length('verification token', c.verification, STACIE_KEY_LENGTH);
  count('bonus', c.bonus, 0x1000000);
}

export function newUser(u: NewUser): void {
  localPart(u.username);
  credentials(u);
  if (!ACCOUNT_MODES.includes(u.mode)) bad(`unknown account mode ${String(u.mode)}`);
  realms(u.realms);
  if (u.encryptionPublicKey) length('encryption public key', u.encryptionPublicKey, 33);
}

export function uids(list: readonly number[]): number[] {
  for (const u of list) if (!Number.isSafeInteger(u) || u < 1 || u > 0xffffffff) bad('bad UID', { uid: u });
  return [...new Set(list)].sort((a, b) => a - b);
}
