/**
 * SMTP conformance against the trusted peer (issue 7): the raw-socket scenarios of
 * smtp-scenarios.ts run byte for byte against our port 25 and against Debian's Postfix with
 * `smtpd_forbid_bare_newline` on (and again, for the bare-newline scenarios, in its 'reject' mode).
 * Per step the reply classes (first digit, and whether the server closed) must be the same on
 * both, the exact codes where the RFCs leave no choice, except where a scenario names an explained
 * allowance. For every scenario that can store mail the stores are counted: one message at most
 * per DATA, exactly one per "queued as" reply, and the commands smuggled behind a fake end of data
 * never executed (nothing stored for their recipient, no message from their sender).
 *
 * Postfix is set up as the same MX as ours (test/helpers/postfix-harness.ts, 'sink-maildir'):
 * - the local domain dime.test with bob, alice and postmaster (an inline virtual mailbox map, all
 *   into the one Maildir); unknown users there are refused (smtpd_reject_unlisted_recipient), other
 *   domains are not relayed (smtpd_relay_restrictions = reject_unauth_destination, no
 *   permit_mynetworks: the tests connect from loopback);
 * - message_size_limit and smtpd_recipient_limit equal to our limits.maxMessageSize / maxRecipients;
 * - our policy choices where Postfix has a knob for them and RFC 5321 lets the server choose:
 *   smtpd_helo_required = yes (we want HELO/EHLO before MAIL), strict_rfc821_envelopes = yes (we
 *   want the <> of RFC 5321 §4.1.2 around paths), smtpd_hard_error_limit = 10 with no error sleep
 *   (our session ends with 421 after 10 errors and does not tarpit);
 * - myorigin = dime.test, so `RCPT TO:<Postmaster>` means postmaster@dime.test (RFC 5321 §4.5.1);
 * - STARTTLS with a self-signed certificate.
 */

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../src/protocol/index.js';
import { type PostfixInstance, startPostfix } from '../helpers/postfix-harness.js';
import { cleanupServers, readFolder, startTestServer, type TestServer } from './helpers.js';
import {
  ALICE,
  BOB,
  LOCAL_DOMAIN,
  MAX_RCPT,
  MAX_SIZE,
  type Peer,
  SCENARIOS,
  type Scenario,
  type Step,
} from './smtp-scenarios.js';
import { replyCode, runScript, type ScriptResult, stepClasses } from './smtp-script.js';

const PW_BOB = 'bob compare password';
const PW_ALICE = 'alice compare password';

let ours: TestServer;
const postfix = new Map<Peer, PostfixInstance>();

async function startPeer(mode: Peer, certPem: string, keyPem: string): Promise<PostfixInstance> {
  return startPostfix({
    mode: 'sink-maildir',
    smtpdForbidBareNewline: mode,
    tls: { certPem, keyPem },
    hostname: 'postfix.test',
    mainCf: {
      virtual_mailbox_domains: LOCAL_DOMAIN,
      virtual_mailbox_maps: `inline:{ ${BOB}=sink/, ${ALICE}=sink/, postmaster@${LOCAL_DOMAIN}=sink/ }`,
      myorigin: LOCAL_DOMAIN,
      smtpd_relay_restrictions: 'reject_unauth_destination',
      message_size_limit: String(MAX_SIZE),
      smtpd_recipient_limit: String(MAX_RCPT),
      smtpd_helo_required: 'yes',
      strict_rfc821_envelopes: 'yes',
      smtpd_soft_error_limit: '10',
      smtpd_hard_error_limit: '10',
      smtpd_error_sleep_time: '0',
    },
  });
}

beforeAll(async () => {
  const cert = await createSelfSignedCertificate({ hostnames: ['postfix.test', '127.0.0.1'], keyType: 'ec' });
  const [srv, normalize, reject] = await Promise.all([
    startTestServer({ config: { limits: { maxMessageSize: MAX_SIZE, maxRecipients: MAX_RCPT } } }),
    startPeer('normalize', cert.certPem, cert.keyPem),
    startPeer('reject', cert.certPem, cert.keyPem),
  ]);
  ours = srv;
  postfix.set('normalize', normalize);
  postfix.set('reject', reject);
  await ours.addUser(BOB, PW_BOB);
  await ours.addUser(ALICE, PW_ALICE);
  // RFC 5321 §4.5.1: postmaster of every local domain (Postfix: the inline map above)
  const domain = (await ours.store.getDomain(LOCAL_DOMAIN))!;
  const bob = (await ours.store.findUser(domain.id, 'bob'))!;
  await ours.store.addAlias(domain.id, 'postmaster', bob.id);
}, 60_000);

