import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dime, tempDir } from '../helpers/cli.js';
import { loadCases } from '../helpers/vectors.js';

describe('dime record parse', () => {
  for (const c of loadCases('objects/silver-record.json')) {
    it(c.id, () => {
      const r = dime(['record', 'parse', ...c.input.txt_strings, '--json']);
      if (c.expect.valid) {
        expect(r.status).toBe(0);
        expect(r.json).toEqual(c.expect.record);
      } else {
        expect(r.status).toBe(1);
        expect(r.json).toMatchObject({ valid: false, code: 'BAD_RECORD', reason: c.expect.reason });
        expect(r.stderr).toMatch(/^error: BAD_RECORD: /);
      }
    });
  }
});

describe('dime record make', () => {
  let dir: string;
  let cert: string;
  beforeAll(() => {
    dir = tempDir();
    expect(
      dime(['keys', 'generate', 'org', '--domain', 'example.test', '--out', dir, '--plain']).status,
    ).toBe(0);
    cert = join(dir, 'tls.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=dx.example.test',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
  });

  it('publishes the POK, the TLS binding, DX hosts and policy, and parses back', () => {
    const made = dime([
      'record',
      'make',
      '--org-signet',
      join(dir, 'org.signet'),
      '--org-key',
      join(dir, 'org.key'),
      '--tls-cert',
      cert,
      '--deliver',
      'dx1.example.test',
      '--deliver',
      'dx2.example.test',
      '--policy',
      'strict',
      '--expiry',
      '30',
      '--subdomain',
      'relaxed',
      '--syndicates',
      'syn.example.test',
    ]);
    expect(made.status, made.stderr).toBe(0);
    const text = made.stdout.trim();
    expect(text).toMatch(
      /^ver=1 pok=[A-Za-z0-9+/]{43} tls=[A-Za-z0-9+/]{86} pol=strict syn=syn\.example\.test dx=dx1\.example\.test dx=dx2\.example\.test exp=30 sub=relaxed$/,
    );
    const pok = dime(['keys', 'show', join(dir, 'org.key'), '--json']).json.ed25519;
    const parsed = dime(['record', 'parse', text, '--json']).json;
    expect(parsed).toMatchObject({
      version: 1,
      pok: [pok],
      policy: 'strict',
      dx: ['dx1.example.test', 'dx2.example.test'],
      exp: 30,
      subdomain: 'relaxed',
      syndicates: 'syn.example.test',
    });
    // the tls value is the POK's signature over SHA-512 of the certificate's DER
    const der = execFileSync('openssl', ['x509', '-in', cert, '-outform', 'DER']);
    const digest = execFileSync('openssl', ['dgst', '-sha512', '-binary'], { input: der });
    expect(parsed.tls).toHaveLength(1);
    expect(digest.length).toBe(64);
  });

  it('--zone splits into quoted strings of at most 255 bytes that join back to the record', () => {
    const hosts = Array.from({ length: 8 }, (_, i) => [
      '--deliver',
      `delivery-host-number-${i}.a-rather-long-subdomain.example.test`,
    ]).flat();
    const plain = dime(['record', 'make', '--org-signet', join(dir, 'org.signet'), ...hosts]).stdout.trim();
    const zone = dime([
      'record',
      'make',
      '--org-signet',
      join(dir, 'org.signet'),
      ...hosts,
      '--zone',
    ]).stdout.trim();
    expect(plain.length).toBeGreaterThan(255);
    const strings = [...zone.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    expect(strings.length).toBeGreaterThan(1);
    for (const s of strings) expect(Buffer.byteLength(s)).toBeLessThanOrEqual(255);
    expect(strings.join('')).toBe(plain);
    expect(dime(['record', 'parse', ...strings, '--json']).status).toBe(0);
  });

  it('--tls-cert without --org-key is a usage error; a bad expiry is BAD_RECORD', () => {
    expect(dime(['record', 'make', '--org-signet', join(dir, 'org.signet'), '--tls-cert', cert]).status).toBe(
      2,
    );
    const r = dime(['record', 'make', '--org-signet', join(dir, 'org.signet'), '--expiry', '0', '--json']);
    expect(r.status).toBe(1);
    expect(r.json).toMatchObject({ code: 'BAD_RECORD', reason: 'exp' });
  });
});
