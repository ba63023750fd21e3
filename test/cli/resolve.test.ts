/**
 * `dime resolve` (the built CLI in dist) against real DNS (Knot + Unbound, signed zones) and our
 * TLS listeners (test/resolver/signets-world.ts). The CLI runs as a child process asynchronously,
 * because the listeners live in this process.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dearmor } from '../../src/encoding/armor.js';
import { REPO } from '../helpers/vectors.js';
import { fp } from '../protocol/helpers.js';
import { startWorld, type World } from '../resolver/signets-world.js';

interface Run {
  status: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output
  json: any;
}

const BIN = resolve(REPO, 'bin/dime.js');

function dime(args: string[]): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        json = undefined;
      }
      done({ status: code ?? -1, stdout, stderr, json });
    });
  });
}

let w: World;

beforeAll(async () => {
  w = await startWorld();
});

afterAll(async () => {
  await w?.stop();
});

const net = () => [
  '--resolver',
  w.dns.resolverAddress,
  '--port-map',
  `26=${w.ports.dmtp}`,
  '--timeout',
  '5000',
];

describe('dime resolve', () => {
  it('a domain: record, DX, org signet, DNSSEC status as JSON', async () => {
    const r = await dime(['resolve', 'beta.test', '--json', ...net()]);
    expect(r.status, r.stderr).toBe(0);
    const j = r.json;
    expect(j.domain).toBe('beta.test');
    expect(j.dnssec).toBe('secure');
    expect(j.record.pok).toEqual([Buffer.from(w.orgs['beta.test'].keys.signingPublic).toString('hex')]);
    expect(j.record.policy).toBe('mixed');
    expect(j.dx).toEqual([{ host: 'dx.beta.test', port: 26, mode: 'dmtp', source: 'dx' }]);
    expect(j.org_signet.fingerprints.crypto).toBe(fp(w.orgs['beta.test'].chain[0]!));
    expect(j.org_signet.stage).toBe('full');
    expect(j.org_signet.server.tls.check).toBe('pin');
    expect(j.org_signet.server.connected_port).toBe(w.ports.dmtp);
    expect(dearmor(j.org_signet.armored).label).toContain('ORGANIZATIONAL SIGNET');
    expect(j.user_signet).toBeUndefined();
  });

  it('an address: also the user signet with its chain of custody', async () => {
    const r = await dime(['resolve', 'dave@beta.test', '--json', ...net()]);
    expect(r.status, r.stderr).toBe(0);
    const u = r.json.user_signet;
    expect(u.address).toBe('dave@beta.test');
    expect(u.status).toBe('current');
    expect(u.fingerprints.crypto).toBe(fp(w.users.dave.chain[2]!));
    expect(u.chain.map((l: { custody: string }) => l.custody)).toEqual(['none', 'valid', 'valid']);
    expect(u.current).toBeNull();
    expect(r.json.org_signet.fingerprints.crypto).toBe(fp(w.orgs['beta.test'].chain[0]!));
  });

  it('text output, and a superseded signet by fingerprint', async () => {
    const old = fp(w.users.carol.chain[0]!);
    const r = await dime(['resolve', 'carol@beta.test', '--fingerprint', old, ...net()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('dnssec:       secure');
    expect(r.stdout).toContain('carol@beta.test, superseded');
    expect(r.stdout).toContain(fp(w.users.carol.chain[1]!));
    expect(r.stdout).toContain('certificate:  pin (pinned by the record)');
  });

  it('no pin: x509 checks and the OCSP state, in JSON and text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dime-resolve-ca-'));
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, w.ca.certPem);
      const args = [
        '--resolver',
        w.dns.resolverAddress,
        '--port-map',
        `26=${w.ports.caDmtp}`,
        '--ca',
        caFile,
      ];
      const r = await dime(['resolve', 'ca.test', '--json', ...args]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json.org_signet.server.tls).toMatchObject({
        check: 'x509',
        hostname: 'ok',
        chain: 'ok',
        ocsp: 'no-url',
        ocsp_detail: { source: null, url: null, response_status: null, notes: [] },
      });
      const t = await dime(['resolve', 'ca.test', ...args]);
      expect(t.status, t.stderr).toBe(0);
      expect(t.stdout).toContain(
        'certificate:  x509; host name ok, chain ok, OCSP no-url (no OCSP URL in the certificate)',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('errors: exit 1 with the code (DNS_BOGUS, RECORD_MISSING, POK_MISMATCH, TLS_UNTRUSTED, BAD_SIGNATURE, SIGNET_NOT_FOUND)', async () => {
    const cases: [string, string][] = [
      ['bogus.test', 'DNS_BOGUS'],
      ['missing.test', 'RECORD_MISSING'],
      ['wrongpok.test', 'POK_MISMATCH'],
      ['nopin.test', 'TLS_UNTRUSTED'],
      ['mallory@beta.test', 'BAD_SIGNATURE'],
      ['nobody@beta.test', 'SIGNET_NOT_FOUND'],
    ];
    const runs = await Promise.all(cases.map(([t]) => dime(['resolve', t, '--json', ...net()])));
    runs.forEach((r, i) => {
      const [target, code] = cases[i]!;
      expect(r.status, `${target}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(`error: ${code}: `);
      expect(r.json).toMatchObject({ valid: false, code });
    });
  });

  it('usage errors: exit 2', async () => {
    const cases = [
      ['resolve'],
      ['resolve', 'beta.test', '--port-map', '26'],
      ['resolve', 'beta.test', '--resolver', 'not-an-ip'],
      ['resolve', 'beta.test', '--fingerprint', fp(w.users.bob.chain[0]!)],
    ];
    const runs = await Promise.all(cases.map((args) => dime(args)));
    runs.forEach((r, i) => {
      expect(r.status, `${cases[i]!.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('error: USAGE: ');
    });
  });
});