afterAll(async () => {
  await Promise.all([...postfix.values()].map((p) => p.stop()));
  await cleanupServers();
});

/** Messages in a user's INBOX on our server (metadata only: no login). */
async function inboxCount(user: string): Promise<number> {
  const domain = (await ours.store.getDomain(LOCAL_DOMAIN))!;
  const u = (await ours.store.findUser(domain.id, user.split('@')[0]!))!;
  const f = await ours.store.getFolder(u.id, 'INBOX');
  return f ? (await ours.store.listMessages(f.id)).length : 0;
}

const allReplies = (r: ScriptResult) => r.steps.flatMap((s) => s.replies);
const queued = (r: ScriptResult) => allReplies(r).filter((x) => /^250 .*queued as /i.test(x)).length;
const dataStarts = (r: ScriptResult) => allReplies(r).filter((x) => x.startsWith('354')).length;

/**
 * The messages the scenario's client sends: one per DATA sent as a command (the steps whose `rfc`
 * expects a 354) and one per `BDAT … LAST` command; the most a server may store.
 */
function dataCommands(sc: Scenario): number {
  return sc.steps.reduce(
    (n, s) =>
      n + (s.rfc?.filter((c) => c === '354').length ?? 0) + (/^BDAT \d+ LAST\r\n/i.test(sent(s)) ? 1 : 0),
    0,
  );
}

const sent = (s: Step) => (typeof s.send === 'string' ? s.send : Buffer.from(s.send).toString('latin1'));

/** One line per step: what each server answered, for failure messages. */
function transcript(sc: Scenario, o: ScriptResult, p: ScriptResult): string {
  return sc.steps
    .map((s, i) => {
      const send = sent(s);
      const shown = JSON.stringify(send.length > 70 ? `${send.slice(0, 70)}…` : send);
      const fmt = (r: ScriptResult) => {
        const st = r.steps[i];
        return st
          ? `${st.replies.map((x) => x.split('\n').pop()).join(' | ')}${st.closed ? ' [closed]' : ''}`
          : '?';
      };
      return `#${i} ${shown}\n   ours:    ${fmt(o)}\n   postfix: ${fmt(p)}`;
    })
    .join('\n');
}

function compare(sc: Scenario, peer: Peer, o: ScriptResult, p: ScriptResult): void {
  const log = transcript(sc, o, p);
  expect(o.banner, 'our banner').toMatch(/^220 /);
  expect(p.banner, 'Postfix banner').toMatch(/^220 /);
  sc.steps.forEach((s, i) => {
    const os = o.steps[i]!;
    const ps = p.steps[i]!;
    expect(os.tlsError, `step ${i}: our TLS\n${log}`).toBeUndefined();
    expect(ps.tlsError, `step ${i}: Postfix TLS\n${log}`).toBeUndefined();
    const allow = s.allow?.peers.includes(peer) ? s.allow : null;
    if (allow) {
      // the difference is exactly the one explained, no other
      expect(stepClasses(os), `step ${i} (allowance: ${allow.why}): ours\n${log}`).toBe(allow.ours);
      expect(stepClasses(ps), `step ${i} (allowance: ${allow.why}): Postfix\n${log}`).toBe(allow.postfix);
    } else {
      expect(stepClasses(os), `step ${i}: reply classes differ\n${log}`).toBe(stepClasses(ps));
    }
    if (s.rfc) {
      expect(os.replies.map(replyCode), `step ${i}: our codes (RFC)\n${log}`).toEqual(s.rfc);
      if (!allow) expect(ps.replies.map(replyCode), `step ${i}: Postfix codes (RFC)\n${log}`).toEqual(s.rfc);
    }
  });
}

/**
 * Postfix's Maildir files after the scenario: exactly `n` new ones. When the client sent message
 * data, a short wait more lets a late extra delivery show up.
 */
