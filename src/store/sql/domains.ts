import type { Domain, NewDomain } from '../types.js';
import { domainName } from '../validate.js';
import { notFound, rethrowConstraint } from './constraint.js';
import type { StoreContext } from './context.js';
import type { Tx } from './engine.js';
import { toDomain } from './rows.js';

async function byId(tx: Tx, id: number): Promise<Domain | null> {
  const r = await tx.get('SELECT * FROM domains WHERE id = ?', [id]);
  return r ? toDomain(r) : null;
}

export async function addDomain(ctx: StoreContext, d: NewDomain): Promise<Domain> {
  const name = domainName(d.name);
  const now = ctx.clock();
  return ctx.engine.transaction(async (tx) => {
    try {
      const r = await tx.get(
        'INSERT INTO domains (name, org_key_ref, org_signet, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
        [name, d.orgKeyRef ?? null, d.orgSignet ?? null, now, now],
      );
      return toDomain(r!);
    } catch (e) {
      rethrowConstraint(ctx.engine.dialect, e, `domain ${name} already exists`);
    }
  });
}

export function getDomain(ctx: StoreContext, name: string): Promise<Domain | null> {
  const n = domainName(name);
  return ctx.engine.read(async (tx) => {
    const r = await tx.get('SELECT * FROM domains WHERE name = ?', [n]);
    return r ? toDomain(r) : null;
  });
}

export function getDomainById(ctx: StoreContext, id: number): Promise<Domain | null> {
  return ctx.engine.read((tx) => byId(tx, id));
}

export function listDomains(ctx: StoreContext): Promise<Domain[]> {
  return ctx.engine.read(async (tx) => (await tx.all('SELECT * FROM domains ORDER BY name')).map(toDomain));
}

export function updateDomain(
  ctx: StoreContext,
  id: number,
  change: { orgKeyRef?: string | null; orgSignet?: Uint8Array | null },
): Promise<Domain> {
  const now = ctx.clock();
  return ctx.engine.transaction(async (tx) => {
    const cur = (await byId(tx, id)) ?? notFound('domain', { id });
    await tx.run('UPDATE domains SET org_key_ref = ?, org_signet = ?, updated_at = ? WHERE id = ?', [
      change.orgKeyRef === undefined ? cur.orgKeyRef : change.orgKeyRef,
      change.orgSignet === undefined ? cur.orgSignet : change.orgSignet,
      now,
      id,
    ]);
    return (await byId(tx, id))!;
  });
}

export function removeDomain(ctx: StoreContext, id: number): Promise<void> {
  return ctx.engine.transaction(async (tx) => {
    try {
      const n = await tx.run('DELETE FROM domains WHERE id = ?', [id]);
      if (n === 0) notFound('domain', { id });
    } catch (e) {
      rethrowConstraint(ctx.engine.dialect, e, 'domain still has users or aliases');
    }
  });
}
