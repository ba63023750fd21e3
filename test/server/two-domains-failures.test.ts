/**
 * Issue 6 failure cases between two real domains (real DNSSEC, TLS, sockets), each with a clear
 * error and nothing lost — the message is refused before it is accepted (451/5xx to the client),
 * stays queued and is retried, or is bounced to the author's INBOX with the reason:
 * unknown recipient, a signet whose POK is not the record's, a tampered message, origin fingerprints
 * that do not match, DNSSEC bogus, a certificate the record does not pin, a DX without TLS,
 * an unreachable DX (retry with backoff, then recovery; or the bounce once the retries are used up),
 * a domain without a management record (SMTP fallback with DKIM, or a bounce when plaintext is not
 * allowed), an oversize message, garbage and pipelining on the DMTP port.
 */

import { randomBytes } from 'node:crypto';
import { dkimVerify } from 'mailauth';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys } from '../../src/keys/index.js';
import { mimeToParts, partsToMime } from '../../src/message/mime/index.js';
import { openMessage } from '../../src/message/open.js';
import { signAsOrigin } from '../../src/message/origin-sign.js';
import { envelopeFingerprint } from '../../src/message/parties.js';
import { sealMessage } from '../../src/message/seal.js';
import { isOriginAuthored } from '../../src/message/view.js';
import { connectDmtp, deliverMessages } from '../../src/protocol/dmtp/client.js';
import { createSelfSignedCertificate } from '../../src/protocol/tls/self-signed.js';
import { tlsCertificateSignature } from '../../src/record/index.js';
import { DimeResolver } from '../../src/resolver/resolver.js';
import { SignetResolver } from '../../src/resolver/signets.js';
import { openLocalDomain } from '../../src/server/domains.js';
import { createMailauthResolver } from '../../src/server/mail/authentication.js';
import { createOrgSignet, parseUserSignet } from '../../src/signet/index.js';
import { verifyLogin } from '../../src/store/index.js';
import { dime } from '../helpers/cli.js';
import { startTwoDomains, TWO_DOMAINS_PASSPHRASE, type TwoDomains } from '../helpers/two-domains.js';
import { LineClient } from '../protocol/line-client.js';
import { eventually, readFolder } from './helpers.js';

const ALICE = 'alice@alpha.test';
const BOB = 'bob@beta.test';
const PW_A = 'alice password alpha';
const PW_B = 'bob password beta';

