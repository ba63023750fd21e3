/**
 * The reference DMTP client (../shared/tools/libdime-dmtp, libdime's own resolver code) against
 * our listeners: SGNT of an org and a user signet on the dedicated port and in dual mode, and
 * `send` of a libdime-made message (vectors/reference/libdime-message.json, `-final` cases).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dearmor } from '../../src/encoding/armor.js';
import { buildRecordText, tlsCertificateSignature } from '../../src/record/index.js';
import { splitSignet } from '../../src/signet/index.js';
import { type LibdimeRun, libdime } from '../helpers/libdime-dmtp.js';
import { hex, loadCases } from '../helpers/vectors.js';
import { fp, makeOrg, makeUser, type OrgFixture, TestHooks, type UserFixture } from './helpers.js';
import { DX, startServers, type TestServers } from './servers.js';

let beta: OrgFixture;
let alpha: OrgFixture;
let bob: UserFixture;
let carol: UserFixture;
let hooks: TestHooks;
let srv: TestServers;
let dir: string;
const finals = loadCases('reference/libdime-message.json').filter((c) => String(c.id).endsWith('-final'));

beforeAll(async () => {
  beta = makeOrg('beta.test');
  alpha = makeOrg('alpha.test');
  bob = makeUser(beta, 'bob');
  carol = makeUser(beta, 'carol', 2);
  hooks = new TestHooks().addOrg(beta).addOrg(alpha).addUser(bob).addUser(carol);
  srv = await startServers(hooks);
  dir = mkdtempSync(join(tmpdir(), 'dime-dmtp-'));
});

afterAll(async () => {
  await srv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pok = () => Buffer.from(beta.keys.signingPublic).toString('hex');
const common = (port: number) => ['--host', '127.0.0.1', '--port', String(port), '--dx', DX, '--insecure'];

function signetOut(r: LibdimeRun): Uint8Array {
  return dearmor(r.stdout).binary;
}

describe('libdime-dmtp sgnt', () => {
  it('org signet on the dedicated port, exactly as libdime _get_signet() (no EHLO, SS_FULL rule)', async () => {
    const r = await libdime([
      'transcript',
      'sgnt',
      ...common(srv.ports.dmtp),
      '--pok',
      pok(),
      '--strict',
      '--no-ehlo',
      'beta.test',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`S: 220 ${DX} DMTPv1`);
    expect(r.stderr).toContain('C: SGNT <beta.test>');
    expect(r.stderr).toContain('signet-state: id-stripped signet (signet_state_t 8)');
    expect(r.stderr).toContain('signet-get_signet-rule: accept');
    expect(r.stderr).toContain(`signet-fingerprint-crypto: ${fp(beta.chain[0]!)}`);
    expect(signetOut(r)).toEqual(splitSignet(beta.chain[0]!, 'full').bytes);
  });

  it('user signet in dual mode (STARTTLS <dx> MODE=DMTPv1 right after the banner, org then user)', async () => {
    const r = await libdime([
      'transcript',
      'sgnt',
      ...common(srv.ports.dual),
      '--dual',
      '--pok',
      pok(),
      '--strict',
      '--no-ehlo',
      'bob@beta.test',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`S: 220 ${DX} ESMTP DMTPv1`);
    expect(r.stderr).toContain(`C: STARTTLS <${DX}> MODE=DMTPv1`);
    expect(r.stderr).toContain('S: 250 OK DMTPv1');
    expect(r.stderr).toContain('TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384');
    expect(r.stderr).toContain('C: SGNT <beta.test>');
    expect(r.stderr).toContain('C: SGNT <bob@beta.test>');
    expect(r.stderr).toContain('org-signet-get_signet-rule: accept');
    expect(r.stderr).toMatch(/\nsignet-get_signet-rule: accept/);
    expect(signetOut(r)).toEqual(splitSignet(bob.chain[0]!, 'full').bytes);
  });

  it('user signet by fingerprint on the dedicated port, with EHLO; both org signets in dual mode with EHLO', async () => {
    const first = carol.chain[0]!;
    const r = await libdime([
      'sgnt',
      ...common(srv.ports.dmtp),
      '--pok',
      pok(),
      '--strict',
      'carol@beta.test',
      fp(first),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(signetOut(r)).toEqual(splitSignet(first, 'full').bytes);
    const r2 = await libdime([
      'transcript',
      'sgnt',
      ...common(srv.ports.dual),
      '--dual',
      '--pok',
      pok(),
      'beta.test',
    ]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain('C: EHLO <localhost>');
  });

  it("quirk: libdime's validation rejects the current signet of a rotated user (custody field 4 → state 4)", async () => {
    const r = await libdime([
      'sgnt',
      ...common(srv.ports.dmtp),
      '--pok',
      pok(),
      '--strict',
      'carol@beta.test',
    ]);
    expect(r.stderr).toContain('signet-state: broken chain of custody (signet_state_t 4)');
    expect(r.code).toBe(1);
    expect(signetOut(r)).toEqual(splitSignet(carol.chain[1]!, 'full').bytes);
  });

  it("our self-signed RSA certificate passes libdime's own check when pinned in a DNSSEC-validated record", async () => {
    const record = buildRecordText({
      pok: [beta.keys.signingPublic],
      tls: [tlsCertificateSignature(srv.cert.certDer, beta.keys.signingSeed)],
      dx: [DX],
    });
    const args = ['--host', '127.0.0.1', '--dx', DX, '--record', record, '--record-dnssec', '--strict'];
    const r = await libdime(['sgnt', ...args, '--port', String(srv.ports.dmtp), 'bob@beta.test']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('certificate: accepted by libdime _verify_dx_certificate');
    const r2 = await libdime(['sgnt', ...args, '--port', String(srv.ports.dual), '--dual', 'beta.test']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain('certificate: accepted');
  });

  it('unknown user → 550 → exit 1', async () => {
    const r = await libdime([
      'transcript',
      'sgnt',
      ...common(srv.ports.dmtp),
      '--pok',
      pok(),
      'zed@beta.test',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('S: 550 no signet for zed@beta.test');
  });
});

describe('libdime-dmtp send', () => {
  for (const c of finals) {
    it(`${c.id}: libdime's bytes unchanged (placeholders) on the dedicated port`, async () => {
      const msg = hex(c.input.hex as string);
      const file = join(dir, `${c.id}.dime`);
      writeFileSync(file, msg);
      const before = hooks.messages.length;
      const r = await libdime([
        'send',
        ...common(srv.ports.dmtp),
        '--from-domain',
        'alpha.test',
        '--to-domain',
        'beta.test',
        file,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('S: 250 OK');
      expect(r.stderr).toContain('S: 354 CONTINUE [fingerprint]');
      expect(r.stdout.trim()).toBe(`tx-${before + 1}`);
      const rec = hooks.messages[before]!;
      expect(rec.bytes).toEqual(msg);
      expect(rec.bytes.length).toBe(c.input.length);
      expect(rec.envelope).toMatchObject({
        protocol: 'dmtp',
        transfer: 'dmtp',
        from: { domain: 'alpha.test', size: msg.length, fingerprint: { kind: 'placeholder' } },
        to: [{ domain: 'beta.test', fingerprint: { kind: 'placeholder' } }],
        dataHash: { kind: 'placeholder' },
      });
    });
  }

  it('dual mode with real fingerprints, the SHA-512 hash and QUIT', async () => {
    const c = finals[0]!;
    const msg = hex(c.input.hex as string);
    const file = join(dir, 'dual.dime');
    writeFileSync(file, msg);
    const before = hooks.messages.length;
    const r = await libdime([
      'transcript',
      'send',
      ...common(srv.ports.dual),
      '--dual',
      '--from-domain',
      'alpha.test',
      '--to-domain',
      'beta.test',
      '--origin-fp',
      fp(alpha.chain[0]!),
      '--dest-fp',
      fp(beta.chain[0]!),
      '--data-hash',
      '--quit',
      file,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('S: 250 OK DMTPv1');
    expect(r.stderr).toContain('S: 221 BYE');
    expect(hooks.messages[before]!.bytes).toEqual(msg);
    expect(hooks.messages[before]!.envelope.dataHash).toMatchObject({ kind: 'fingerprint' });
  });

  it('a destination fingerprint that is not our current org signet → RCPT 550 → exit 1', async () => {
    const file = join(dir, 'wrong.dime');
    writeFileSync(file, hex(finals[0]!.input.hex as string));
    const r = await libdime([
      'send',
      ...common(srv.ports.dmtp),
      '--from-domain',
      'alpha.test',
      '--to-domain',
      'beta.test',
      '--dest-fp',
      fp(alpha.chain[0]!),
      file,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/S: 550 /);
  });
});
