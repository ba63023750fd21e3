import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCommonHeaders } from '../../../src/message/headers.js';
import {
  classifyPrefix,
  describeParts,
  joinMimeStream,
  mimeToParts,
  partsToMime,
} from '../../../src/message/mime/index.js';
import { collect } from '../../../src/message/mime/streams.js';
import { fuzzRuns } from '../../helpers/fuzz.js';
import {
  type ComposeOptions,
  chunked,
  compose,
  expectRoundTrip,
  postalParse,
  sha256,
  splitCollected,
} from './helpers.js';

// printable unicode text (graphemes, no control characters), and some ASCII with MIME-ish syntax
const unicode = (maxLength: number) =>
  fc
    .string({ unit: 'grapheme', maxLength })
    .map((s) => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ''));
const tricky = fc.constantFrom(
  '--',
  '--boundary',
  'From me',
  '=?UTF-8?Q?x?=',
  ' ',
  '\t',
  ':',
  '"',
  ';',
  '=',
  '.',
);
const headerText = fc
  .array(fc.oneof({ weight: 3, arbitrary: unicode(12) }, tricky), { maxLength: 6 })
  .map((a) => a.join(' ').trim());
const bodyLine = fc.oneof(
  { weight: 4, arbitrary: unicode(60) },
  { weight: 1, arbitrary: tricky },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 70, maxLength: 300 }) },
);
const body = fc
  .tuple(fc.array(bodyLine, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'))
  .map(([lines, nl]) => lines.join(nl));

const word = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
  minLength: 1,
  maxLength: 8,
});
const address = fc.record({
  name: fc.oneof(fc.constant(''), headerText),
  address: fc
    .tuple(word, word, fc.constantFrom('test', 'example', 'org'))
    .map(([l, d, t]) => `${l}@${d}.${t}`),
});

const attachment = fc.record(
  {
    filename: fc.oneof(
      fc.constant(undefined),
      unicode(30).filter((s) => s.trim().length > 0),
    ),
    content: fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
    contentType: fc.constantFrom(
      undefined,
      'application/octet-stream',
      'application/pdf',
      'image/png',
      'text/plain',
      'text/csv',
    ),
    contentDisposition: fc.constantFrom(undefined, 'inline', 'attachment'),
    contentTransferEncoding: fc.constantFrom(undefined, 'base64', 'quoted-printable'),
    cid: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      word.map((w) => `${w}@cid`),
    ),
  },
  { requiredKeys: ['content'] },
);

const RUNS = fuzzRuns(300);

const mailArb: fc.Arbitrary<ComposeOptions> = fc
  .record({
    from: address,
    to: fc.array(address, { minLength: 1, maxLength: 3 }),
    cc: fc.option(fc.array(address, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    subject: fc.option(headerText, { nil: undefined }),
    headers: fc.dictionary(
      word.map((w) => `X-${w}`),
      headerText,
      { maxKeys: 3 },
    ),
    text: fc.option(body, { nil: undefined }),
    html: fc.option(
      body.map((b) => `<p>${b}</p>`),
      { nil: undefined },
    ),
    attachments: fc.array(attachment, { maxLength: 4 }),
  })
  .map((m) => {
    const opts: ComposeOptions = { ...m };
    // a cid image is only embedded beside an html body
    if (!m.html) opts.attachments = m.attachments.map(({ cid: _cid, ...a }) => a);
    return opts;
  });

describe('MIME → DIME → MIME is lossless (message.md §8), random MailComposer messages', () => {
  it(
    'keeps headers, part tree, types, file names and decoded bytes; streaming equals buffered',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          mailArb,
          fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
          async (mail, sizes) => {
            const eml = await compose(mail);
            const { parts } = await expectRoundTrip(eml);
            expect(parts.display.length).toBeGreaterThanOrEqual(1);
            expect(await splitCollected(chunked(eml, sizes))).toEqual(parts);
            // attachment info agrees with postal-mime's view of the original (base64 content is exact there)
            const info = await describeParts(parts);
            const original = await postalParse(eml);
            for (const a of info.attachments) {
              const match = original.email.attachments.find(
                (o) =>
                  (o.filename ?? null) === a.name &&
                  sha256(new Uint8Array(o.content as ArrayBuffer)) === a.sha256,
              );
              const encoded = /Content-Transfer-Encoding: base64/i.test(
                Buffer.from(parts.attachments[a.index]!).toString(),
              );
              if (encoded && !a.type.startsWith('text/')) expect(match).toBeDefined();
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    Math.max(60_000, RUNS * 200),
  );
});

// chunk data as libdime writes it (raw text or bytes, not a MIME entity)
const rawData = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 2000 }),
    fc
      .array(
        fc.constantFrom(
          'Hello',
          ' ',
          '\r\n',
          '\n',
          '\r',
          '\t',
          '=',
          '.',
          'ä',
          '<html>',
          '<!DOCTYPE html>',
          '--x',
          'a: b',
        ),
        {
          minLength: 1,
          maxLength: 40,
        },
      )
      .map((a) => new Uint8Array(Buffer.from(a.join(''), 'utf8'))),
  )
  .filter((b) => classifyPrefix(Buffer.from(b), true) === 'raw');

describe('raw chunk data (message.md §8 Decision) decodes back to exactly the chunk bytes', () => {
  it(
    'for any display and attachment data, streamed or buffered',
    async () => {
      const common = formatCommonHeaders({
        date: 'Wed, 25 Nov 2026 12:00:00 +0000',
        to: 'b@beta.test',
        from: 'a@alpha.test',
        subject: 'raw',
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(rawData, { minLength: 1, maxLength: 3 }),
          fc.array(rawData, { maxLength: 3 }),
          async (display, attachments) => {
            const parts = { commonHeaders: common, otherHeaders: '\r\n', display, attachments };
            const eml = await partsToMime(parts, { boundary: 'R' });
            const streamed = await collect(
              joinMimeStream(
                parts,
                [
                  ...display.map((d) => ({ kind: 'display' as const, data: chunked(d, [7]) })),
                  ...attachments.map((d) => ({ kind: 'attachment' as const, data: chunked(d, [5]) })),
                ],
                { boundary: 'R' },
              ),
            );
            expect(streamed).toEqual(eml);
            // split again (a lone display part stands alone; otherwise each part is one child)
            const back = await describeParts(await mimeToParts(eml));
            const want = await describeParts(parts);
            const got = [...back.display, ...back.attachments];
            expect(got.map((i) => [i.size, i.sha256])).toEqual(
              [...display, ...attachments].map((b) => [b.length, sha256(b)]),
            );
            expect(got.map((i) => [i.type, i.name])).toEqual(
              [...want.display, ...want.attachments].map((i) => [i.type, i.name]),
            );
          },
        ),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    },
    Math.max(60_000, RUNS * 200),
  );
});
