import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import PostalMime from 'postal-mime';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeObjectInput } from '../../../src/encoding/input.js';
import { loadKeys } from '../../../src/keys/index.js';
import { isOriginAuthored, openMessage, sealMessage, signAsOrigin } from '../../../src/message/index.js';
import { partsToMime } from '../../../src/message/mime/index.js';
import {
  BOUNCED_OBJECT_NAME,
  buildDimeBounce,
  type DimeBounceInput,
  MAX_BOUNCED_OBJECT,
} from '../../../src/server/outbound/dime-bounce.js';
import { parseSignet } from '../../../src/signet/index.js';
import { cliParties, dimeAsync } from '../../message/cli-helpers.js';
import { freshParties, sealActors } from '../../message/helpers.js';

const P = freshParties();

/** alice's original message to bob, as her origin sent it (author-sealed and origin-signed). */
const ORIGINAL = signAsOrigin(
  sealMessage({
    ...sealActors(P),
    commonHeaders: {
      date: 'Thu, 26 Nov 2026 05:00:00 +0000',
      to: 'bob@dest.test',
      from: 'alice@origin.test',
      subject: 'the lost one',
    },
    display: [{ data: 'Content-Type: text/plain\r\n\r\nhello bob\r\n' }],
  }),
  P.keys.origin,
  P.signets,
);

function input(over: Partial<DimeBounceInput> = {}): DimeBounceInput {
  return {
    origin: { name: 'origin.test', orgKeys: P.keys.origin, orgSignet: P.signets.origin },
    hostname: 'mx.origin.test',
    author: { address: 'alice@origin.test', signet: P.signets.author },
    recipient: 'bob@dest.test',
    reason: 'the destination refused the message: 554 not the current signet',
    code: 554,
    status: '5.0.0',
    subject: 'the lost one',
    original: ORIGINAL,
    arrivalDate: new Date('2026-11-26T05:00:00Z'),
    ...over,
  };
}

/** The bounce opened by its recipient (the original author) with every signature checked. */
function openAsAuthor(bounce: Uint8Array) {
  return openMessage(bounce, {
    actor: 'recipient',
    keys: P.keys.author,
    signets: {
      author: P.signets.origin,
      origin: P.signets.origin,
      destination: P.signets.origin,
      recipient: P.signets.author,
    },
  });
}

async function asMime(o: ReturnType<typeof openAsAuthor>) {
  const eml = await partsToMime({
    commonHeaders: o.commonHeaders!.raw,
    otherHeaders: o.otherHeaders,
    display: o.display.map((d) => d.data),
    attachments: o.attachments.map((d) => d.data),
  });
  return PostalMime.parse(Buffer.from(eml));
}

