import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import MailComposer from 'nodemailer/lib/mail-composer';
import PostalMime from 'postal-mime';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputFile, sealMimeFile } from '../../src/message/files.js';
import {
  FileSource,
  FileStore,
  openSource,
  partChunks,
  signAsOriginSource,
} from '../../src/message/index.js';
import { joinMimeStream } from '../../src/message/mime/index.js';
import { tempDir } from '../helpers/cli.js';
import { freshParties, sealActors } from './helpers.js';

/**
 * Random MIME messages (nodemailer's MailComposer) through the whole streaming pipeline the CLI
 * uses: sealMimeFile (two passes over the file) → origin signing file to file → the recipient's
 * openSource from the file → joinMimeStream. postal-mime reads the same message from both ends:
 * headers, texts, attachment names, types and bytes survive.
 */
const RUNS = Number(process.env.DIME_MIME_RUNS ?? 50);
const parties = freshParties();
const dir = tempDir('dime-mime-seal-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (b: ArrayBuffer | Uint8Array | string) =>
  createHash('sha256')
    .update(typeof b === 'string' ? b : new Uint8Array(b as ArrayBuffer))
    .digest('hex');

const word = fc.stringMatching(/^[A-Za-z0-9äöüßé✓ ]{1,12}$/);
const mailArb = fc.record({
  subject: fc.array(word, { minLength: 1, maxLength: 4 }).map((w) => w.join(' ')),
  cc: fc.option(fc.constant('Carol <carol@dest.test>'), { nil: undefined }),
  text: fc.option(
    fc.array(fc.oneof(word, fc.constant('\n'), fc.constant('.')), { maxLength: 60 }).map((a) => a.join('')),
    { nil: undefined },
  ),
  html: fc.option(
    word.map((w) => `<p>${w}</p>`),
    { nil: undefined },
  ),
  attachments: fc.array(
    fc.record({
      filename: fc.stringMatching(/^[a-z]{1,8}\.(bin|pdf|txt)$/),
      content: fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.from(b)),
      contentType: fc.constantFrom('application/octet-stream', 'application/pdf', 'image/png'),
    }),
    { maxLength: 3 },
  ),
});

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(Buffer.from(b));
  return Buffer.concat(out);
}

describe('random MIME round trip through streaming seal, origin signing and open', () => {
  it(
    'keeps headers, texts and attachments',
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(mailArb, async (mail) => {
          const tag = `${n++}`;
          const eml = await new MailComposer({
            from: 'Alice <alice@origin.test>',
            to: 'Bob <bob@dest.test>',
            date: new Date('2026-11-28T10:00:00Z'),
            messageId: `<${tag}@origin.test>`,
            ...mail,
          })
            .compile()
            .build();
          const emlPath = join(dir, `${tag}.eml`);
          writeFileSync(emlPath, eml);
          const sealed = new OutputFile(join(dir, `${tag}.sealed`));
          await sealMimeFile(
            emlPath,
            {
              ...sealActors(parties),
            },
            sealed,
          );
          await sealed.commit();
          const finalPath = join(dir, `${tag}.final`);
          const src = FileSource.open(sealed.path);
          signAsOriginSource(src, parties.keys.origin, parties.signets, (size) =>
            FileStore.create(finalPath, size),
          ).store.close();
          src.close();

          const file = FileSource.open(finalPath);
          const o = openSource(file, {
            actor: 'recipient',
            keys: parties.keys.recipient,
            signets: parties.signets,
          });
          const back = await collect(
            joinMimeStream(
              { commonHeaders: o.commonHeaders!.raw, otherHeaders: o.otherHeaders },
              [
                ...o.display.map((p) => ({ kind: 'display' as const, data: partChunks(file, o, p, 1000) })),
                ...o.attachments.map((p) => ({
                  kind: 'attachment' as const,
                  data: partChunks(file, o, p, 1000),
                })),
              ],
              { counts: { display: o.display.length, attachments: o.attachments.length } },
            ),
          );
          file.close();
          const a = await PostalMime.parse(eml);
          const b = await PostalMime.parse(back);
          expect(b.subject).toBe(a.subject);
          expect(b.from).toEqual(a.from);
          expect(b.to).toEqual(a.to);
          expect(b.cc).toEqual(a.cc);
          expect(b.messageId).toBe(a.messageId);
          expect(b.date).toBe(a.date);
          expect(b.text).toBe(a.text);
          expect(b.html).toBe(a.html);
          const atts = (e: typeof a) =>
            e.attachments.map((x) => [x.filename, x.mimeType, sha256(x.content as ArrayBuffer)]);
          expect(atts(b)).toEqual(atts(a));
          for (const f of ['eml', 'sealed', 'final']) rmSync(join(dir, `${tag}.${f}`), { force: true });
        }),
        { numRuns: RUNS },
      );
    },
    Math.max(120_000, RUNS * 3000),
  );
});
