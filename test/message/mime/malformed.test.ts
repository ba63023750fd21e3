import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DimeError } from '../../../src/errors/index.js';
import { describeParts, type MimeParts, mimeToParts, partsToMime } from '../../../src/message/mime/index.js';
import { fuzzRuns } from '../../helpers/fuzz.js';
import { chunked, compose, splitCollected } from './helpers.js';

type Outcome = { ok: true; parts: MimeParts } | { ok: false; error: unknown };

async function settle(p: Promise<MimeParts>): Promise<Outcome> {
  try {
    return { ok: true, parts: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

const NOW = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));

/** Fails instead of hanging. */
async function withDeadline<T>(p: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Any input either maps to parts or is refused with a DimeError; the streaming splitter (any
 * chunking) agrees; parts that came out can be described, written back and split again.
 */
async function checkInput(input: Uint8Array, sizes: number[]): Promise<void> {
  const options = { maxLineLength: 4096, now: NOW };
  const buffered = await settle(mimeToParts(input, options));
  const streamed = await settle(splitCollected(chunked(input, sizes), options));
  if (!buffered.ok) {
    expect(buffered.error).toBeInstanceOf(DimeError);
    expect(streamed.ok).toBe(false);
    if (!streamed.ok) expect((streamed.error as DimeError).code).toBe((buffered.error as DimeError).code);
    return;
  }
  expect(streamed).toEqual(buffered);
  const { parts } = buffered;
  expect(parts.display.length).toBeGreaterThanOrEqual(1);
  await describeParts(parts);
  const rebuilt = await partsToMime(parts);
  const again = await mimeToParts(rebuilt);
  expect(again.commonHeaders).toEqual(parts.commonHeaders);
}

const TOKENS = [
  'From: a@alpha.test',
  'To: b@beta.test',
  'Subject: =?UTF-8?B?w6Q=?=',
  'Content-Type: multipart/mixed; boundary=B',
  'Content-Type: multipart/alternative; boundary="C"',
  'Content-Type: multipart/related; boundary=B',
  'Content-Type: multipart/mixed',
  'Content-Type: text/plain',
  'Content-Type: message/rfc822',
  'Content-Type: application/octet-stream; name="=?UTF-8?Q?f=C3=A4?="',
  "Content-Disposition: attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC",
  'Content-Disposition: inline',
  'Content-Transfer-Encoding: base64',
  'Content-Transfer-Encoding: quoted-printable',
  '--B',
  '--B--',
  '--C',
  '--C--',
  '--',
  '',
  ' folded',
  '\tfolded',
  'From mbox line',
  '=',
  '=0',
  '=C3=A4=',
  'AAEC/w==',
  'x: y',
  ':',
  '\x00\xff\xfe',
];
const lineBreak = fc.constantFrom('\r\n', '\n', '\r', '\r\r\n', '');
const structured = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...TOKENS) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
      ),
      lineBreak,
    ),
    { maxLength: 60 },
  )
  .map((pairs) => new Uint8Array(Buffer.from(pairs.map(([t, nl]) => t + nl).join(''), 'latin1')));
const headed = fc
  .tuple(fc.constantFrom('', 'From: a@alpha.test\r\nTo: b@beta.test\r\n'), structured)
  .map(([h, rest]) => new Uint8Array(Buffer.concat([Buffer.from(h), rest])));
const RUNS = fuzzRuns(1000);
const sizesArb = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 });

describe('malformed MIME is parsed or refused with a DimeError, never anything else, never a hang', () => {
  let samples: Uint8Array[] = [];
  beforeAll(async () => {
    const big = Buffer.alloc(3000, 0xab);
    samples = (
      await Promise.all([
        compose({
          from: 'a@alpha.test',
          to: 'b@beta.test',
          subject: 's',
          text: 't\r\n--x\r\n',
          html: '<p>h</p>',
        }),
        compose({
          from: 'Ä <a@alpha.test>',
          to: 'b@beta.test',
          text: 'hi',
          attachments: [
            { filename: 'ä.bin', content: big },
            { filename: 'i.png', content: big, cid: 'c@d' },
            { content: 'q=p\r\n', contentTransferEncoding: 'quoted-printable' },
          ],
          html: '<img src="cid:c@d">',
        }),
      ])
    ).map((b) => new Uint8Array(b));
  });

  it(
    'random bytes, structured garbage, truncated and damaged messages',
    async () => {
      const damaged = fc
        .tuple(
          fc.nat(),
          fc.nat(),
          fc.nat(),
          fc.constantFrom('truncate', 'insert', 'delete', 'flip'),
          fc.constantFrom('\r', '\n', '\r\n', '--', '\r\n--', '\x00', '=', ' '),
        )
        .map(([which, pos, len, op, ins]) => {
          const src = Buffer.from(samples[which % samples.length]!);
          const at = pos % (src.length + 1);
          switch (op) {
            case 'truncate':
              return new Uint8Array(src.subarray(0, at));
            case 'insert':
              return new Uint8Array(
                Buffer.concat([src.subarray(0, at), Buffer.from(ins, 'latin1'), src.subarray(at)]),
              );
            case 'delete':
              return new Uint8Array(Buffer.concat([src.subarray(0, at), src.subarray(at + 1 + (len % 40))]));
            default: {
              const out = new Uint8Array(src);
              if (at < out.length) out[at] = out[at]! ^ (1 << (len % 8));
              return out;
            }
          }
        });
      const input = fc.oneof(
        { weight: 2, arbitrary: fc.uint8Array({ maxLength: 1500 }) },
        { weight: 3, arbitrary: headed },
        { weight: 3, arbitrary: damaged },
      );
      await fc.assert(
        fc.asyncProperty(input, sizesArb, (bytes, sizes) => withDeadline(checkInput(bytes, sizes))),
        { numRuns: RUNS },
      );
    },
    Math.max(60_000, RUNS * 100),
  );

  it('refuses the limits it is given with TOO_LARGE', async () => {
    const header =
      'From: a@alpha.test\r\nTo: b@beta.test\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n';
    const many = header + '--B\r\nContent-Type: text/plain\r\n\r\nx\r\n'.repeat(20) + '--B--\r\n';
    const e = await mimeToParts(Buffer.from(many), { maxNodes: 5 }).catch((x: unknown) => x);
    expect((e as DimeError).code).toBe('TOO_LARGE');
    const long = `From: a@alpha.test\r\nTo: b@beta.test\r\nX-Long: ${'y'.repeat(5000)}\r\n\r\nbody`;
    const e2 = await mimeToParts(Buffer.from(long), { maxHeaderSize: 1000 }).catch((x: unknown) => x);
    expect((e2 as DimeError).code).toBe('TOO_LARGE');
  });
});
