/**
 * Our port 25 with a real third-party client: swaks (Debian package) sends legacy mail over
 * STARTTLS to a local user, and it lands sealed for them. And RFC 5321 §4.5.1: RCPT TO:<Postmaster>
 * (no domain) reaches the primary domain's postmaster.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSealedBox } from '../../src/crypto/sealed-box.js';
import { cleanupServers, readFolder, startTestServer, type TestServer } from './helpers.js';
import { runScript } from './smtp-script.js';

const run = promisify(execFile);

const BOB = 'bob@dime.test';
const PW_B = 'bob swaks password';

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
  await srv.addUser(BOB, PW_B);
});
afterAll(cleanupServers);

describe('port 25 with swaks and the postmaster', () => {
  it('swaks delivers to a local user over STARTTLS; the message lands sealed and opens after a login', async () => {
    const { stdout } = await run('swaks', [
      '--server',
      `127.0.0.1:${srv.ports.smtp}`,
      '--helo',
      'swaks.example.org',
      '--from',
      'carol@example.org',
      '--to',
      BOB,
      '--header',
      'Subject: via swaks',
      '--body',
      'hello from swaks',
      '--tls',
      '--timeout',
      '10',
    ]);
    expect(stdout).toMatch(/<- {2}220 Ready to start TLS/);
    expect(stdout).toMatch(/^=== TLS started with cipher TLSv1\.3/m);
    expect(stdout).toMatch(/<~ {2}250 OK: queued as /);
    const inbox = await readFolder(srv.store, BOB, PW_B);
    const m = inbox.find((x) => x.text?.includes('Subject: via swaks'));
    expect(m).toBeDefined();
    expect(m!.info.metadata.kind).toBe('sealed');
    expect(m!.text).toContain('hello from swaks');
    expect(m!.text).toMatch(/^Received: from swaks\.example\.org /m);
    const blob = await srv.store.readBlob(m!.info.folderId, m!.info.uid);
    expect(isSealedBox(blob!)).toBe(true);
    expect(Buffer.from(blob!).includes('hello from swaks')).toBe(false);
  });

  it('RCPT TO:<Postmaster> is the postmaster of the primary domain: 550 without one, delivered to its alias', async () => {
    const steps = [
      { send: 'EHLO client.example.org\r\n', replies: 1 },
      { send: 'MAIL FROM:<sender@example.org>\r\n', replies: 1 },
      { send: 'RCPT TO:<Postmaster>\r\n', replies: 1 },
      { send: 'DATA\r\n', replies: 1 },
      { send: 'Subject: for the postmaster\r\n\r\nhi\r\n.\r\n', replies: 1 },
      { send: 'QUIT\r\n', replies: 1 },
    ];
    const before = await runScript(srv.ports.smtp, steps.slice(0, 3));
    expect(before.steps[2]!.replies).toEqual([expect.stringMatching(/^550 5\.1\.1 /)]);

    const domain = (await srv.store.getDomain('dime.test'))!;
    const bob = (await srv.store.findUser(domain.id, 'bob'))!;
    await srv.store.addAlias(domain.id, 'postmaster', bob.id);
    const r = await runScript(srv.ports.smtp, steps);
    expect(r.steps.map((s) => s.replies.map((x) => x.slice(0, 3)))).toEqual([
      ['250'],
      ['250'],
      ['250'],
      ['354'],
      ['250'],
      ['221'],
    ]);
    const inbox = await readFolder(srv.store, BOB, PW_B);
    const m = inbox.find((x) => x.text?.includes('Subject: for the postmaster'));
    expect(m?.info.metadata.kind).toBe('sealed');
  });
});
