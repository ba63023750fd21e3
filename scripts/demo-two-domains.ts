/**
 * `npm run demo:two-domains`: two DIME domains on this machine, a message from one to the other.
 *
 * 1. A real DNS world on loopback (test/helpers/dns-harness.ts: Knot serving DNSSEC-signed zones
 *    alpha.test and beta.test under a test root, Unbound validating with that root as trust anchor).
 * 2. Two `dime server start` processes (the built CLI), one per domain, on free loopback ports,
 *    resolving through Unbound; each zone publishes what `dime admin dns` prints (MX, the `_dx`
 *    management record with the org POK and the certificate pin, DKIM, SPF, DMARC, TLSA) and
 *    `dx.<domain> A 127.0.0.1`.
 * 3. alice@alpha.test and bob@beta.test are created; alice submits a message with nodemailer
 *    (port 587, STARTTLS, AUTH PLAIN); alpha writes it as a DIME message, signs it as the origin
 *    and delivers it over DMTP to beta's DX (record found with DNSSEC, certificate pinned).
 * 4. bob logs in (STACIE), opens his user key and the stored message as the recipient, verifying
 *    the author's and both servers' signatures (the author's signet fetched over DMTP from alpha).
 *
 * Exit 0 once the message was delivered and opened. The last stdout line is one JSON object:
 * `{"delivered":true,"opened":true,"dnssec":{…},"timings_ms":{…},…}`.
 */

import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import PostalMime from 'postal-mime';
import { partsToMime } from '../src/message/mime/index.js';
import { openMessage, peekEnvelope } from '../src/message/open.js';
import { MemorySource } from '../src/message/source.js';
import { DimeResolver } from '../src/resolver/resolver.js';
import { SignetResolver } from '../src/resolver/signets.js';
import { loadServerConfig } from '../src/server/config.js';
import { DataPaths } from '../src/server/data-dir.js';
import { openServerStore } from '../src/server/store.js';
import { parseOrgSignet, parseUserSignet } from '../src/signet/index.js';
import { verifyLogin } from '../src/store/index.js';
import { startTwoDomains, type TwoDomains } from '../test/helpers/two-domains.js';

const ALICE = 'alice@alpha.test';
const BOB = 'bob@beta.test';
const PW_A = 'alice demo password';
const PW_B = 'bob demo password';
const SUBJECT = 'Hello from alpha.test';
const BODY = 'This message left alpha.test as a DIME object and crossed to beta.test over DMTP.';

const t0 = performance.now();
const timings: Record<string, number> = {};
let last = t0;
function mark(name: string): void {
  const now = performance.now();
  timings[name] = Math.round(now - last);
  last = now;
}
function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

