/**
 * libdime's own DMTP client (../shared/tools/libdime-dmtp `send`) delivers libdime-made messages
 * (vectors/reference/libdime-message.json, `-final`) to our real server, and the recipient opens
 * them after a login.
 *
 * Setup: two real servers (test/helpers/two-domains.ts) for the domains the vectors name —
 * alpha.test (origin: libdime's orgA key and signet, author user@alpha.test with userA) and beta.test
 * (destination: orgB, recipient user@beta.test with userB) — each imported with `dime admin domain add
 * --org-key --org-signet` and `dime admin user add --key --signet` before its first start, so the
 * servers hold exactly the keys the messages were sealed for. Names come from a real DNSSEC world
 * (Knot + Unbound, dns-harness.ts) publishing what `dime admin dns` prints, so beta verifies the
 * origin the real way: `_dx.alpha.test` (DNSSEC), SGNT at dx.alpha.test, POK check.
 *
 * The tool connects to beta's DMTP port (TLS from the first byte) or in dual mode to its SMTP port,
 * and checks beta's certificate itself against the `tls=` pin of beta's published record (libdime
 * `_verify_dx_certificate`, record DNSSEC-validated), so no `--insecure`.
 *
 * dmtp.md §8 / §9 (spec README "DMTP placeholder fingerprints", decided): libdime's literal
 * `[fingerprint]` in MAIL, RCPT and DATA (libdime-dmtp.md D6–D8) is accepted without the
 * fingerprint check, the 354 echoes it, and the origin signatures are still verified at DATA. Real
 * fingerprints (the tool's --origin-fp/--dest-fp) are checked (550 on a mismatch) and a real
 * SHA-512 (--data-hash) is echoed.
 */

import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dearmor } from '../../src/encoding/armor.js';
import type { OpenedMessage } from '../../src/message/view.js';
import { parseOrgSignet, splitSignet } from '../../src/signet/index.js';
import { dime, tempDir } from '../helpers/cli.js';
import { type LibdimeRun, libdime } from '../helpers/libdime-dmtp.js';
import { type DomainNode, startTwoDomains, type TwoDomains } from '../helpers/two-domains.js';
import { afterDecryptHeaders, hex, loadCases, toHexStr, type VectorCase } from '../helpers/vectors.js';
import { readFolder } from './helpers.js';

const byId = (file: string) => new Map(loadCases(file).map((c) => [String(c.id), c] as const));
const messages = byId('reference/libdime-message.json');
const orgKeys = byId('reference/libdime-org-key.json');
const userKeys = byId('reference/libdime-user-key.json');
const orgSignets = byId('reference/libdime-org-signet.json');
const userSignets = byId('reference/libdime-user-signet.json');

const MSG1 = messages.get('pub-msg1-final')!;
const MSG2 = messages.get('pub-msg2-final')!;
/** The parties every vector message names (the same four for all of them). */
const PARTIES = MSG1.expect.actors.recipient.envelope as Record<string, string>;
const ORG_A = orgSignets.get('pub-orgA-signet-id')!;
const ORG_B = orgSignets.get('pub-orgB-signet-id')!;
const FP_A = ORG_A.expect.fingerprints.crypto as string;
const FP_B = ORG_B.expect.fingerprints.crypto as string;
const PASSWORD = 'password of the libdime user';

let world: TwoDomains;
let dir: string;
let record: string;

