/**
 * The spam-filter hook on port 25 with the real rspamd (Debian 12, test/helpers/rspamd-harness.ts):
 * GTUBE is refused with 550, an ordinary message is stored (sealed) with rspamd's X-Spam headers;
 * with the filter configured but unreachable the mail still flows, marked unchecked (a warning is
 * logged).
 */

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort, type RspamdInstance, startRspamd } from '../helpers/rspamd-harness.js';
import { cleanupServers, readFolder, startTestServer, type TestServer } from './helpers.js';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const BOB = 'bob@dime.test';
const PW = 'bob spam password';

describe('spam filter (rspamd) on port 25', () => {
  let rspamd: RspamdInstance;
  let withFilter: TestServer;
  let deadFilter: TestServer;

  beforeAll(async () => {
    rspamd = await startRspamd();
    withFilter = await startTestServer({ config: { spamFilter: { rspamdUrl: rspamd.url } } });
    deadFilter = await startTestServer({
      config: { spamFilter: { rspamdUrl: `http://127.0.0.1:${await freeLoopbackPort()}`, timeoutMs: 1000 } },
    });
    await withFilter.addUser(BOB, PW);
    await deadFilter.addUser(BOB, PW);
  }, 120_000);
  afterAll(async () => {
    await cleanupServers();
    await rspamd?.stop();
  });

  const mx = (s: TestServer) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: s.ports.smtp,
      secure: false,
      tls: { rejectUnauthorized: false },
    });

  it('refuses GTUBE with 550 and stores ordinary mail with the verdict headers', async () => {
    await expect(
      mx(withFilter).sendMail({ from: 'spammer@example.org', to: BOB, subject: 'buy', text: `${GTUBE}\r\n` }),
    ).rejects.toThrow(/550 5\.7\.1/);
    const r = await mx(withFilter).sendMail({
      from: 'friend@example.org',
      to: BOB,
      subject: 'lunch',
      text: 'Lunch at noon tomorrow? The usual place.',
    });
    expect(r.response).toMatch(/^250 /);
    const inbox = await readFolder(withFilter.store, BOB, PW);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]!.text).toMatch(/^X-Spam-Action: /m);
    expect(inbox[0]!.text).toMatch(/^X-Spam-Score: /m);
    expect(inbox[0]!.text).toMatch(/^Authentication-Results: /m);
  });

  it('an unreachable filter never stops mail: stored, marked unchecked', async () => {
    const r = await mx(deadFilter).sendMail({
      from: 'friend@example.org',
      to: BOB,
      subject: 'hi',
      text: 'hello',
    });
    expect(r.response).toMatch(/^250 /);
    const inbox = await readFolder(deadFilter.store, BOB, PW);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]!.text).toMatch(/^X-Spam-Checked: no \(filter unavailable\)/m);
  });
});
