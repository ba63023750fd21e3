import { DimeError } from '../../errors/index.js';
import type { Alias, User } from '../types.js';
import { domainName, localPart } from '../validate.js';
import { rethrowConstraint } from './constraint.js';
import type { StoreContext } from './context.js';
import { toAlias } from './rows.js';
import { userById } from './users.js';

export function addAlias(ctx: StoreContext, domainId: number, local: string, userId: number): Promise<Alias> {
  const lp = localPart(local);
  const now = ctx.clock();
  return ctx.engine.transaction(async (tx) => {
    const taken = await tx.get('SELECT 1 AS x FROM users WHERE domain_id = ? AND username = ?', [
      domainId,
      lp,
    ]);
    if (taken) throw new DimeError('CONFLICT', `${lp} is already a username of the domain`);
    try {
      const r = await tx.get(
        'INSERT INTO aliases (domain_id, local_part, user_id, created_at) VALUES (?, ?, ?, ?) RETURNING *',
        [domainId, lp, userId, now],
      );
      return toAlias(r!);
    } catch (e) {
      rethrowConstraint(ctx.engine.dialect, e, `alias ${lp} already exists (or the domain or user does not)`);
    }
  });
}

export function removeAlias(ctx: StoreContext, domainId: number, local: string): Promise<boolean> {
  return ctx.engine.transaction(
    async (tx) =>
      (await tx.run('DELETE FROM aliases WHERE domain_id = ? AND local_part = ?', [domainId, local])) > 0,
  );
}

export function listAliases(ctx: StoreContext, userId: number): Promise<Alias[]> {
  return ctx.engine.read(async (tx) =>
    (await tx.all('SELECT * FROM aliases WHERE user_id = ? ORDER BY domain_id, local_part', [userId])).map(
      toAlias,
    ),
  );
}

export function resolveAddress(ctx: StoreContext, domain: string, local: string): Promise<User | null> {
  const d = domainName(domain);
  return ctx.engine.read(async (tx) => {
    const dom = await tx.get('SELECT id FROM domains WHERE name = ?', [d]);
    if (!dom) return null;
    const u = await tx.get('SELECT id FROM users WHERE domain_id = ? AND username = ?', [
      Number(dom.id),
      local,
    ]);
    if (u) return userById(tx, Number(u.id));
    const a = await tx.get('SELECT user_id FROM aliases WHERE domain_id = ? AND local_part = ?', [
      Number(dom.id),
      local,
    ]);
    return a ? userById(tx, Number(a.user_id)) : null;
  });
}
