import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { measureRss, type RssRun, writeParties } from '../../bench/messages-rss.js';
import { tempDir } from '../helpers/cli.js';

/**
 * Memory does not grow with the message (issue 5): the CLI seals, origin-signs and opens (--json
 * and --mime) a message with a 100 MiB attachment growing its RSS (the peak of each command over
 * the RSS it starts with) by less than 128 MiB, and a 200 MiB one by less than 1.1 × 128 MiB and
 * by at most 10 % of that budget (12.8 MiB) more than the 100 MiB one, plus V8's young generation:
 * its semi-spaces grow with the allocation rate, up to 16 MiB each, whatever the message size, so
 * a longer run may end with up to 16 MiB more of them (bounded, not the message). The steps after
 * the seal run twice and count their least growth (garbage collection timing only adds). Runs the
 * built CLI with default V8 flags (npm test builds first); slow (a few minutes).
 */
const BUDGET = 128;
/** V8's default maximum semi-space (MiB): how much the young generation can still grow. */
const YOUNG_GENERATION = 16;
const dir = tempDir('dime-rss-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RSS of seal, sign-origin and open on 100 MiB and 200 MiB attachments', () => {
  it('stays bounded and does not grow with the message', async () => {
    const parties = writeParties(dir);
    const runs: Record<number, RssRun> = {};
    for (const mib of [100, 200]) {
      const r = await measureRss(dir, parties, mib, 2);
      process.stderr.write(
        `rss ${mib} MiB: ${JSON.stringify({ growth: r.growth, tiny: r.tinyGrowth, peak: r.peak, seconds: r.seconds })}\n`,
      );
      // the content came through whole
      expect(r.attachment).toMatchObject({ size: mib * 1024 * 1024, sha256: r.expectedSha256 });
      expect(r.attachment!.chunks).toBeGreaterThan(mib / 16);
      expect(r.sealWarning).toMatch(
        /^warning: attachment part 1 \(\d+ bytes\) spans \d+ chunks \(flag 128\)/,
      );
      runs[mib] = r;
      rmSync(`${dir}/large-${mib}.eml`, { force: true });
    }
    for (const step of ['seal', 'sign', 'open', 'mime'] as const) {
      const g100 = runs[100]!.growth[step];
      const g200 = runs[200]!.growth[step];
      expect(g100, `${step} 100 MiB`).toBeLessThan(BUDGET);
      expect(g200, `${step} 200 MiB`).toBeLessThan(BUDGET * 1.1);
      expect(g200 - g100, `${step}: 200 MiB over 100 MiB`).toBeLessThanOrEqual(
        BUDGET * 0.1 + YOUNG_GENERATION,
      );
    }
  }, 1_200_000);
});