let world: TwoDomains | null = null;
let exitCode = 1;
try {
  say('starting Knot (signed zones) and Unbound (validating), and two dime servers ...');
  world = await startTwoDomains({ mode: 'process', ...(process.env.DIME_DEMO_LOG ? { log: 'info' } : {}) });
  mark('setup');
  say(`  DNS resolver ${world.dns.resolverAddress}`);
  say(
    `  alpha.test: dx.alpha.test, submission ${world.alpha.ports.submission}, dmtp ${world.alpha.ports.dmtp}`,
  );
  say(
    `  beta.test:  dx.beta.test,  submission ${world.beta.ports.submission}, dmtp ${world.beta.ports.dmtp}`,
  );

  await world.alpha.addUser(ALICE, PW_A);
  await world.beta.addUser(BOB, PW_B);
  mark('users');
  say(`created ${ALICE} and ${BOB}`);

  const resolver = new DimeResolver({ servers: [world.dns.resolverAddress] });
  const alphaRecord = await resolver.lookupManagementRecord('alpha.test');
  const betaRecord = await resolver.lookupManagementRecord('beta.test');
  say(
    `_dx.beta.test: ${betaRecord.dnssec} (pol=${betaRecord.record.policy}, dx=${betaRecord.record.dx.join(',')})`,
  );

  const sent = await nodemailer
    .createTransport({
      host: '127.0.0.1',
      port: world.alpha.ports.submission,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: ALICE, pass: PW_A },
    })
    .sendMail({ from: ALICE, to: BOB, subject: SUBJECT, text: BODY });
  mark('submit');
  say(`alice submitted: ${sent.response}`);

  const betaConfig = loadServerConfig({ dataDir: world.beta.dataDir, env: {} });
  const store = await openServerStore(betaConfig, new DataPaths(world.beta.dataDir));
  try {
    const bobUser = (await store.findUser((await store.getDomain('beta.test'))!.id, 'bob'))!;
    const inbox = (await store.getFolder(bobUser.id, 'INBOX'))!;
    const deadline = Date.now() + 30_000;
    let stored = (await store.listMessages(inbox.id))[0];
    while (!stored) {
      if (Date.now() > deadline) throw new Error('the message did not arrive at beta.test within 30 s');
      await new Promise((r) => setTimeout(r, 50));
      stored = (await store.listMessages(inbox.id))[0];
    }
    mark('delivery');
    say(
      `beta stored it: kind=${stored.metadata.kind}, origin=${stored.metadata.originDomain}, verification=${stored.metadata.verification}, ${stored.size} bytes`,
    );

    const session = await verifyLogin(store, BOB, PW_B);
    try {
      const blob = (await store.readBlob(inbox.id, stored.uid))!;
      const keys = session.userKeys!;
      const env = peekEnvelope(new MemorySource(blob), 'recipient', keys);
      const signets = new SignetResolver({
        resolver,
        portOverrides: (host, port) =>
          port === 26 && host === 'dx.alpha.test'
            ? world!.alpha.ports.dmtp
            : port === 26 && host === 'dx.beta.test'
              ? world!.beta.ports.dmtp
              : port,
      });
      const author = await signets.resolveUser(env.author!, { fingerprint: env.authorFingerprint! });
      const opened = openMessage(blob, {
        actor: 'recipient',
        keys,
        signets: {
          author: author.signet,
          origin: author.org.signet,
          destination: parseOrgSignet(session.domain.orgSignet!),
          recipient: parseUserSignet(session.user.signet!),
        },
      });
      mark('open');
      const subject = opened.commonHeaders?.fields.subject ?? '';
      // the parts back to MIME (message.md §8), then read as a mail client would
      const mime = await partsToMime({
        commonHeaders: opened.commonHeaders!.fields,
        otherHeaders: opened.otherHeaders,
        display: opened.display.map((p) => p.data),
        attachments: opened.attachments.map((p) => p.data),
      });
      const body = (await PostalMime.parse(mime)).text ?? '';
      if (subject !== SUBJECT || !body.includes(BODY))
        throw new Error('the opened message is not the one sent');
      say(`bob opened it: From ${opened.commonHeaders?.fields.from}, Subject "${subject}"`);
      say(
        `signatures: author tree ${opened.signatures.tree}, author full ${opened.signatures.authorFull}, origin full ${opened.signatures.originFull}`,
      );
      const total = Math.round(performance.now() - t0);
      exitCode = 0;
      say(
        JSON.stringify({
          delivered: true,
          opened: true,
          from: ALICE,
          to: BOB,
          subject,
          dnssec: {
            'alpha.test': alphaRecord.dnssec,
            'beta.test': betaRecord.dnssec,
            author_signet: author.org.dnssec,
          },
          dx_certificate_check: author.org.server?.tls.certificate.check ?? null,
          stored: {
            kind: stored.metadata.kind,
            origin: stored.metadata.originDomain,
            verification: stored.metadata.verification,
          },
          signatures: {
            tree: opened.signatures.tree,
            author_full: opened.signatures.authorFull,
            origin_full: opened.signatures.originFull,
          },
          timings_ms: { ...timings, total },
        }),
      );
    } finally {
      session.destroy();
    }
  } finally {
    await store.close();
  }
} catch (e) {
  process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
} finally {
  if (world) {
    const codes = await Promise.all([world.alpha.stop(), world.beta.stop()]);
    await world.stop();
    if (codes.some((c) => c !== 0 && c !== null)) {
      process.stderr.write(`a server did not exit cleanly: ${JSON.stringify(codes)}\n`);
    }
  }
}
process.exit(exitCode);
