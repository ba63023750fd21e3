/** Number of fast-check runs for the big fuzz properties (CI runs the full 100 000). */
export function fuzzRuns(defaultRuns = 100_000): number {
  const v = Number(process.env.DIME_FUZZ_RUNS);
  return Number.isFinite(v) && v > 0 ? v : defaultRuns;
}
