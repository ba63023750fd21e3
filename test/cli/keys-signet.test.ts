import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dearmor } from '../../src/encoding/armor.js';
import { dime, libdimeCheck, tempDir } from '../helpers/cli.js';

let dir: string;
let org: string;
let alice: string;

beforeAll(() => {
  dir = tempDir();
  org = join(dir, 'org');
  alice = join(dir, 'alice');
  expect(dime(['keys', 'generate', 'org', '--domain', 'example.test', '--out', org, '--plain']).status).toBe(
    0,
  );
  expect(
    dime(['keys', 'generate', 'user', '--address', 'alice@example.test', '--out', alice, '--plain']).status,
  ).toBe(0);
});

describe('dime keys generate', () => {
  it('writes org.key (0600) and org.signet into a 0700 directory', () => {
    expect(statSync(org).mode & 0o777).toBe(0o700);
    expect(statSync(join(org, 'org.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(org, 'org.key'), 'utf8')).toMatch(/^-----BEGIN ORGANIZATIONAL KEY-----\n/);
    expect(readFileSync(join(org, 'org.signet'), 'utf8')).toMatch(/^-----BEGIN ORGANIZATIONAL SIGNET-----\n/);
    expect(readFileSync(join(alice, 'user.ssr'), 'utf8')).toMatch(
      /^-----BEGIN SIGNET SIGNING REQUEST-----\n/,
    );
  });

  it('the org signet is at the ID stage with field 254 = domain', () => {
    const r = dime(['signet', 'show', join(org, 'org.signet'), '--json']);
    expect(r.status).toBe(0);
    expect(r.json.stage).toBe('id');
    expect(r.json.id).toBe('example.test');
    expect(r.json.fields.map((f: { id: number }) => f.id)).toEqual([1, 3, 4, 253, 254, 255]);
    expect(r.json.form).toBe('libdime');
  });

  it('refuses to overwrite keys without --force', () => {
    const r = dime(['keys', 'generate', 'org', '--domain', 'example.test', '--out', org, '--plain']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: IO_ERROR: /);
  });
});

describe('round trip with the C reference (libdime-check)', () => {
  it('accepts our org signet with the same fingerprints and keys', () => {
    const signet = join(org, 'org.signet');
    const ours = dime(['signet', 'fingerprint', signet, '--json']).json;
    const keys = dime(['keys', 'show', join(org, 'org.key'), '--json']).json;
    const ref = libdimeCheck(['signet', signet, '--pok', keys.ed25519]);
    expect(ref.status).toBe(0);
    expect(ref.json.state).toBe('SS_ID');
    expect(ref.json.length).toBe(
      statSync(signet).size > 0 ? dearmor(readFileSync(signet, 'utf8')).binary.length : 0,
    );
    for (const k of ['crypto', 'full', 'id'] as const) expect(ref.json.fingerprints[k]).toBe(ours[k].b64);
    expect(ref.json.fingerprints.ssr).toBe(null);
    expect(ref.json.ed25519_public_hex).toBe(keys.ed25519);
    expect(ref.json.secp256k1_public_compressed_hex).toBe(keys.secp256k1_compressed);
    expect(ref.json.id).toBe('example.test');
  });

  it('accepts our plain key files with the same public keys', () => {
    for (const k of [join(org, 'org.key'), join(alice, 'user.key')]) {
      const ours = dime(['keys', 'show', k, '--json']).json;
      const ref = libdimeCheck(['key', k]);
      expect(ref.status).toBe(0);
      expect(ref.json.type).toBe(ours.type);
      expect(ref.json.ed25519_public_hex).toBe(ours.ed25519);
      expect(ref.json.secp256k1_public_compressed_hex).toBe(ours.secp256k1_compressed);
    }
  });

  it('accepts our SSR (binary) and user signets at every stage', () => {
    const ssrBin = join(dir, 'user.ssr.bin');
    writeFileSync(ssrBin, dearmor(readFileSync(join(alice, 'user.ssr'), 'utf8')).binary);
    const refSsr = libdimeCheck(['signet', ssrBin]);
    expect(refSsr.status).toBe(0);
    expect(refSsr.json.state).toBe('SS_SSR');
    expect(refSsr.json.fingerprints.ssr).toBe(dime(['signet', 'fingerprint', ssrBin, '--json']).json.ssr.b64);

    const states = { crypto: 'SS_CRYPTO', full: 'SS_FULL', id: 'SS_ID' } as const;
    for (const [stage, state] of Object.entries(states)) {
      const out = join(dir, `alice-${stage}.signet`);
      const r = dime([
        'signet',
        'sign',
        '--org-key',
        join(org, 'org.key'),
        '--request',
        join(alice, 'user.ssr'),
        '--address',
        'alice@example.test',
        '--stage',
        stage,
        '--out',
        out,
      ]);
      expect(r.status, r.stderr).toBe(0);
      const ours = dime(['signet', 'fingerprint', out, '--json']).json;
      const ref = libdimeCheck(['signet', out, '--org', join(org, 'org.signet')]);
      expect(ref.status, ref.stderr).toBe(0);
      expect(ref.json.state).toBe(state);
      for (const k of ['ssr', 'crypto', 'full', 'id'] as const)
        expect(ref.json.fingerprints[k]).toBe(ours[k].b64);
      // libdime re-serializes to exactly our bytes
      expect(ref.json.length).toBe(dearmor(readFileSync(out, 'utf8')).binary.length);
      const v = dime(['signet', 'verify', out, '--org', join(org, 'org.signet'), '--json']);
      expect(v.status).toBe(0);
      expect(v.json).toMatchObject({ valid: true, type: 'user', form: 'libdime', stage, complete: true });
    }
  });
});

describe('dime signet verify', () => {
  let user: string;
  beforeAll(() => {
    user = join(dir, 'alice.signet');
    dime([
      'signet',
      'sign',
      '--org-key',
      join(org, 'org.key'),
      '--request',
      join(alice, 'user.ssr'),
      '--address',
      'alice@example.test',
      '--out',
      user,
    ]);
  });

  it('org signet: own signatures always checked, --pok pins the POK', () => {
    const pok = dime(['keys', 'show', join(org, 'org.key'), '--json']).json.ed25519;
    const ok = dime(['signet', 'verify', join(org, 'org.signet'), '--pok', pok, '--json']);
    expect(ok.status).toBe(0);
    expect(ok.json).toEqual({
      valid: true,
      type: 'org',
      form: 'libdime',
      stage: 'id',
      signatures: { '4': 'valid', '253': 'valid', '255': 'valid' },
      complete: true,
    });
    const bad = dime(['signet', 'verify', join(org, 'org.signet'), '--pok', '00'.repeat(32), '--json']);
    expect(bad.status).toBe(1);
    expect(bad.json).toMatchObject({ valid: false, code: 'POK_MISMATCH' });
    expect(bad.stderr).toMatch(/^error: POK_MISMATCH: /);
  });

  it('user signet without --org: org signatures unchecked, incomplete, warning', () => {
    const r = dime(['signet', 'verify', user, '--json']);
    expect(r.status).toBe(0);
    expect(r.json.signatures).toEqual({
      '5': 'valid',
      '6': 'unchecked',
      '253': 'unchecked',
      '255': 'unchecked',
    });
    expect(r.json.complete).toBe(false);
    expect(r.stderr).toMatch(/warning/);
  });

  it('--previous on a signet without custody is BROKEN_CUSTODY', () => {
    const r = dime([
      'signet',
      'verify',
      user,
      '--org',
      join(org, 'org.signet'),
      '--previous',
      user,
      '--json',
    ]);
    expect(r.status).toBe(1);
    expect(r.json.code).toBe('BROKEN_CUSTODY');
  });

  it('--type names the expected object type (BAD_MAGIC otherwise)', () => {
    const r = dime(['signet', 'verify', user, '--type', 'org', '--json']);
    expect(r.status).toBe(1);
    expect(r.json.code).toBe('BAD_MAGIC');
    expect(dime(['signet', 'verify', join(alice, 'user.ssr'), '--type', 'ssr', '--json']).json.stage).toBe(
      'ssr',
    );
  });

  it('a user signet signed by another org does not verify', () => {
    const other = join(dir, 'other');
    dime(['keys', 'generate', 'org', '--domain', 'other.test', '--out', other, '--plain']);
    const r = dime(['signet', 'verify', user, '--org', join(other, 'org.signet'), '--json']);
    expect(r.status).toBe(1);
    expect(r.json.code).toBe('BAD_SIGNATURE');
  });

  it('reads stdin with -', () => {
    const r = dime(['signet', 'verify', '-', '--json'], { input: readFileSync(user) });
    expect(r.status).toBe(0);
  });

  it('garbage input is a clear error, exit 1', () => {
    const r = dime(['signet', 'verify', '-', '--json'], { input: 'hello world, not a signet\n' });
    expect(r.status).toBe(1);
    expect(r.json.valid).toBe(false);
  });
});

describe('protected key files', () => {
  it('passphrase from file, env, none → exit 2 PASSPHRASE_REQUIRED, wrong → exit 1 DECRYPT_FAILED', () => {
    const p = join(dir, 'prot');
    const pf = join(dir, 'pass.txt');
    writeFileSync(pf, 's3cret phrase\n');
    expect(
      dime(['keys', 'generate', 'org', '--domain', 'p.test', '--out', p, '--passphrase-file', pf]).status,
    ).toBe(0);
    expect(readFileSync(join(p, 'org.key'), 'utf8')).toMatch(/^-----BEGIN DIME PROTECTED KEY-----\n/);
    const fromFile = dime(['keys', 'show', join(p, 'org.key'), '--passphrase-file', pf, '--json']);
    expect(fromFile.status).toBe(0);
    const fromEnv = dime(['keys', 'show', join(p, 'org.key'), '--json'], {
      env: { DIME_PASSPHRASE: 's3cret phrase' },
    });
    expect(fromEnv.json).toEqual(fromFile.json);
    const none = dime(['keys', 'show', join(p, 'org.key'), '--json'], { env: { DIME_PASSPHRASE: '' } });
    expect(none.status).toBe(2);
    expect(none.json.code).toBe('PASSPHRASE_REQUIRED');
    const wrong = dime(['keys', 'show', join(p, 'org.key'), '--json'], { env: { DIME_PASSPHRASE: 'nope' } });
    expect(wrong.status).toBe(1);
    expect(wrong.json.code).toBe('DECRYPT_FAILED');
    // a protected org key signs like a plain one
    const out = join(dir, 'p-user.signet');
    const s = dime(
      [
        'signet',
        'sign',
        '--org-key',
        join(p, 'org.key'),
        '--request',
        join(alice, 'user.ssr'),
        '--address',
        'alice@p.test',
        '--out',
        out,
      ],
      { env: { DIME_PASSPHRASE: 's3cret phrase' } },
    );
    expect(s.status, s.stderr).toBe(0);
    expect(dime(['signet', 'verify', out, '--org', join(p, 'org.signet'), '--json']).json.complete).toBe(
      true,
    );
  });

  it('no passphrase source and no --plain → exit 2; --plain with --passphrase-file → exit 2', () => {
    const r = dime(['keys', 'generate', 'user', '--address', 'x@y.test', '--out', join(dir, 'np')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PASSPHRASE_REQUIRED/);
    const both = dime([
      'keys',
      'generate',
      'user',
      '--address',
      'x@y.test',
      '--out',
      join(dir, 'np2'),
      '--plain',
      '--passphrase-file',
      '/dev/null',
    ]);
    expect(both.status).toBe(2);
  });
});
