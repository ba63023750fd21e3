/**
 * Graceful shutdown: stop() closes the listeners at once, tells an idle session 421, lets a
 * session that is in the middle of DATA finish its message (stored, 250), then closes the store.
 */

import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { LineClient } from '../protocol/line-client.js';
import { cleanupServers, readFolder, startTestServer } from './helpers.js';

describe('drain on stop', () => {
  afterAll(cleanupServers);

  it('finishes the message being received, 421 to idle sessions, refuses new connections', async () => {
    const srv = await startTestServer();
    await srv.addUser('bob@dime.test', 'bob drain password');
    const idle = await LineClient.connect(srv.ports.smtp);
    expect(await idle.reply()).toMatch(/^220 /);
    const busy = await LineClient.connect(srv.ports.smtp);
    expect(await busy.reply()).toMatch(/^220 /);
    expect(await busy.command('EHLO client.test')).toMatch(/^250/);
    expect(await busy.command('MAIL FROM:<someone@example.org>')).toMatch(/^250/);
    expect(await busy.command('RCPT TO:<bob@dime.test>')).toMatch(/^250/);
    expect(await busy.command('DATA')).toMatch(/^354/);
    busy.write('Subject: in flight\r\n\r\nfirst half\r\n');
    await new Promise((r) => setTimeout(r, 100));

    const stopping = srv.stop();
    // the idle one is told at once; nobody new gets in
    expect(await idle.reply()).toMatch(/^421 \S+ Service not available, closing transmission channel$/);
    await idle.closed();
    await new Promise((r) => setTimeout(r, 100));
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(srv.ports.smtp, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);

    // the busy one finishes its message and gets its 250
    busy.write('second half\r\n.\r\n');
    expect(await busy.reply()).toMatch(/^250 /);
    await stopping;
    await busy.closed();

    // it was stored: read it from a fresh store on the same data directory
    const { openSqliteStore } = await import('../../src/store/sqlite/open.js');
    const store = await openSqliteStore({ path: `${srv.dataDir}/mail.db` });
    try {
      const inbox = await readFolder(store, 'bob@dime.test', 'bob drain password');
      expect(inbox.map((m) => m.text)).toEqual([expect.stringContaining('second half')]);
    } finally {
      await store.close();
    }
  });
});