describe('two domains: failure cases', () => {
  let t: TwoDomains;
  const ports = () => ({
    'dx.alpha.test:26': t.alpha.ports.dmtp,
    'dx.beta.test:26': t.beta.ports.dmtp,
  });
  const testResolver = () => new DimeResolver({ servers: [t.dns.resolverAddress] });
  const testSignets = () =>
    new SignetResolver({
      resolver: testResolver(),
      portOverrides: (host, port) => (ports() as Record<string, number>)[`${host}:${port}`] ?? port,
    });
  const alphaCtx = () => t.alpha.running!.ctx;
  const forget = () => {
    alphaCtx().resolver.cache.clear();
    alphaCtx().signets.clear();
  };
  const send = (mail: SendMailOptions) =>
    nodemailer
      .createTransport({
        host: '127.0.0.1',
        port: t.alpha.ports.submission,
        secure: false,
        requireTLS: true,
        tls: { rejectUnauthorized: false },
        auth: { user: ALICE, pass: PW_A },
      })
      .sendMail({ from: ALICE, ...mail });

  /**
   * The bounces in alice's INBOX: DSNs (sealed legacy mail: human text and the delivery-status
   * part) for what failed before a DIME object existed, and DIME bounces (flow.md §3.2: written by
   * alpha's postmaster with the org signet, the original object attached) for queued DIME items.
   */
  const bounces = async () => {
    const inbox = await readFolder(alphaCtx().store, ALICE, PW_A);
    const out: {
      kind: 'dsn' | 'dime';
      text: string;
      status: string;
      subject: string;
      original: Uint8Array | null;
    }[] = [];
    for (const m of inbox) {
      if (m.dime) {
        if (!isOriginAuthored(m.dime.envelope)) continue;
        expect(m.info.metadata).toMatchObject({ kind: 'dime', verification: 'bounce' });
        const o = m.dime;
        const e = await PostalMime.parse(
          await partsToMime({
            commonHeaders: o.commonHeaders!.raw,
            otherHeaders: o.otherHeaders,
            display: o.display.map((d) => d.data),
            attachments: o.attachments.map((d) => d.data),
          }),
        );
        const att = e.attachments.find((a) => a.filename === 'undelivered.dime');
        out.push({
          kind: 'dime',
          text: e.text ?? '',
          status: '',
          subject: e.subject ?? '',
          original: att ? new Uint8Array(att.content as ArrayBuffer) : null,
        });
        continue;
      }
      if (!m.text?.includes('multipart/report')) continue;
      const e = await PostalMime.parse(m.text);
      const status = e.attachments
        .filter((a) => /delivery-status/.test(a.mimeType))
        .map((a) =>
          typeof a.content === 'string' ? a.content : Buffer.from(a.content as ArrayBuffer).toString('utf8'),
        )
        .join('\n');
      out.push({ kind: 'dsn', text: e.text ?? '', status, subject: e.subject ?? '', original: null });
    }
    return out;
  };
  /** A DIME bounce carries alice's object as sent: it opens for her, its author, with that subject. */
  const expectReturned = async (b: Awaited<ReturnType<typeof bounces>>[number], subject: string) => {
    expect(b.kind).toBe('dime');
    expect(b.subject).toBe(`Undelivered DIME message: ${subject}`);
    expect(b.original).not.toBeNull();
    const session = await verifyLogin(alphaCtx().store, ALICE, PW_A);
    try {
      const back = openMessage(b.original!, { actor: 'author', keys: session.userKeys!, verify: false });
      expect(back.commonHeaders!.fields.subject).toBe(subject);
      expect(back.envelope.recipient).toMatch(/@beta\.test$/);
    } finally {
      session.destroy();
    }
  };
  // the worker appends the bounce, then removes the (already dead) queue item: a moment apart
  const queueEmpty = () =>
    eventually(async () => (await alphaCtx().store.listQueue()).length === 0, 5_000, 'an empty queue');
  const bounceFor = (re: RegExp, what: string) =>
    eventually(async () => (await bounces()).find((b) => re.test(b.text)), 20_000, what);
  const bobInbox = () => readFolder(t.beta.running!.ctx.store, BOB, PW_B, 'INBOX', testSignets());
  const bobHas = (subject: string) =>
    eventually(
      async () =>
        (await bobInbox()).find((m) =>
          (m.dime?.commonHeaders?.fields.subject ?? m.text ?? '').includes(subject),
        ),
      20_000,
      `"${subject}" at bob`,
    );

  beforeAll(async () => {
    t = await startTwoDomains({
      mode: 'inline',
      ...(process.env.DIME_TEST_LOG ? { log: process.env.DIME_TEST_LOG } : {}),
      config: {
        alpha: { queue: { initialDelayMs: 1000, maxDelayMs: 2000, maxAttempts: 4 } },
        beta: { limits: { maxMessageSize: 256 * 1024 } },
      },
    });
    await t.alpha.addUser(ALICE, PW_A);
    await t.beta.addUser(BOB, PW_B);
    const warm = await send({ to: BOB, subject: 'warm-up', text: 'first message' });
    expect(warm.response).toMatch(/^250 /);
    await bobHas('warm-up');
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('unknown recipient: SGNT 550 at composition → bounced to the author; the other recipient gets it', async () => {
    const r = await send({ to: [BOB, 'nobody@beta.test'], subject: 'to a ghost', text: 'hello?' });
    expect(r.response).toMatch(/^250 /);
    const b = await bounceFor(/to a ghost/, 'the unknown-recipient bounce');
    expect(b.kind).toBe('dsn'); // refused before a DIME object existed
    expect(b.text).toMatch(/unknown recipient/);
    expect(b.status).toMatch(/Final-Recipient: rfc822;\s*nobody@beta\.test/i);
    expect(b.status).toMatch(/Status: 5\.1\.1/);
    await bobHas('to a ghost');
  });

  it("a revoked recipient signet (key reset at beta, alpha's cache still has the old one): 554, bounced; the next message uses the new signet", async () => {
    const CAROL = 'carol@beta.test';
    await t.beta.addUser(CAROL, 'carol password beta');
    const carolHas = (password: string, subject: string) =>
      eventually(
        async () => {
          // mail sealed to the replaced key no longer opens: skipped
          const inbox = await readFolder(
            t.beta.running!.ctx.store,
            CAROL,
            password,
            'INBOX',
            testSignets(),
            true,
          );
          return inbox.find((m) => (m.dime?.commonHeaders?.fields.subject ?? '').includes(subject));
        },
        20_000,
        `"${subject}" at carol`,
      );
    expect((await send({ to: CAROL, subject: 'before the reset', text: 'x' })).response).toMatch(/^250 /);
    await carolHas('carol password beta', 'before the reset');
    const old = await alphaCtx().signets.resolveUser(CAROL);
    expect(old.source).toBe('cache');
    // the administrator resets carol's password at beta: a new key and signet (no custody link)
    const admin = await t.beta.admin();
    try {
      expect((await admin.setPassword(CAROL, new TextEncoder().encode('carol new password'))).newKey).toBe(
        true,
      );
    } finally {
      await admin.close();
    }
    // alpha still seals to the cached (now revoked) signet: beta refuses it, alice gets the reason
    expect((await send({ to: CAROL, subject: 'to the old key', text: 'x' })).response).toMatch(/^250 /);
    const b = await bounceFor(/to the old key/, 'the revoked-signet bounce');
    expect(b.text).toMatch(/554 the recipient fingerprint is not that user's current signet/);
    await expectReturned(b, 'to the old key');
    await queueEmpty();
    // the refusal made alpha forget carol's signet: the next message is sealed to the new one
    expect((await send({ to: CAROL, subject: 'to the new key', text: 'x' })).response).toMatch(/^250 /);
    const m = await carolHas('carol new password', 'to the new key');
    expect(m.dime!.envelope.recipient).toBe(CAROL);
    const fresh = await alphaCtx().signets.resolveUser(CAROL);
    expect(Buffer.from(fresh.signet.signingKey).equals(Buffer.from(old.signet.signingKey))).toBe(false);
  });

  it('the destination refuses a tampered message (554), a wrong origin fingerprint (550) and a forged origin (554)', async () => {
    // alice's message, written here with the keys a login opens and alpha's org key
    const admin = await t.alpha.admin();
    const row = (await admin.store.getDomain('alpha.test'))!;
    const org = openLocalDomain(admin.paths, row, TWO_DOMAINS_PASSPHRASE, 'dime');
    await admin.close();
    const session = await verifyLogin(alphaCtx().store, ALICE, PW_A);
    const signets = testSignets();
    const bob = await signets.resolveUser(BOB);
    const parts = await mimeToParts(
      Buffer.from(
        `From: ${ALICE}\r\nTo: ${BOB}\r\nSubject: direct\r\nDate: ${new Date().toUTCString()}\r\n\r\nhand made\r\n`,
      ),
    );
    const authorSignet = parseUserSignet(session.user.signet!);
    const make = (originKeys = org.orgKeys, originSignet = org.orgSignet) =>
      signAsOrigin(
        sealMessage({
          author: { keys: session.userKeys!, signet: authorSignet, address: ALICE },
          recipient: { signet: bob.signet, address: BOB },
          origin: { signet: originSignet, domain: 'alpha.test' },
          destination: { signet: bob.org.signet, domain: 'beta.test' },
          commonHeaders: parts.commonFields,
          otherHeaders: parts.otherHeaders,
          display: parts.display.map((d) => ({ data: d })),
        }),
        originKeys,
        { author: authorSignet, origin: originSignet, destination: bob.org.signet },
      );
    const good = make();
    const tampered = new Uint8Array(good);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    const fake = generateKeys('org');
    const forged = make(fake, createOrgSignet(fake, { stage: 'id', domain: 'alpha.test' }));
    const conn = (
      await connectDmtp('beta.test', {
        resolver: testResolver(),
        ehlo: 'dx.alpha.test',
        portOverrides: (host, port) => (ports() as Record<string, number>)[`${host}:${port}`] ?? port,
      })
    ).connection;
    const envelope = {
      origin: 'alpha.test',
      originFingerprint: envelopeFingerprint(org.orgSignet),
      destination: 'beta.test',
      destinationFingerprint: envelopeFingerprint(bob.org.signet),
    };
    try {
      const out = await deliverMessages(conn, envelope, [
        { id: 'tampered', body: tampered },
        { id: 'forged', body: forged },
        { id: 'good', body: good },
      ]);
      const byId = Object.fromEntries(out.map((o) => [o.id, o]));
      expect(byId.good!.delivered).toBe(true);
      for (const id of ['tampered', 'forged']) {
        const o = byId[id]!;
        expect(o.delivered).toBe(false);
        if (!o.delivered) {
          expect(o.error.code).toBe('DMTP_REFUSED');
          expect(o.error.context.code).toBe(554);
          expect(o.temporary).toBe(false);
        }
      }
      // MAIL with a fingerprint that is not alpha's current org signet
      const wrong = await deliverMessages(
        conn,
        { ...envelope, originFingerprint: envelopeFingerprint(bob.signet) },
        [{ id: 'x', body: good }],
      );
      expect(wrong[0]!.delivered).toBe(false);
      if (!wrong[0]!.delivered) expect(wrong[0]!.error.context.code).toBe(550);
    } finally {
      await conn.quit().catch(() => {});
      session.destroy();
      org.orgKeys.signingSeed.fill(0);
    }
    const inbox = await bobInbox();
    expect(inbox.filter((m) => m.dime?.commonHeaders?.fields.subject === 'direct')).toHaveLength(1);
  });

  it("a signet whose POK is not the record's: bounced (POK_MISMATCH)", async () => {
    // a record whose POK is another key (which also pins beta's certificate, so TLS is fine): the
    // org signet beta serves over SGNT does not match it
    const other = generateKeys('org');
    const cert = beta509(t);
    const pin = toB64(tlsCertificateSignature(cert, other.signingSeed));
    await t.publish(t.beta, (rs) =>
      rs.map((r) =>
        r.name === '_dx.beta.test'
          ? {
              ...r,
              value: r.value
                .replace(/pok=\S+/, `pok=${toB64(other.signingPublic)}`)
                .replace(/tls=\S+/, `tls=${pin}`),
            }
          : r,
      ),
    );
    forget();
    try {
      expect((await send({ to: BOB, subject: 'pok mismatch', text: 'x' })).response).toMatch(/^250 /);
      const b = await bounceFor(/pok mismatch/, 'the POK bounce');
      expect(b.text).toMatch(/POK_MISMATCH/);
    } finally {
      await t.publish(t.beta);
      forget();
    }
  });

  it('DNSSEC bogus record: bounced "DNSSEC failure", never sent by SMTP', async () => {
    await t.publish(t.beta, undefined, { bogus: ['_dx.beta.test'] });
    forget();
    try {
      expect((await send({ to: BOB, subject: 'bogus dnssec', text: 'x' })).response).toMatch(/^250 /);
      const b = await bounceFor(/bogus dnssec/, 'the DNSSEC bounce');
      expect(b.text).toMatch(/DNSSEC failure/);
      await queueEmpty();
    } finally {
      await t.publish(t.beta);
      forget();
    }
  });

  it('a certificate the record does not pin: 451 at submission; a queued message stays queued (TLS_UNTRUSTED), never SMTP, and goes once the pin is right', async () => {
    const otherCert = await createSelfSignedCertificate({ hostnames: ['dx.beta.test'] });
    const admin = await t.beta.admin();
    const row = (await admin.store.getDomain('beta.test'))!;
    const org = openLocalDomain(admin.paths, row, TWO_DOMAINS_PASSPHRASE, 'dime');
    await admin.close();
    const wrongPin = toB64(tlsCertificateSignature(otherCert.certDer, org.orgKeys.signingSeed));
    org.orgKeys.signingSeed.fill(0);
    const wrong = (rs: { name: string; type: string; value: string }[]) =>
      rs.map((r) =>
        r.name === '_dx.beta.test' ? { ...r, value: r.value.replace(/tls=\S+/, `tls=${wrongPin}`) } : r,
      );
    await t.publish(t.beta, wrong as never);
    forget();
    try {
      await expect(send({ to: BOB, subject: 'cold pin', text: 'x' })).rejects.toThrow(/451/);
      // warm signet caches (right pin), then the pin changes under a queued message
      await t.publish(t.beta);
      forget();
      await send({ to: BOB, subject: 'warm again', text: 'x' });
      await bobHas('warm again');
      await t.publish(t.beta, wrong as never);
      alphaCtx().resolver.cache.clear();
      expect((await send({ to: BOB, subject: 'queued under a wrong pin', text: 'x' })).response).toMatch(
        /^250 /,
      );
      const item = await eventually(
        async () =>
          (await alphaCtx().store.listQueue()).find((q) => q.lastError?.startsWith('TLS_UNTRUSTED')),
        15_000,
        'a TLS_UNTRUSTED retry',
      );
      expect(item.state).toBe('ready');
      expect(item.nextAttemptAt).toBeGreaterThan(Date.now() - 100);
      expect((await bobInbox()).some((m) => m.text?.includes('queued under a wrong pin'))).toBe(false);
      await t.publish(t.beta);
      alphaCtx().resolver.cache.clear();
      await bobHas('queued under a wrong pin');
    } finally {
      await t.publish(t.beta);
      forget();
    }
  });

  it('a DX without TLS: 451 at submission (TLS_FAILED), nothing sent in plaintext', async () => {
    await t.alpha.reconfigure({ outbound: { portMap: { 'dx.beta.test:26': t.beta.ports.smtp } } });
    try {
      await expect(send({ to: BOB, subject: 'no tls', text: 'x' })).rejects.toThrow(/451/);
      expect((await bobInbox()).some((m) => m.text?.includes('no tls'))).toBe(false);
    } finally {
      await t.alpha.reconfigure({ outbound: { portMap: { 'dx.beta.test:26': t.beta.ports.dmtp } } });
    }
    await send({ to: BOB, subject: 'tls back', text: 'x' });
    await bobHas('tls back');
  });

  it('an unreachable DX: queued, retried with backoff, delivered once it is back', async () => {
    await t.beta.stop();
    try {
      expect((await send({ to: BOB, subject: 'while beta is down', text: 'x' })).response).toMatch(/^250 /);
      const item = await eventually(
        async () => (await alphaCtx().store.listQueue()).find((q) => q.attempts >= 1 && q.lastError !== null),
        15_000,
        'a failed attempt',
      );
      expect(item.state).toBe('ready');
      expect(item.lastError).toMatch(/^CONNECT_FAILED/);
      expect(item.nextAttemptAt - Date.now()).toBeGreaterThan(0);
    } finally {
      await t.beta.start();
    }
    await bobHas('while beta is down');
    await queueEmpty();
  });

  it('dime admin queue list|retry|rm beside the running server: the item shows, and a removed one is never sent', async () => {
    const q = (args: string[]) => dime(['admin', '--data', t.alpha.dataDir, 'queue', ...args]);
    expect(q(['list', '--json']).json).toEqual({ items: [] });
    expect(q(['retry', '--json']).json).toEqual({ rescheduled: 0 });
    await t.beta.stop();
    try {
      expect((await send({ to: BOB, subject: 'dropped by the operator', text: 'x' })).response).toMatch(
        /^250 /,
      );
      await eventually(
        async () => (await alphaCtx().store.listQueue()).find((i) => i.attempts >= 1 && i.lastError !== null),
        15_000,
        'a failed attempt',
      );
      const list = q(['list', '--json']);
      expect(list.status, list.stderr).toBe(0);
      const items = (list.json as { items: Record<string, unknown>[] }).items;
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        kind: 'dmtp',
        recipient: BOB,
        domain: 'beta.test',
        author: ALICE,
      });
      expect(items[0]!.last_error).toMatch(/^CONNECT_FAILED/);
      expect(Object.keys(items[0]!).sort()).toEqual(
        [
          'attempts',
          'author',
          'created',
          'domain',
          'id',
          'kind',
          'last_error',
          'next_attempt',
          'recipient',
          'size',
          'state',
        ].sort(),
      );
      const missing = q(['rm', 'no-such-item', '--json']);
      expect(missing.status).toBe(1);
      expect(missing.json).toMatchObject({ valid: false, code: 'NOT_FOUND' });
      expect(q(['retry', 'no-such-item']).status).toBe(1);
      // an item being delivered at this moment is CONFLICT: asked again until it is between attempts
      const removed = await eventually(
        async () => {
          const r = q(['rm', String(items[0]!.id), '--json']);
          if (r.status === 1 && /CONFLICT/.test(r.stderr)) return null;
          return r;
        },
        10_000,
        'the removal',
      );
      expect(removed.status, removed.stderr).toBe(0);
      expect(removed.json).toEqual({ id: items[0]!.id, removed: true });
      expect(q(['list', '--json']).json).toEqual({ items: [] });
    } finally {
      await t.beta.start();
    }
    // nothing reaches bob, and alice gets no bounce for it
    await send({ to: BOB, subject: 'after the removal', text: 'x' });
    await bobHas('after the removal');
    expect(
      (await bobInbox()).some((m) =>
        (m.dime?.commonHeaders?.fields.subject ?? '').includes('dropped by the operator'),
      ),
    ).toBe(false);
    expect((await bounces()).some((b) => /dropped by the operator/.test(b.text))).toBe(false);
  });

  it('an unreachable DX for good: bounced once the retries are used up', async () => {
    await t.beta.stop();
    try {
      expect((await send({ to: BOB, subject: 'beta gone', text: 'x' })).response).toMatch(/^250 /);
      const b = await bounceFor(/beta gone/, 'the give-up bounce');
      expect(b.text).toMatch(/destination unreachable; gave up after 4 attempts/);
      await expectReturned(b, 'beta gone');
      await queueEmpty();
    } finally {
      await t.beta.start();
    }
  });

  it('a domain without a management record: sent by SMTP with DKIM (plaintext allowed), bounced when not', async () => {
    await t.publish(t.beta, (rs) => rs.filter((r) => r.name !== '_dx.beta.test'));
    forget();
    try {
      expect((await send({ to: BOB, subject: 'plain fallback', text: 'legacy way' })).response).toMatch(
        /^250 /,
      );
      const m = await bobHas('plain fallback');
      expect(m.info.metadata.kind).toBe('sealed');
      expect(m.text).toMatch(/^DKIM-Signature: .*d=alpha\.test/m);
      expect(m.text).toMatch(/dkim=pass/);
      expect(m.text).toMatch(/spf=pass/);
      // and mailauth itself, here, on the bytes beta received: alpha's DKIM signature verifies
      // against the key alpha publishes in the signed zone (`dime admin dns`)
      const verified = await dkimVerify(Buffer.from(m.text!, 'utf8'), {
        // mailauth's DNSResolver type has no MX objects; the resolver returns what mailauth reads
        resolver: createMailauthResolver({ servers: [t.dns.resolverAddress] }) as unknown as NonNullable<
          Parameters<typeof dkimVerify>[1]
        >['resolver'],
      });
      const alphaSig = verified.results.find((r) => r.signingDomain === 'alpha.test');
      expect(alphaSig?.status.result).toBe('pass');
      expect(alphaSig?.status.aligned).toBe('alpha.test');
      await t.alpha.reconfigure({ accounts: { allowPlaintext: false } });
      expect((await send({ to: BOB, subject: 'no plaintext please', text: 'x' })).response).toMatch(/^250 /);
      const b = await bounceFor(/no plaintext please/, 'the not-DIME-capable bounce');
      expect(b.text).toMatch(/destination not DIME-capable/);
    } finally {
      await t.publish(t.beta);
      await t.alpha.reconfigure({ accounts: { allowPlaintext: true } });
    }
  });

  it('an oversize message: the destination refuses SIZE (552) and the author gets a bounce', async () => {
    const big = randomBytes(300 * 1024);
    const r = await send({
      to: BOB,
      subject: 'too big for beta',
      text: 'see the attachment',
      attachments: [{ filename: 'big.bin', content: big }],
    });
    expect(r.response).toMatch(/^250 /);
    const b = await bounceFor(/too big for beta/, 'the oversize bounce');
    expect(b.text).toMatch(/552/);
    await expectReturned(b, 'too big for beta');
    await queueEmpty();
  });

  it('garbage and pipelining on the DMTP port: 500s, then 421 and close; the server keeps serving', async () => {
    const c = await LineClient.connectTls(t.beta.ports.dmtp);
    expect(await c.reply()).toMatch(/^220 dx\.beta\.test DMTPv1/);
    c.write(`${Array.from({ length: 12 }, (_, i) => `GARBAGE ${i} \u0001\u0002`).join('\r\n')}\r\n`);
    const replies: string[] = [];
    for (;;) {
      try {
        replies.push(await c.reply(5000));
      } catch {
        break;
      }
    }
    expect(replies.filter((r) => r.startsWith('500'))).not.toHaveLength(0);
    expect(replies.at(-1)).toMatch(/^421 /);
    await c.closed();
    await send({ to: BOB, subject: 'after garbage', text: 'x' });
    await bobHas('after garbage');
  });
});

/** beta's server certificate, DER. */
function beta509(t: TwoDomains): Uint8Array {
  return t.beta.running!.ctx.tls.certDer;
}

function toB64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64').replace(/=+$/, '');
}