describe('DIME bounce (flow.md §3.2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dime-bounce-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is written by the origin's postmaster with the org signet, to the author, all signatures valid", async () => {
    const bounce = await buildDimeBounce(input());
    const o = openAsAuthor(bounce);
    expect(o.envelope.author).toBe('postmaster@origin.test');
    expect(o.envelope.recipient).toBe('alice@origin.test');
    expect(o.envelope.origin).toBe('origin.test');
    expect(o.envelope.destination).toBe('origin.test');
    expect(isOriginAuthored(o.envelope)).toBe(true);
    expect(o.signatures.chunks.map((c) => c.status)).toEqual(o.signatures.chunks.map(() => 'valid'));
    expect(o.signatures.tree).toBe('valid');
    expect(o.signatures.authorFull).toBe('valid');
    expect(o.signatures.originFull).toBe('valid');
    expect(o.commonHeaders!.fields.subject).toBe('Undelivered DIME message: the lost one');
    expect(o.commonHeaders!.fields.from).toMatch(/postmaster@origin\.test/);
    // the reason in a display chunk (67), the original whole in an attachment chunk (131)
    expect(o.display).toHaveLength(1);
    expect(o.attachments).toHaveLength(1);
    const mail = await asMime(o);
    expect(mail.text).toMatch(/could not be delivered to <bob@dest\.test>: the destination refused/);
    expect(mail.text).toMatch(/Status: 5\.0\.0/);
    expect(mail.text).toMatch(/Diagnostic: 554 /);
    expect(mail.attachments).toHaveLength(1);
    const att = mail.attachments[0]!;
    expect(att.filename).toBe(BOUNCED_OBJECT_NAME);
    expect(Buffer.from(att.content as ArrayBuffer).equals(Buffer.from(ORIGINAL))).toBe(true);
    // and the returned object still opens for its author, as sent
    const back = openMessage(new Uint8Array(att.content as ArrayBuffer), {
      actor: 'author',
      keys: P.keys.author,
      signets: P.signets,
    });
    expect(back.commonHeaders!.fields.subject).toBe('the lost one');
  });

  it('the origin and destination servers see the envelope and check the origin signatures only', async () => {
    const bounce = await buildDimeBounce(input());
    for (const actor of ['origin', 'destination'] as const) {
      const o = openMessage(bounce, {
        actor,
        keys: P.keys.origin,
        signets: {
          author: P.signets.origin,
          origin: P.signets.origin,
          destination: P.signets.origin,
          recipient: P.signets.author,
        },
      });
      expect(o.signatures.originFull).toBe('valid');
      expect(o.commonHeaders).toBeNull();
      expect(o.display).toHaveLength(0);
    }
  });

  it('nobody else opens it: the recipient of the original, or a user signet given as author', async () => {
    const bounce = await buildDimeBounce(input());
    expect(() =>
      openMessage(bounce, {
        actor: 'recipient',
        keys: P.keys.recipient,
        signets: {
          author: P.signets.origin,
          origin: P.signets.origin,
          destination: P.signets.origin,
          recipient: P.signets.recipient,
        },
      }),
    ).toThrow(expect.objectContaining({ code: expect.stringMatching(/DECRYPT_FAILED|SIGNET_MISMATCH/) }));
    expect(() =>
      openMessage(bounce, {
        actor: 'recipient',
        keys: P.keys.author,
        signets: {
          author: P.signets.author,
          origin: P.signets.origin,
          destination: P.signets.origin,
          recipient: P.signets.author,
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'SIGNET_MISMATCH' }));
  });

  it('an original over the limit is not attached, and the text says so', async () => {
    const big = new Uint8Array(MAX_BOUNCED_OBJECT + 1).fill(7);
    const o = openAsAuthor(await buildDimeBounce(input({ original: big, subject: null, code: null })));
    expect(o.attachments).toHaveLength(0);
    expect(o.commonHeaders!.fields.subject).toBe('Undelivered DIME message');
    const mail = await asMime(o);
    expect(mail.text).toMatch(new RegExp(`\\(${big.length} bytes\\) is larger than ${MAX_BOUNCED_OBJECT}`));
    expect(mail.text).not.toMatch(/Diagnostic: \d/);
  });

  it('any subject and reason text (non-ASCII, CR/LF, long): the bounce builds, opens valid and says them', async () => {
    const text = fc.string({ unit: 'binary', maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(fc.option(text, { nil: null }), text, async (subject, reason) => {
        const o = openAsAuthor(await buildDimeBounce(input({ subject, reason, original: ORIGINAL })));
        expect(o.signatures.originFull).toBe('valid');
        const mail = await asMime(o);
        const one = (x: string) => x.replace(/[\r\n]+/g, ' ').trim();
        // one header line: no CR/LF from the subject reaches the header block
        expect(mail.headers.filter((h) => h.key === 'subject')).toHaveLength(1);
        if (subject) expect(one(mail.subject ?? '')).toContain(one(subject.slice(0, 120)).slice(0, 20));
        // the reason on one line (a remote reply's line breaks become spaces)
        expect(mail.text).toContain(`: ${reason.replace(/[\r\n]+/g, ' ')}.`);
        expect(mail.attachments).toHaveLength(1);
      }),
      { numRuns: 100 },
    );
  });

  it('goes only to a user signet', async () => {
    await expect(
      buildDimeBounce(input({ author: { address: 'x@origin.test', signet: P.signets.origin } })),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('`dime message open --as recipient` picks the org signet for author and origin by fingerprint', async () => {
    const cli = await cliParties(dir, 'b');
    const file = (p: string) => new Uint8Array(readFileSync(p));
    const orgKeys = loadKeys(file(cli.key.origin)).keys;
    const orgSignet = parseSignet(decodeObjectInput(file(cli.signet.origin)).binary);
    const userSignet = parseSignet(decodeObjectInput(file(cli.signet.author)).binary);
    const bounce = await buildDimeBounce(
      input({
        origin: { name: 'origin.test', orgKeys, orgSignet },
        author: { address: 'alice@origin.test', signet: userSignet },
      }),
    );
    const path = join(dir, 'bounce.dime');
    writeFileSync(path, bounce);
    const r = await dimeAsync([
      ...['message', 'open', path, '--as', 'recipient', '--key', cli.key.author],
      ...['--signet', cli.signet.origin, '--signet', cli.signet.author, '--json'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = r.json as {
      envelope: { author: string };
      attachments: { name: string; size: number }[];
      signatures: Record<string, string>;
    };
    expect(j.envelope.author).toBe('postmaster@origin.test');
    expect(j.attachments.map((a) => a.name)).toEqual([BOUNCED_OBJECT_NAME]);
    expect(Object.values(j.signatures)).not.toContain('invalid');
    expect(j.signatures.author_full).toBe('valid');
    expect(j.signatures.origin_full).toBe('valid');
  });
});
