import { crypto } from '../../crypto/index.js';
import { DimeError } from '../../errors/index.js';
import { deriveRealmKey, STACIE_SHARD_LENGTH } from '../../stacie/index.js';
import type { RealmShard } from '../types.js';

/** The realm that wraps the user key (stacie.md §5). */
export const MAIL_REALM = 'mail';

/** A fresh mail realm shard, rotated form (S = salt), as new accounts use (stacie.md §5 decision). */
export function newMailRealm(serial = 0): RealmShard {
  return { label: MAIL_REALM, serial, shard: crypto().randomBytes(STACIE_SHARD_LENGTH), rotated: true };
}

/** The 64-byte mail realm key of a user, from the session's master key. */
export function mailRealmKey(
  masterKey: Uint8Array,
  user: { salt: Uint8Array; realms: readonly RealmShard[] },
): Uint8Array {
  const realm = user.realms.find((r) => r.label === MAIL_REALM);
  if (!realm) throw new DimeError('NOT_FOUND', 'the account has no mail realm shard');
  return deriveRealmKey(masterKey, MAIL_REALM, realm.shard, { rotated: realm.rotated, salt: user.salt });
}
