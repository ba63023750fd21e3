import { DimeError } from '../../errors/index.js';
import type { CredentialUpdate, NewUser, Quota, RealmShard, UsageInfo, User } from '../types.js';
import * as v from '../validate.js';
import { dropFolderMessages } from './blobs.js';
import { notFound, rethrowConstraint } from './constraint.js';
import type { StoreContext } from './context.js';
import type { Row, Tx } from './engine.js';
import { insertFolder } from './folders.js';
import { lockUsers } from './locks.js';
import { toRealm, toUser } from './rows.js';

async function realmsOf(tx: Tx, userId: number): Promise<RealmShard[]> {
  return (await tx.all('SELECT * FROM realms WHERE user_id = ? ORDER BY label', [userId])).map(toRealm);
}

export async function userById(tx: Tx, id: number): Promise<User | null> {
  const r = await tx.get('SELECT * FROM users WHERE id = ?', [id]);
  return r ? toUser(r, await realmsOf(tx, id)) : null;
}

async function usersOf(tx: Tx, rows: Row[]): Promise<User[]> {
  const out: User[] = [];
  for (const r of rows) out.push(toUser(r, await realmsOf(tx, Number(r.id))));
  return out;
}

async function writeRealms(tx: Tx, userId: number, realms: readonly RealmShard[]): Promise<void> {
  await tx.run('DELETE FROM realms WHERE user_id = ?', [userId]);
  for (const r of realms) {
    await tx.run('INSERT INTO realms (user_id, label, serial, shard, rotated) VALUES (?, ?, ?, ?, ?)', [
      userId,
      r.label,
      r.serial,
      r.shard,
      r.rotated ? 1 : 0,
    ]);
  }
}

