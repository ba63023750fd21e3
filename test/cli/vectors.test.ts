import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dime, tempDir } from '../helpers/cli.js';
import { hex, loadCases, type VectorCase } from '../helpers/vectors.js';

/** Every signet, key and encrypted-key vector driven through the CLI, as other tools would. */
const TYPE_NAME: Record<number, string> = { 1776: 'org', 1789: 'user', 1215: 'ssr' };
const all: VectorCase[] = [
  'objects/gold.json',
  'objects/silver-org_signet.json',
  'objects/silver-user_signet.json',
  'objects/silver-ssr.json',
  'objects/silver-org_key.json',
  'objects/silver-user_key.json',
  'objects/silver-encrypted_key.json',
].flatMap((f) => loadCases(f));
const byId = new Map(all.map((c) => [c.id as string, c]));
let dir: string;
const file = (c: VectorCase) => join(dir, `${c.id}.bin`);

beforeAll(() => {
  dir = tempDir();
  for (const c of all) if (c.input.hex) writeFileSync(file(c), hex(c.input.hex));
});

describe('dime signet verify over the vectors', () => {
  for (const c of all.filter((x) => ['org_signet', 'user_signet', 'ssr'].includes(x.kind))) {
    it(c.id, () => {
      const args = ['signet', 'verify', file(c), '--json'];
      if (c.org_signet_case) args.push('--org', file(byId.get(c.org_signet_case)!));
      if (c.previous_signet_case) args.push('--previous', file(byId.get(c.previous_signet_case)!));
      if (c.input.expected_type) args.push('--type', TYPE_NAME[c.input.expected_type]!);
      const r = dime(args);
      if (c.expect.valid) {
        expect(r.status, r.stderr).toBe(0);
        expect(r.json.valid).toBe(true);
        expect(r.json.type).toBe(c.kind === 'org_signet' ? 'org' : c.kind === 'ssr' ? 'ssr' : 'user');
        const f = dime(['signet', 'fingerprint', file(c), '--json']).json;
        for (const k of ['ssr', 'crypto', 'full', 'id']) expect(f[k]).toEqual(c.expect.fingerprints[k]);
      } else {
        expect(r.status).toBe(1);
        expect(r.json).toMatchObject({ valid: false, code: c.expect.error });
        expect(r.stderr).toContain(`error: ${c.expect.error}: `);
      }
    });
  }
});

describe('dime keys show over the vectors', () => {
  for (const c of all.filter((x) => x.kind.endsWith('_key'))) {
    it(c.id, () => {
      const args = ['keys', 'show', file(c), '--json'];
      if (c.input.realm_key_hex) args.push('--realm-key', c.input.realm_key_hex);
      const r = dime(args);
      if (!c.expect.valid) {
        expect(r.status).toBe(1);
        expect(r.json).toMatchObject({ valid: false, code: c.expect.error });
        return;
      }
      expect(r.status, r.stderr).toBe(0);
      const dp = c.expect.derived_public ?? byId.get('seedA-user-key')?.expect.derived_public;
      expect(r.json.type).toBe(c.kind.includes('org') ? 'org' : 'user');
      if (c.expect.derived_public) {
        expect(r.json.ed25519).toBe(dp.ed25519);
        expect(r.json.secp256k1_compressed).toBe(dp.secp256k1_compressed);
      }
      expect(JSON.stringify(r.json)).not.toMatch(/private|seed|scalar/);
    });
  }

  it('an encrypted key with the wrong realm key is DECRYPT_FAILED', () => {
    const c = byId.get('seedA-encrypted-user-key')!;
    const r = dime(['keys', 'show', file(c), '--realm-key', 'ab'.repeat(64), '--json']);
    expect(r.status).toBe(1);
    expect(r.json.code).toBe('DECRYPT_FAILED');
  });
});
