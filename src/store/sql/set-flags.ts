import { applyFlags, decodeFlags, type StoredFlags } from '../flags.js';
import type { FlagChange, FlagMode, FlagResult } from '../types.js';
import { uids as checkUids, count } from '../validate.js';
import type { StoreContext } from './context.js';
import { lockFolders } from './locks.js';

/**
 * STORE with CONDSTORE (RFC 7162): one new modseq for every message the command changes;
 * messages whose modseq is above `unchangedSince` are left alone and reported as modified.
 */
export function setFlags(
  ctx: StoreContext,
  folderId: number,
  uidList: readonly number[],
  mode: FlagMode,
  flags: readonly string[],
  options: { unchangedSince?: number } = {},
): Promise<FlagResult> {
  const uids = checkUids(uidList);
  applyFlags({ bits: 0, keywords: '' }, mode, flags); // validates the flags before any work
  const since =
    options.unchangedSince === undefined ? undefined : count('unchangedSince', options.unchangedSince);
  const d = ctx.engine.dialect;
  return ctx.engine.transaction(async (tx) => {
    const folder = (await lockFolders(ctx, tx, [folderId])).get(folderId)!;
    if (uids.length === 0) return { changed: [], modified: [] };
    const rows = await tx.all(
      `SELECT uid, modseq, system_flags, keywords FROM messages WHERE folder_id = ? AND uid IN (${d.intValues}) ORDER BY uid`,
      [folderId, d.intArray(uids)],
    );
    const modified: number[] = [];
    const groups = new Map<string, { next: StoredFlags; uids: number[] }>();
    for (const r of rows) {
      const uid = Number(r.uid);
      if (since !== undefined && Number(r.modseq) > since) {
        modified.push(uid);
        continue;
      }
      const cur: StoredFlags = { bits: Number(r.system_flags), keywords: String(r.keywords) };
      const next = applyFlags(cur, mode, flags);
      if (next.bits === cur.bits && next.keywords === cur.keywords) continue;
      const key = `${next.bits} ${next.keywords}`;
      const g = groups.get(key) ?? { next, uids: [] };
      g.uids.push(uid);
      groups.set(key, g);
    }
    const changed: FlagChange[] = [];
    if (groups.size > 0) {
      const modseq = Number(folder.highest_modseq) + 1;
      await tx.run('UPDATE folders SET highest_modseq = ? WHERE id = ?', [modseq, folderId]);
      for (const g of groups.values()) {
        await tx.run(
          `UPDATE messages SET system_flags = ?, keywords = ?, modseq = ? WHERE folder_id = ? AND uid IN (${d.intValues})`,
          [g.next.bits, g.next.keywords, modseq, folderId, d.intArray(g.uids)],
        );
        const list = decodeFlags(g.next.bits, g.next.keywords);
        for (const uid of g.uids) changed.push({ uid, modseq, flags: list });
      }
      changed.sort((a, b) => a.uid - b.uid);
    }
    return { changed, modified };
  });
}
