const cache = new Map<string, string>();

/** `?` → `$1, $2, …` (the shared SQL never has a `?` inside a literal). */
export function numbered(sql: string): string {
  let out = cache.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    if (cache.size < 1000) cache.set(sql, out);
  }
  return out;
}