async function postfixNewMessages(
  pf: PostfixInstance,
  before: ReadonlySet<string>,
  n: number,
  sentData: boolean,
): Promise<string[]> {
  if (n > 0) await pf.waitForMessages(before.size + n, 10_000);
  if (sentData) await new Promise((r) => setTimeout(r, 150));
  // Maildir names sort by second, then inode: two deliveries in one second need not sort in
  // delivery order, so the new messages are the names not seen before, not the last n.
  const added = pf.messageFiles().filter((f) => !before.has(f));
  expect(added.length, `Postfix stored\n${pf.logs(20)}`).toBe(n);
  return added.map((f) => readFileSync(f, 'latin1'));
}

async function checkStores(
  sc: Scenario,
  o: ScriptResult,
  p: ScriptResult,
  pf: PostfixInstance,
  before: { bob: number; alice: number; postfix: ReadonlySet<string> },
): Promise<void> {
  const max = dataCommands(sc);
  for (const [who, r] of [
    ['ours', o],
    ['postfix', p],
  ] as const) {
    // ≤ 1 message per DATA; the smuggled DATA never got a 354
    expect(queued(r), `${who}: queued`).toBeLessThanOrEqual(max);
    expect(dataStarts(r), `${who}: 354 replies`).toBeLessThanOrEqual(max);
  }
  // ours: exactly the accepted messages, all for bob; nothing for the smuggled recipient
  expect(await inboxCount(BOB), 'our store: bob').toBe(before.bob + queued(o));
  expect(await inboxCount(ALICE), 'our store: alice (the smuggled recipient)').toBe(before.alice);
  const smuggles = sc.steps.some((s) => sent(s).includes('evil@smuggler.test'));
  const carrier = sc.steps.some((s) => sent(s).includes('Subject: carrier'));
  if (sc.category === 'smuggling' && queued(o) > 0) {
    const inbox = await readFolder(ours.store, BOB, PW_BOB);
    for (const m of inbox.slice(before.bob)) {
      if (carrier) expect(m.text).toContain('Subject: carrier');
      // the smuggled part is content of the carrier, never a message of its own
      if (smuggles) expect(m.text).toContain('Subject: smuggled');
      expect(m.text).not.toMatch(/^Return-Path: <evil@/m);
    }
  }
  // Postfix: one Maildir file per accepted message; whole, from the real sender
  const stored = await postfixNewMessages(pf, before.postfix, queued(p), max > 0 || dataStarts(p) > 0);
  for (const m of stored) {
    expect(m).toMatch(/^Return-Path: <sender@example\.org>/);
    expect(m).not.toMatch(/^Delivered-To: alice@/m);
    if (sc.category === 'smuggling') {
      if (carrier) expect(m).toContain('Subject: carrier');
      if (smuggles) expect(m).toContain('Subject: smuggled');
    }
  }
}

describe('SMTP conformance: our port 25 against Postfix (smtpd_forbid_bare_newline)', () => {
  it('has the scenarios the issue asks for', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(30);
    const categories = new Set(SCENARIOS.map((s) => s.category));
    expect([...categories].sort()).toEqual(
      [
        'bare-newline',
        'limits',
        'nul',
        'overlong',
        'pipelining',
        'sequence',
        'smuggling',
        'starttls',
        'syntax',
      ].sort(),
    );
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
  });

  it('both peers are configured as described', async () => {
    const n = postfix.get('normalize')!;
    const r = postfix.get('reject')!;
    expect(await n.postconf('smtpd_forbid_bare_newline')).toBe('normalize');
    expect(await r.postconf('smtpd_forbid_bare_newline')).toBe('reject');
    expect(await n.postconf('smtpd_forbid_bare_newline_exclusions')).toBe('');
    expect(await n.postconf('message_size_limit')).toBe(String(MAX_SIZE));
    expect(await n.postconf('smtpd_recipient_limit')).toBe(String(MAX_RCPT));
  });

  for (const peer of ['normalize', 'reject'] as const) {
    for (const sc of SCENARIOS) {
      if (peer === 'reject' && !sc.reject) continue;
      it(`[${peer}] ${sc.name}`, async () => {
        const pf = postfix.get(peer)!;
        const before = {
          bob: await inboxCount(BOB),
          alice: await inboxCount(ALICE),
          postfix: new Set(pf.messageFiles()),
        };
        const [o, p] = await Promise.all([
          runScript(ours.ports.smtp, sc.steps),
          runScript(pf.port, sc.steps),
        ]);
        compare(sc, peer, o, p);
        await checkStores(sc, o, p, pf, before);
      });
    }
  }
});
