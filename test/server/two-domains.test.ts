/**
 * Issue 6, server side, end to end: alpha.test and beta.test, each with its own server, real DNS
 * (Knot with signed zones, Unbound validating), real TLS, real sockets. A user on alpha submits
 * with nodemailer; alpha writes the DIME message as the author (the user key of the session),
 * signs it as the origin, queues it and delivers it over DMTP to beta's DX (found through the `_dx`
 * record, certificate pinned by it); beta opens it as the destination, checks the origin, stores it
 * as received; the beta user opens it as the recipient after a login.
 */

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimeResolver } from '../../src/resolver/resolver.js';
import { SignetResolver } from '../../src/resolver/signets.js';
import { startTwoDomains, type TwoDomains } from '../helpers/two-domains.js';
import { eventually, readFolder } from './helpers.js';

const ALICE = 'alice@alpha.test';
const BOB = 'bob@beta.test';
const PW_A = 'alice password alpha';
const PW_B = 'bob password beta';

function signetResolverFor(t: TwoDomains): SignetResolver {
  const ports: Record<string, number> = {
    'dx.alpha.test:26': t.alpha.ports.dmtp,
    'dx.beta.test:26': t.beta.ports.dmtp,
  };
  return new SignetResolver({
    resolver: new DimeResolver({ servers: [t.dns.resolverAddress] }),
    portOverrides: (host, port) => ports[`${host}:${port}`] ?? port,
  });
}

function submitAlpha(t: TwoDomains) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: t.alpha.ports.submission,
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: ALICE, pass: PW_A },
  });
}

for (const engine of (process.env.DIME_TEST_ENGINES?.split(',') ?? ['sqlite', 'postgres']) as (
  | 'sqlite'
  | 'postgres'
)[]) {
  describe(`two domains over DMTP (${engine})`, () => {
    let t: TwoDomains;
    beforeAll(async () => {
      t = await startTwoDomains({
        mode: 'inline',
        ...(process.env.DIME_TEST_LOG ? { log: process.env.DIME_TEST_LOG } : {}),
        ...(engine === 'postgres'
          ? {
              store: (n) => ({
                engine: 'postgres',
                connectionString: process.env.DIME_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
                schema: `dime_2d_${n}_${Math.random().toString(16).slice(2, 10)}`,
                poolSize: 4,
              }),
            }
          : {}),
      });
      await t.alpha.addUser(ALICE, PW_A);
      await t.beta.addUser(BOB, PW_B);
    }, 120_000);
    afterAll(async () => {
      await t?.stop();
    });

    it('alice@alpha → bob@beta: submitted, written as DIME, delivered over DMTP, opened by bob', async () => {
      const started = Date.now();
      const r = await submitAlpha(t).sendMail({
        from: ALICE,
        to: BOB,
        subject: 'Hello over DMTP',
        text: 'This went from alpha to beta as a DIME message.',
      });
      expect(r.response).toMatch(/^250 /);
      const beta = t.beta.running!.ctx.store;
      const inbox = await eventually(
        async () => {
          const m = await readFolder(beta, BOB, PW_B, 'INBOX', signetResolverFor(t));
          return m.length > 0 ? m : null;
        },
        20_000,
        'delivery to bob',
      );
      expect(inbox).toHaveLength(1);
      const m = inbox[0]!;
      expect(m.info.metadata.kind).toBe('dime');
      expect(m.info.metadata.originDomain).toBe('alpha.test');
      expect(m.info.metadata.verification).toBe('pass');
      expect(Buffer.from(m.info.metadata.trace!).toString()).toMatch(/^dx\.beta\.test \S+Z received\r\n$/);
      const opened = m.dime!;
      expect(opened.commonHeaders!.fields.subject).toBe('Hello over DMTP');
      expect(opened.commonHeaders!.fields.from).toContain(ALICE);
      expect(opened.envelope.author).toBe(ALICE);
      expect(opened.envelope.recipient).toBe(BOB);
      expect(Buffer.from(opened.display[0]!.data).toString()).toContain('This went from alpha to beta');
      expect(opened.signatures.originFull).toBe('valid');
      expect(opened.signatures.tree).toBe('valid');
      // the author keeps a Sent copy; the queue is empty
      const sent = await readFolder(t.alpha.running!.ctx.store, ALICE, PW_A, 'Sent');
      expect(sent.some((x) => x.text?.includes('Hello over DMTP'))).toBe(true);
      // (alpha removes its queue item after beta's 250, which comes after bob's copy is stored)
      await eventually(
        async () => (await t.alpha.running!.ctx.store.listQueue()).length === 0,
        5_000,
        'an empty queue at alpha',
      );
      expect(Date.now() - started).toBeLessThan(20_000);
    });
  });
}