/** Writes a vector object to a file of the temp directory and returns its path. */
function put(name: string, data: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** Imports the vector org key and signet of the node's domain, and its user key and signet. */
function importVectorKeys(node: DomainNode): void {
  const who = node.domain === PARTIES.origin ? 'A' : 'B';
  const org = who === 'A' ? ORG_A : ORG_B;
  expect(org.expect.fields.id).toBe(node.domain);
  const user = userSignets.get(`pub-user${who}-id`)!;
  const address = user.expect.fields.id as string;
  expect(address).toBe(who === 'A' ? PARTIES.author : PARTIES.recipient);
  const data = ['admin', '--data', node.dataDir];
  const d = dime([
    ...data,
    'domain',
    'add',
    node.domain,
    '--org-key',
    put(`org${who}.key`, orgKeys.get(`pub-org${who}-key`)!.input.armored),
    '--org-signet',
    put(`org${who}.signet`, org.input.armored),
  ]);
  expect(d.status, d.stderr).toBe(0);
  const u = dime(
    [
      ...data,
      'user',
      'add',
      address,
      '--password-stdin',
      '--key',
      put(`user${who}.key`, userKeys.get(`pub-user${who}-key`)!.input.armored),
      '--signet',
      put(`user${who}.signet`, user.input.armored),
    ],
    { input: `${PASSWORD}\n` },
  );
  expect(u.status, u.stderr).toBe(0);
}

beforeAll(async () => {
  dir = tempDir('dime-libdime-send-');
  world = await startTwoDomains({ mode: 'inline', beforeStart: importVectorKeys });
  // the vectors' domains are the two servers': destination beta, origin alpha
  expect([PARTIES.origin, PARTIES.destination]).toEqual([world.alpha.domain, world.beta.domain]);
  const dx = (await world.beta.records()).find(
    (r) => r.type === 'TXT' && r.name === `_dx.${world.beta.domain}`,
  );
  record = dx!.value;
}, 120_000);

afterAll(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The tool's connection options: beta's DX name, its certificate checked against the record pin. */
function to(listener: 'dmtp' | 'smtp'): string[] {
  return [
    '--host',
    '127.0.0.1',
    '--port',
    String(world.beta.ports[listener]),
    ...(listener === 'smtp' ? ['--dual'] : []),
    '--dx',
    world.beta.hostname,
    '--record',
    record,
    '--record-dnssec',
  ];
}

function send(listener: 'dmtp' | 'smtp', file: string, extra: string[] = []): Promise<LibdimeRun> {
  return libdime([
    'transcript',
    'send',
    ...to(listener),
    '--from-domain',
    PARTIES.origin!,
    '--to-domain',
    PARTIES.destination!,
    ...extra,
    file,
  ]);
}

/** The transaction id libdime returned, or a failure showing the transcript. */
function transactionId(r: LibdimeRun): string {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('certificate: accepted by libdime _verify_dx_certificate');
  const id = /^transaction-id: (\S+)$/m.exec(r.stderr)?.[1];
  expect(id, r.stderr).toBeTruthy();
  expect(r.stdout.trim()).toBe(id);
  expect(r.stderr).toContain(`S: 250 OK [${id}]`);
  return id!;
}

async function recipientInbox() {
  return readFolder(
    world.beta.running!.ctx.store,
    PARTIES.recipient!,
    PASSWORD,
    'INBOX',
    world.beta.running!.ctx.signets,
  );
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const text = (b: Uint8Array | null) => (b ? Buffer.from(b).toString('utf8') : null);

/** What the recipient opened equals what libdime says the recipient decrypts. */
function expectVectorPlaintext(m: OpenedMessage, c: VectorCase): void {
  const ad = c.expect.actors.recipient.after_decrypt as Record<string, string | number | null>;
  expect(m.envelope).toMatchObject({
    author: ad.author,
    recipient: ad.recipient,
    origin: ad.origin,
    destination: ad.destination,
    originFingerprint: ad.fp_origin,
    destinationFingerprint: ad.fp_destination,
  });
  expect(m.commonHeaders?.fields).toEqual(afterDecryptHeaders(ad));
  expect(text(m.otherHeaders)).toBe(ad.other_headers);
  const disp = Object.keys(ad).filter((k) => /^display_\d+_hex$/.test(k));
  expect(disp.length).toBeGreaterThan(0);
  expect(m.display.map((d) => toHexStr(d.data))).toEqual(disp.map((k) => ad[k]));
  expect(m.display.map((d) => d.flags)).toEqual(disp.map((_, i) => ad[`display_${i}_flags`]));
  const att = Object.keys(ad).filter((k) => /^attach_\d+_hex$/.test(k));
  expect(m.attachments.map((a) => sha256(a.data))).toEqual(att.map((k) => sha256(hex(ad[k] as string))));
  expect(m.signatures).toMatchObject({
    tree: 'valid',
    authorFull: 'valid',
    originFull: 'valid',
    metaBounce: 'valid',
    displayBounce: 'valid',
  });
}

describe('the imported keys over DMTP (libdime resolver)', () => {
  it("beta serves libdime's orgB signet: SGNT on port 26, full split, SS_FULL under the vector POK", async () => {
    const r = await libdime([
      'sgnt',
      ...to('dmtp'),
      '--pok',
      ORG_B.keys.pok_hex,
      '--strict',
      '--no-ehlo',
      world.beta.domain,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('signet-get_signet-rule: accept');
    expect(r.stderr).toContain(`signet-fingerprint-crypto: ${FP_B}`);
    expect(dearmor(r.stdout).binary).toEqual(splitSignet(parseOrgSignet(hex(ORG_B.input.hex)), 'full').bytes);
    // libdime's own full stage of orgB is that same object
    expect(toHexStr(dearmor(r.stdout).binary)).toBe(orgSignets.get('pub-orgB-signet-full')!.input.hex);
  });
});

describe('libdime-dmtp send → our server → the recipient opens it', () => {
  it("msg1 on the DMTP port, libdime's bytes unchanged: the [fingerprint] placeholders are accepted (dmtp.md §8)", async () => {
    const msg = hex(MSG1.input.hex);
    const r = await send('dmtp', put('msg1.dime', msg));
    const id = transactionId(r);
    // libdime's literal placeholders (D6–D8) went out unchanged, and each got the decided reply
    expect(r.stderr).not.toContain('placeholder [fingerprint] replaced');
    expect(r.stderr).toContain(`C: EHLO <${PARTIES.origin}>`);
    expect(r.stderr).toMatch(
      new RegExp(`C: MAIL FROM: <${PARTIES.origin}> \\[fingerprint\\] SIZE=${msg.length}\\nS: 250 `),
    );
    expect(r.stderr).toMatch(new RegExp(`C: RCPT TO: <${PARTIES.destination}> \\[fingerprint\\]\\nS: 250 `));
    expect(r.stderr).toContain('C: DATA [fingerprint]\nS: 354 CONTINUE [fingerprint]\n');
    const inbox = await recipientInbox();
    const got = inbox.filter((m) => m.info.metadata.transactionId === id);
    expect(got).toHaveLength(1);
    const mail = got[0]!;
    expect(mail.info.metadata).toMatchObject({
      kind: 'dime',
      originDomain: PARTIES.origin,
      originFingerprint: FP_A,
      verification: 'pass',
    });
    expect(text(mail.info.metadata.trace)).toMatch(
      new RegExp(`^${world.beta.hostname} \\S+ received\\r\\n$`),
    );
    expectVectorPlaintext(mail.dime!, MSG1);
    // stored as received (the vector has no tracing prefix)
    const blob = (await world.beta.running!.ctx.store.readBlob(mail.info.folderId, mail.info.uid))!;
    expect(toHexStr(blob)).toBe(MSG1.input.hex);
  });

  it('msg2 (with an attachment) in dual mode on the SMTP port, real fingerprints and the SHA-512, QUIT', async () => {
    const msg = hex(MSG2.input.hex);
    const r = await send('smtp', put('msg2.dime', msg), [
      '--origin-fp',
      FP_A,
      '--dest-fp',
      FP_B,
      '--data-hash',
      '--quit',
    ]);
    const id = transactionId(r);
    expect(r.stderr).toContain(`C: STARTTLS <${world.beta.hostname}> MODE=DMTPv1`);
    expect(r.stderr).toContain('S: 250 OK DMTPv1');
    expect(r.stderr).toMatch(
      new RegExp(`C: MAIL FROM: <${PARTIES.origin}> \\[${reEscape(FP_A)}\\] SIZE=${msg.length}\\nS: 250 `),
    );
    expect(r.stderr).toMatch(
      new RegExp(`C: RCPT TO: <${PARTIES.destination}> \\[${reEscape(FP_B)}\\]\\nS: 250 `),
    );
    const hash = createHash('sha512').update(msg).digest('base64').replace(/=+$/, '');
    expect(r.stderr).toContain(`C: DATA [${hash}]\nS: 354 CONTINUE [${hash}]\n`);
    expect(r.stderr).toMatch(/C: QUIT\nS: 221 /);
    const got = (await recipientInbox()).filter((m) => m.info.metadata.transactionId === id);
    expect(got).toHaveLength(1);
    expect(got[0]!.dime!.attachments.length).toBeGreaterThan(0);
    expectVectorPlaintext(got[0]!.dime!, MSG2);
  });

  it('the same object again is accepted (a retry after a lost reply) and stored once', async () => {
    const msg = hex(MSG1.input.hex);
    const copies = (inbox: Awaited<ReturnType<typeof recipientInbox>>) =>
      inbox.filter((m) => m.info.size === msg.length && m.info.metadata.originDomain === PARTIES.origin);
    const before = await recipientInbox();
    expect(copies(before)).toHaveLength(1);
    const r = await send('smtp', put('msg1-again.dime', msg));
    const id = transactionId(r);
    const after = await recipientInbox();
    expect(after.length).toBe(before.length);
    expect(copies(after)).toHaveLength(1);
    expect(after.some((m) => m.info.metadata.transactionId === id)).toBe(false);
  });
});

describe('what our server refuses from libdime-dmtp send', () => {
  const count = async () => (await recipientInbox()).length;

  it("a real origin fingerprint that is not alpha.test's current org signet: MAIL 550, exit 1", async () => {
    const n = await count();
    const r = await send('dmtp', put('m-origin.dime', hex(MSG1.input.hex)), ['--origin-fp', FP_B]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/C: MAIL FROM: .*\nS: 550 .*not the current org signet of alpha\.test/);
    expect(r.stderr).not.toContain('C: RCPT');
    expect(await count()).toBe(n);
  });

  it("a real destination fingerprint that is not beta.test's org signet: RCPT 550, exit 1", async () => {
    const r = await send('dmtp', put('m-dest.dime', hex(MSG1.input.hex)), ['--dest-fp', FP_A]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/C: RCPT TO: .*\nS: 550 /);
    expect(r.stderr).not.toContain('C: DATA');
  });

  it('placeholders do not skip verification: the -from-author object (origin signatures still zero) → 554 after DATA', async () => {
    const n = await count();
    const c = messages.get('pub-msg1-from-author')!;
    expect(c.expect.valid).toBe(false);
    const r = await send('dmtp', put('from-author.dime', hex(c.input.hex)));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('S: 354 CONTINUE [fingerprint]');
    expect(r.stderr).toMatch(/S: 554 message rejected: BAD_SIGNATURE: origin signatures full=/);
    expect(r.stderr).not.toContain('transaction-id:');
    expect(await count()).toBe(n);
  });

  it('a MAIL origin other than the one the object names → 554 after DATA', async () => {
    const n = await count();
    const r = await libdime([
      'transcript',
      'send',
      ...to('dmtp'),
      '--from-domain',
      PARTIES.destination!,
      '--to-domain',
      PARTIES.destination!,
      put('wrong-origin.dime', hex(MSG1.input.hex)),
    ]);
    expect(r.code, r.stderr).toBe(1);
    // MAIL and RCPT pass (beta.test is a known org, placeholders), the object names alpha.test
    expect(r.stderr).toContain('S: 354 CONTINUE [fingerprint]');
    expect(r.stderr).toMatch(/S: 554 message rejected: SIGNET_MISMATCH: the origin signet does not match/);
    expect(await count()).toBe(n);
  });
});

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