export function createUser(ctx: StoreContext, u: NewUser): Promise<User> {
  v.newUser(u);
  const quota = v.quota(u.quota);
  const now = ctx.clock();
  return ctx.engine.transaction(async (tx) => {
    let id: number;
    try {
      const r = await tx.get(
        `INSERT INTO users (domain_id, username, salt, bonus, verification, mode, encrypted_key, encryption_public,
           signet, quota_bytes, quota_messages, disabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [
          u.domainId,
          u.username,
          u.salt,
          u.bonus,
          u.verification,
          u.mode,
          u.encryptedKey ?? null,
          u.encryptionPublicKey ?? null,
          u.signet ?? null,
          quota.bytes,
          quota.messages,
          u.disabled ? 1 : 0,
          now,
          now,
        ],
      );
      id = Number(r!.id);
    } catch (e) {
      rethrowConstraint(ctx.engine.dialect, e, `user ${u.username} already exists (or the domain does not)`);
    }
    await writeRealms(tx, id, u.realms);
    for (const name of u.folders ?? ['INBOX']) await insertFolder(ctx, tx, id, name, true);
    return (await userById(tx, id))!;
  });
}

export function getUser(ctx: StoreContext, id: number): Promise<User | null> {
  return ctx.engine.read((tx) => userById(tx, id));
}

export function findUser(ctx: StoreContext, domainId: number, username: string): Promise<User | null> {
  return ctx.engine.read(async (tx) => {
    const r = await tx.get('SELECT * FROM users WHERE domain_id = ? AND username = ?', [domainId, username]);
    return r ? toUser(r, await realmsOf(tx, Number(r.id))) : null;
  });
}

export function listUsers(ctx: StoreContext, domainId?: number): Promise<User[]> {
  return ctx.engine.read(async (tx) => {
    const rows =
      domainId === undefined
        ? await tx.all('SELECT * FROM users ORDER BY domain_id, username')
        : await tx.all('SELECT * FROM users WHERE domain_id = ? ORDER BY username', [domainId]);
    return usersOf(tx, rows);
  });
}

/** Changes columns of one user inside a transaction and returns the user as it is now. */
async function updateUser(
  ctx: StoreContext,
  userId: number,
  change: (tx: Tx, user: User) => Promise<void>,
): Promise<User> {
  return ctx.engine.transaction(async (tx) => {
    await lockUsers(ctx, tx, [userId]);
    const user = (await userById(tx, userId)) ?? notFound('user', { userId });
    await change(tx, user);
    await tx.run('UPDATE users SET updated_at = ? WHERE id = ?', [ctx.clock(), userId]);
    return (await userById(tx, userId))!;
  });
}

export function updateCredentials(ctx: StoreContext, userId: number, c: CredentialUpdate): Promise<User> {
  v.credentials(c);
  v.realms(c.realms);
  if (c.encryptionPublicKey) v.length('encryption public key', c.encryptionPublicKey, 33);
  return updateUser(ctx, userId, async (tx, user) => {
    if (Buffer.compare(Buffer.from(user.verification), Buffer.from(c.expectedVerification)) !== 0) {
      throw new DimeError('CONFLICT', 'the credentials changed meanwhile', { userId });
    }
    await tx.run('UPDATE users SET salt = ?, bonus = ?, verification = ? WHERE id = ?', [
      c.salt,
      c.bonus,
      c.verification,
      userId,
    ]);
    if (c.encryptedKey !== undefined) {
      await tx.run('UPDATE users SET encrypted_key = ?, key_serial = key_serial + 1 WHERE id = ?', [
        c.encryptedKey,
        userId,
      ]);
    }
    if (c.signet !== undefined) {
      await tx.run('UPDATE users SET signet = ?, key_serial = key_serial + 1 WHERE id = ?', [
        c.signet,
        userId,
      ]);
    }
    if (c.encryptionPublicKey !== undefined) {
      await tx.run('UPDATE users SET encryption_public = ? WHERE id = ?', [c.encryptionPublicKey, userId]);
    }
    await writeRealms(tx, userId, c.realms);
  });
}

export function setUserKey(
  ctx: StoreContext,
  userId: number,
  encryptedKey: Uint8Array | null,
  encryptionPublicKey?: Uint8Array | null,
): Promise<User> {
  if (encryptionPublicKey) v.length('encryption public key', encryptionPublicKey, 33);
  return updateUser(ctx, userId, async (tx) => {
    await tx.run('UPDATE users SET encrypted_key = ?, key_serial = key_serial + 1 WHERE id = ?', [
      encryptedKey,
      userId,
    ]);
    if (encryptionPublicKey !== undefined) {
      await tx.run('UPDATE users SET encryption_public = ? WHERE id = ?', [encryptionPublicKey, userId]);
    }
  });
}

export function setUserSignet(
  ctx: StoreContext,
  userId: number,
  signet: Uint8Array | null,
  encryptionPublicKey?: Uint8Array | null,
): Promise<User> {
  if (encryptionPublicKey) v.length('encryption public key', encryptionPublicKey, 33);
  return updateUser(ctx, userId, async (tx) => {
    await tx.run('UPDATE users SET signet = ?, key_serial = key_serial + 1 WHERE id = ?', [signet, userId]);
    if (encryptionPublicKey !== undefined) {
      await tx.run('UPDATE users SET encryption_public = ? WHERE id = ?', [encryptionPublicKey, userId]);
    }
  });
}

export function setUserDisabled(ctx: StoreContext, userId: number, disabled: boolean): Promise<User> {
  return updateUser(ctx, userId, async (tx) => {
    await tx.run('UPDATE users SET disabled = ? WHERE id = ?', [disabled ? 1 : 0, userId]);
  });
}

export function setUserQuota(ctx: StoreContext, userId: number, quota: Quota): Promise<User> {
  const q = v.quota(quota);
  return updateUser(ctx, userId, async (tx) => {
    await tx.run('UPDATE users SET quota_bytes = ?, quota_messages = ? WHERE id = ?', [
      q.bytes,
      q.messages,
      userId,
    ]);
  });
}

export function deleteUser(ctx: StoreContext, userId: number): Promise<void> {
  return ctx.engine.transaction(async (tx) => {
    await lockUsers(ctx, tx, [userId]);
    const folders = await tx.all('SELECT id FROM folders WHERE user_id = ?', [userId]);
    await dropFolderMessages(
      tx,
      ctx.engine.dialect,
      folders.map((f) => Number(f.id)),
    );
    await tx.run('DELETE FROM users WHERE id = ?', [userId]);
  });
}

export function usage(ctx: StoreContext, userId: number): Promise<UsageInfo> {
  return ctx.engine.read(async (tx) => {
    const u = (await userById(tx, userId)) ?? notFound('user', { userId });
    return { bytes: u.usedBytes, messages: u.usedMessages, quota: u.quota };
  });
}
