/**
 * `npm run demo:two-domains` as a user runs it (after the build): two `dime server start`
 * processes, real Knot + Unbound, a message from alpha.test to beta.test over DMTP, opened by the
 * recipient; exit 0 and a last stdout line with `delivered: true`, the DNSSEC status and timings.
 */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/vectors.js';

describe('npm run demo:two-domains', () => {
  it('delivers and opens; the last line is the JSON summary', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/demo-two-domains.ts')], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const last = JSON.parse(lines.at(-1)!);
    expect(last).toMatchObject({
      delivered: true,
      opened: true,
      from: 'alice@alpha.test',
      to: 'bob@beta.test',
      dnssec: { 'alpha.test': 'secure', 'beta.test': 'secure' },
      dx_certificate_check: 'pin',
      stored: { kind: 'dime', origin: 'alpha.test', verification: 'pass' },
      signatures: { tree: 'valid', author_full: 'valid', origin_full: 'valid' },
    });
    for (const k of ['setup', 'users', 'submit', 'delivery', 'open', 'total']) {
      expect(typeof last.timings_ms[k]).toBe('number');
    }
  }, 120_000);
});
