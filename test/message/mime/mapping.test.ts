import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DimeError } from '../../../src/errors/index.js';
import { formatCommonHeaders, parseCommonHeaders } from '../../../src/message/headers.js';
import {
  describeParts,
  joinMimeStream,
  mimeToParts,
  partsToMime,
  splitMimeStream,
} from '../../../src/message/mime/index.js';
import { collect } from '../../../src/message/mime/streams.js';
import { loadCases } from '../../helpers/vectors.js';
import {
  bytes,
  chunked,
  compose,
  expectRoundTrip,
  postalParse,
  sha256,
  splitCollected,
  text,
} from './helpers.js';

const crlf = (lines: string[]) => lines.map((l) => `${l}\r\n`).join('');
const HEAD = [
  'From: Alice <alice@alpha.test>',
  'To: Bob <bob@beta.test>',
  'Date: Wed, 25 Nov 2026 12:00:00 +0000',
  'Subject: Test',
  'Message-ID: <1@alpha.test>',
  'MIME-Version: 1.0',
];

async function expectDimeError(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DimeError);
  expect((e as DimeError).code).toBe(code);
}

describe('MIME → DIME headers (message.md §5.1, §8 steps 1–3)', () => {
  const eml = bytes(
    crlf([
      'Received: from x by y; Wed, 25 Nov 2026 12:00:00 +0000',
      'From: Alice <alice@alpha.test>',
      'To: Bob <bob@beta.test>,',
      '\tCarol <carol@beta.test>',
      'cc: Dave <dave@beta.test>',
      'Bcc: secret@alpha.test',
      'Subject: Hello',
      '   folded   world ',
      'Organization: Alpha Org',
      'Date: Wed, 25 Nov 2026 12:00:00 +0000',
      'Message-ID: <1@alpha.test>',
      'X-Folded: a',
      ' b',
      'Subject: second subject',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 7bit',
      'Content-Language: en',
      '',
      'Hello Bob.',
    ]),
  );

  it('writes chunk 33 in table order with exact labels and unfolded values', async () => {
    const parts = await mimeToParts(eml);
    expect(text(parts.commonHeaders)).toBe(
      crlf([
        'Date: Wed, 25 Nov 2026 12:00:00 +0000',
        'To: Bob <bob@beta.test>,\tCarol <carol@beta.test>',
        'CC: Dave <dave@beta.test>',
        'From: Alice <alice@alpha.test>',
        'Organization: Alpha Org',
        'Subject: Hello   folded   world',
      ]),
    );
    expect(parseCommonHeaders(parts.commonHeaders).subject).toBe('Hello   folded   world');
    expect(parts.commonFields).toEqual({
      date: 'Wed, 25 Nov 2026 12:00:00 +0000',
      to: 'Bob <bob@beta.test>,\tCarol <carol@beta.test>',
      cc: 'Dave <dave@beta.test>',
      from: 'Alice <alice@alpha.test>',
      organization: 'Alpha Org',
      subject: 'Hello   folded   world',
    });
  });

  it('puts every other field in chunk 34 as it is, and never Bcc, MIME-Version or the structure', async () => {
    const parts = await mimeToParts(eml);
    expect(text(parts.otherHeaders)).toBe(
      crlf([
        'Received: from x by y; Wed, 25 Nov 2026 12:00:00 +0000',
        'Message-ID: <1@alpha.test>',
        'X-Folded: a',
        ' b',
        'Subject: second subject',
        'Content-Language: en',
      ]),
    );
    const all = text(parts.commonHeaders) + text(parts.otherHeaders) + parts.display.map(text).join('');
    expect(all).not.toMatch(/secret|bcc/i);
    expect(text(parts.display[0]!)).toBe(
      crlf(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 7bit', '', 'Hello Bob.']),
    );
  });

  it('rebuilds the header block: 33 (Cc spelling), 34, MIME-Version, then the single entity', async () => {
    const { parts, rebuilt } = await expectRoundTrip(eml);
    expect(parts.attachments).toEqual([]);
    expect(text(rebuilt)).toBe(
      crlf([
        'Date: Wed, 25 Nov 2026 12:00:00 +0000',
        'To: Bob <bob@beta.test>,\tCarol <carol@beta.test>',
        'Cc: Dave <dave@beta.test>',
        'From: Alice <alice@alpha.test>',
        'Organization: Alpha Org',
        'Subject: Hello   folded   world',
        'Received: from x by y; Wed, 25 Nov 2026 12:00:00 +0000',
        'Message-ID: <1@alpha.test>',
        'X-Folded: a',
        ' b',
        'Subject: second subject',
        'Content-Language: en',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 7bit',
        '',
        'Hello Bob.',
      ]),
    );
    const back = await postalParse(rebuilt);
    expect(back.email.bcc).toBeUndefined();
    expect(back.email.subject).toBe('Hello   folded   world');
  });

  it('adds the current date and an empty subject when they are missing', async () => {
    const now = new Date(Date.UTC(2026, 0, 5, 7, 8, 9));
    const eml2 = bytes(crlf(['From: a@alpha.test', 'To: b@beta.test', '', 'hi']));
    const parts = await mimeToParts(eml2, { now });
    expect(text(parts.commonHeaders)).toBe(
      crlf(['Date: Mon, 05 Jan 2026 07:08:09 +0000', 'To: b@beta.test', 'From: a@alpha.test', 'Subject: ']),
    );
    expect(text(parts.otherHeaders)).toBe('\r\n');
    // no Content-Type: RFC 2045's default made explicit
    expect(text(parts.display[0]!)).toBe('Content-Type: text/plain\r\n\r\nhi\r\n');
    const { rebuilt } = await expectRoundTrip(eml2);
    const back = await postalParse(rebuilt);
    expect(back.root.headers.find((h) => h.key === 'subject')?.value).toBe('');
    // exact decoded bytes (postal-mime's own view normalizes line breaks of non-base64 bodies)
    const again = await describeParts(await mimeToParts(rebuilt));
    expect(again.display[0]).toMatchObject({ size: 4, sha256: sha256(bytes('hi\r\n')) });
    const fresh = await mimeToParts(eml2);
    const date = parseCommonHeaders(fresh.commonHeaders).date!;
    expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(60_000);
  });

  it('requires From and To (MISSING_FIELD)', async () => {
    await expectDimeError(
      mimeToParts(bytes(crlf(['To: b@beta.test', 'Subject: x', '', 'hi']))),
      'MISSING_FIELD',
    );
    await expectDimeError(
      mimeToParts(bytes(crlf(['From: a@alpha.test', 'Bcc: b@beta.test', '', 'hi']))),
      'MISSING_FIELD',
    );
    const e = await mimeToParts(bytes(crlf(['To: b@beta.test', '', 'hi']))).catch((x: DimeError) => x);
    expect((e as DimeError).context).toEqual({ header: 'From' });
    // the streaming splitter fails before any item
    const it0 = splitMimeStream([bytes(crlf(['From: a@alpha.test', '', 'hi']))]);
    await expectDimeError(it0.next(), 'MISSING_FIELD');
  });

  it('keeps encoded words and raw UTF-8 (RFC 6532) header values', async () => {
    const eml2 = await compose({
      from: { name: 'Jörg Ünïcødé 😀', address: 'jorg@alpha.test' },
      to: [{ name: 'Zoë, the "boss"', address: 'zoe@beta.test' }, 'plain@beta.test'],
      cc: 'Ωmega <omega@beta.test>',
      subject: 'Grüße aus Köln — ünïcødé 😀 and a long subject line that needs folding in the output',
      headers: { 'X-Unicode': 'värde med ünïcødé' },
      text: 'hej',
    });
    const { parts, rebuilt } = await expectRoundTrip(eml2);
    const fields = parseCommonHeaders(parts.commonHeaders);
    expect(fields.subject).toMatch(/^=\?UTF-8\?/);
    const before = await postalParse(eml2);
    const after = await postalParse(rebuilt);
    expect(after.email.subject).toBe(before.email.subject);
    expect(after.email.from).toEqual(before.email.from);
    expect(after.email.to).toEqual(before.email.to);
    expect(after.email.cc).toEqual(before.email.cc);

    const raw = new Uint8Array(
      Buffer.from(
        crlf(['From: Jörg <jorg@alpha.test>', 'To: Zoë <zoe@beta.test>', 'Subject: Grüße 😀', '', 'hi']),
        'utf8',
      ),
    );
    const rawParts = await mimeToParts(raw);
    expect(parseCommonHeaders(rawParts.commonHeaders)).toMatchObject({
      from: 'Jörg <jorg@alpha.test>',
      subject: 'Grüße 😀',
    });
    const rawBack = await postalParse(await partsToMime(rawParts));
    expect(rawBack.email.subject).toBe('Grüße 😀');
    expect(rawBack.email.from).toEqual({ name: 'Jörg', address: 'jorg@alpha.test' });
  });
});

describe('MIME → DIME body (message.md §8 step 4)', () => {
  it('keeps multipart/alternative whole in one display part', async () => {
    const eml = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      subject: 'alt',
      text: 'plain text',
      html: '<p>html text</p>',
    });
    const { parts } = await expectRoundTrip(eml);
    expect(parts.display).toHaveLength(1);
    expect(parts.attachments).toHaveLength(0);
    expect(text(parts.display[0]!)).toMatch(/^Content-Type: multipart\/alternative;\r\n boundary=/);
    const info = await describeParts(parts);
    expect(info.display[0]).toMatchObject({
      kind: 'display',
      mime: true,
      type: 'multipart/alternative',
      name: null,
    });
  });

  it('splits multipart/mixed: text and alternatives to 67, attachments to 131, with their info', async () => {
    const bin = randomBytes(70_000);
    const eml = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      subject: 'mixed',
      text: 'see attached',
      html: '<p>see attached</p>',
      attachments: [
        { filename: 'report.pdf', content: bin },
        { filename: 'notes.txt', content: 'line 1\nline 2\n' },
        { filename: 'data.bin', content: Buffer.alloc(0) },
      ],
    });
    const { parts } = await expectRoundTrip(eml);
    expect(parts.display).toHaveLength(1);
    expect(parts.attachments).toHaveLength(3);
    const info = await describeParts(parts);
    expect(info.attachments.map((a) => [a.name, a.type, a.disposition])).toEqual([
      ['report.pdf', 'application/pdf', 'attachment'],
      ['notes.txt', 'text/plain', 'attachment'],
      ['data.bin', 'application/octet-stream', 'attachment'],
    ]);
    expect(info.attachments[0]).toMatchObject({
      size: bin.length,
      sha256: sha256(bin),
      mime: true,
      index: 0,
    });
    expect(info.attachments[1]).toMatchObject({ size: 14, sha256: sha256(bytes('line 1\nline 2\n')) });
    expect(info.attachments[2]).toMatchObject({ size: 0, sha256: sha256(new Uint8Array(0)) });
    for (const [i, a] of info.attachments.entries()) {
      expect(a.chunk_sha256).toBe(sha256(parts.attachments[i]!));
      expect(a.chunk_size).toBe(parts.attachments[i]!.length);
    }
  });

  it('keeps inline images: in multipart/related (display) and directly in mixed (attachment, cid kept)', async () => {
    const png = randomBytes(3000);
    const related = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      subject: 'cid',
      html: '<p><img src="cid:logo@alpha"></p>',
      attachments: [{ filename: 'logo.png', content: png, cid: 'logo@alpha' }],
    });
    const r = await expectRoundTrip(related);
    expect(r.parts.display).toHaveLength(1);
    expect(text(r.parts.display[0]!)).toMatch(/^Content-Type: multipart\/related/);
    const back = await postalParse(r.rebuilt);
    expect(back.email.attachments[0]).toMatchObject({
      contentId: '<logo@alpha>',
      related: true,
      filename: 'logo.png',
    });
    expect(sha256(new Uint8Array(back.email.attachments[0]!.content as ArrayBuffer))).toBe(sha256(png));

    const b64 = Buffer.from(png).toString('base64');
    const mixed = bytes(
      crlf([
        ...HEAD,
        'Content-Type: multipart/mixed; boundary="M"',
        '',
        'preamble',
        '--M',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p><img src="cid:img1@x"></p>',
        '--M',
        'Content-Type: image/png',
        'Content-ID: <img1@x>',
        'Content-Disposition: inline',
        'Content-Transfer-Encoding: base64',
        '',
        ...(b64.match(/.{1,76}/g) ?? []),
        '--M--',
        'epilogue',
      ]),
    );
    const m = await expectRoundTrip(mixed);
    expect(m.parts.display.map(text)).toEqual([
      'Content-Type: text/html; charset=utf-8\r\n\r\n<p><img src="cid:img1@x"></p>',
    ]);
    const info = await describeParts(m.parts);
    expect(info.attachments[0]).toMatchObject({
      type: 'image/png',
      disposition: 'inline',
      content_id: '<img1@x>',
      name: null,
      size: png.length,
      sha256: sha256(png),
    });
  });

  it('keeps nested multiparts and their part tree', async () => {
    const eml = bytes(
      crlf([
        ...HEAD,
        'Content-Type: multipart/mixed; boundary="outer"',
        '',
        '--outer',
        'Content-Type: multipart/alternative; boundary="alt"',
        '',
        '--alt',
        'Content-Type: text/plain',
        '',
        'plain',
        '--alt',
        'Content-Type: multipart/related; boundary="rel"',
        '',
        '--rel',
        'Content-Type: text/html',
        '',
        '<img src="cid:a">',
        '--rel',
        'Content-Type: image/gif',
        'Content-ID: <a>',
        'Content-Transfer-Encoding: base64',
        '',
        'R0lGODlhAQABAAAAACw=',
        '--rel--',
        '--alt--',
        '--outer',
        'Content-Type: multipart/mixed; boundary="inner"',
        '',
        '--inner',
        'Content-Type: text/plain',
        '',
        'inner text',
        '--inner',
        'Content-Type: application/zip',
        'Content-Disposition: attachment; filename="a.zip"',
        '',
        'PK',
        '--inner--',
        '--outer',
        'Content-Type: message/rfc822',
        'Content-Disposition: attachment; filename="fwd.eml"',
        '',
        'From: x@y.z',
        'Subject: forwarded',
        '',
        'forwarded body',
        '--outer',
        'Content-Type: application/pdf; name="doc.pdf"',
        'Content-Disposition: attachment; filename="doc.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        'JVBERi0=',
        '--outer--',
      ]),
    );
    const { parts } = await expectRoundTrip(eml);
    expect(parts.display.map((d) => text(d).split('\r\n')[0])).toEqual([
      'Content-Type: multipart/alternative; boundary="alt"',
      'Content-Type: multipart/mixed; boundary="inner"',
    ]);
    expect(parts.attachments.map((d) => text(d).split('\r\n')[0])).toEqual([
      'Content-Type: message/rfc822',
      'Content-Type: application/pdf; name="doc.pdf"',
    ]);
    const info = await describeParts(parts);
    expect(info.attachments.map((a) => [a.type, a.name, a.size])).toEqual([
      ['message/rfc822', 'fwd.eml', 49],
      ['application/pdf', 'doc.pdf', 5],
    ]);
    // a nested multipart is rebuilt from its own boundary (no preamble or epilogue)
    expect(text(parts.display[1]!)).toBe(
      crlf([
        'Content-Type: multipart/mixed; boundary="inner"',
        '',
        '--inner',
        'Content-Type: text/plain',
        '',
        'inner text',
        '--inner',
        'Content-Type: application/zip',
        'Content-Disposition: attachment; filename="a.zip"',
        '',
        'PK',
        '--inner--',
      ]),
    );
  });

  it('round-trips a binary attachment, LF-only line endings and 8-bit bodies', async () => {
    const bin = new Uint8Array(256 * 64).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
    const eml = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      subject: 'bin',
      text: 'körper',
      attachments: [
        { filename: 'all-bytes.bin', content: Buffer.from(bin), contentType: 'application/x-test' },
      ],
    });
    const { parts } = await expectRoundTrip(eml);
    const info = await describeParts(parts);
    expect(info.attachments[0]).toMatchObject({
      type: 'application/x-test',
      size: bin.length,
      sha256: sha256(bin),
    });

    const lf = bytes(
      [
        'From: a@alpha.test',
        'To: b@beta.test',
        'Content-Type: multipart/mixed; boundary=B',
        '',
        '--B',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: 8bit',
        '',
        'l\xe4ngd\r\n\r\n',
        '--B',
        'Content-Type: application/octet-stream',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'a=00=FF=0D=0Ab',
        '--B--',
        '',
      ].join('\n'),
    );
    const r = await expectRoundTrip(lf);
    expect(text(r.parts.display[0]!)).toBe(
      'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nl\xe4ngd\r\n\r\n',
    );
    expect((await describeParts(r.parts)).attachments[0]).toMatchObject({
      size: 6,
      sha256: sha256(Uint8Array.of(0x61, 0, 0xff, 13, 10, 0x62)),
    });
  });

  it('round-trips non-ASCII file names (RFC 2231 and encoded words)', async () => {
    const eml = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      subject: 'names',
      text: 'x',
      attachments: [
        { filename: 'résumé – 履歴書.pdf', content: 'pdf' },
        { filename: 'данные.csv', content: 'a,b' },
        {
          filename: '😀 emoji name with spaces and a rather long tail to force continuations.txt',
          content: 'e',
        },
      ],
    });
    const { parts, rebuilt } = await expectRoundTrip(eml);
    const info = await describeParts(parts);
    expect(info.attachments.map((a) => a.name)).toEqual([
      'résumé – 履歴書.pdf',
      'данные.csv',
      '😀 emoji name with spaces and a rather long tail to force continuations.txt',
    ]);
    const back = await postalParse(rebuilt);
    expect(back.email.attachments.map((a) => a.filename)).toEqual(info.attachments.map((a) => a.name));
  });
});

describe('multipart/mixed layout decisions (part order and tree survive 67-then-131)', () => {
  const mixed = (children: string[][]) =>
    bytes(
      crlf([
        ...HEAD,
        'Content-Type: multipart/mixed; boundary="MX"',
        '',
        ...children.flatMap((c) => ['--MX', ...c]),
        '--MX--',
      ]),
    );
  const textPart = (s: string) => ['Content-Type: text/plain', '', s];
  const att = (name: string) => [
    'Content-Type: application/octet-stream',
    `Content-Disposition: attachment; filename="${name}"`,
    '',
    name,
  ];

  it('a single display child keeps the multipart/mixed whole', async () => {
    const { parts } = await expectRoundTrip(mixed([textPart('only')]));
    expect(parts.display.map(text)).toEqual([
      crlf([
        'Content-Type: multipart/mixed; boundary="MX"',
        '',
        '--MX',
        'Content-Type: text/plain',
        '',
        'only',
        '--MX--',
      ]),
    ]);
  });

  it('attachments first (or only) keep the multipart/mixed whole', async () => {
    for (const kids of [[att('a')], [att('a'), textPart('t')], []]) {
      const { parts } = await expectRoundTrip(mixed(kids));
      expect(parts.display).toHaveLength(1);
      expect(parts.attachments).toHaveLength(0);
      expect(text(parts.display[0]!)).toMatch(/^Content-Type: multipart\/mixed; boundary="MX"\r\n\r\n/);
    }
  });

  it('text after an attachment stays an attachment part, so the order survives', async () => {
    const { parts } = await expectRoundTrip(
      mixed([textPart('t1'), textPart('t2'), att('a'), textPart('t3'), att('b')]),
    );
    expect(parts.display.map((d) => text(d).slice(-2))).toEqual(['t1', 't2']);
    expect(parts.attachments.map((d) => text(d).slice(-2))).toEqual(
      ['a', 't3', 'b'].map((s) => s.padStart(2, '\n')),
    );
  });

  it('a first display child longer than the lookahead is split out anyway', async () => {
    const long = 'x'.repeat(5000);
    const parts = await mimeToParts(mixed([textPart(long)]), { lookahead: 1000 });
    expect(parts.display.map(text)).toEqual([`Content-Type: text/plain\r\n\r\n${long}`]);
    const same = await mimeToParts(mixed([textPart(long), att('a')]), { lookahead: 1000 });
    expect(same.display).toEqual(parts.display);
  });

  it('refuses structures it cannot place (BAD_MIME) rather than dropping parts', async () => {
    // a boundary parameter on a leaf: mailsplit finds nested parts inside it
    const leafWithParts = mixed([
      textPart('t'),
      [
        'Content-Type: \x00multipart/related; boundary="R"',
        '',
        '--R',
        'Content-Type: text/plain',
        '',
        'inner',
        '--R--',
      ],
    ]);
    await expectDimeError(mimeToParts(leafWithParts), 'BAD_MIME');
    // a nested multipart without boundary
    await expectDimeError(
      mimeToParts(mixed([textPart('t'), ['Content-Type: multipart/alternative', '', 'x']])),
      'BAD_MIME',
    );
    // at the top level both are kept as read, in one display part
    const top = bytes(crlf([...HEAD, 'Content-Type: multipart/alternative', '', '--x', 'y']));
    expect(text((await mimeToParts(top)).display[0]!)).toBe(
      'Content-Type: multipart/alternative\r\n\r\n--x\r\ny\r\n',
    );
  });

  it('gives parts without Content-Type their default type explicitly', async () => {
    const eml = bytes(
      crlf([
        ...HEAD,
        'Content-Type: multipart/mixed; boundary="MX"',
        '',
        '--MX',
        '',
        'no header at all',
        '--MX',
        'Content-Type: multipart/digest; boundary="D"',
        '',
        '--D',
        '',
        'From: x@y.z',
        '',
        'digest entry',
        '--D--',
        '--MX--',
      ]),
    );
    const { parts } = await expectRoundTrip(eml);
    expect(text(parts.display[0]!)).toBe('Content-Type: text/plain\r\n\r\nno header at all');
    expect(text(parts.display[1]!)).toContain('--D\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.z');
  });
});

describe('DIME → MIME of raw chunk data (message.md §8 Decision, libdime vectors)', () => {
  const cases = loadCases('reference/libdime-message.json');
  const draftOf = (c: (typeof cases)[number]) => c.draft as Record<string, string | null>;
  const common = (d: Record<string, string | null>) =>
    formatCommonHeaders({
      date: d.header_date!,
      to: d.header_to!,
      from: d.header_from!,
      organization: d.header_organization,
      subject: d.header_subject!,
    });

  it('wraps libdime display data as text/plain, decoded bytes exact', async () => {
    const d = draftOf(cases[0]!);
    const display = Buffer.from(d.display_0_hex!, 'hex');
    expect(display.toString()).toBe('Hello Bob.\r\nThis is a DIME test.\r\n');
    const parts = { commonHeaders: common(d), otherHeaders: d.other_headers!, display: [display] };
    const eml = await partsToMime(parts);
    expect(text(eml)).toBe(
      crlf([
        'Date: Wed, 25 Nov 2026 12:00:00 +0000',
        'To: User <user@beta.test>',
        'From: User <user@alpha.test>',
        'Organization: Alpha Org',
        'Subject: Test subject',
        'X-Test: 1',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Hello Bob.',
        'This is a DIME test.',
      ]),
    );
    const parsed = await postalParse(eml);
    expect(parsed.email.text?.trim()).toBe('Hello Bob.\nThis is a DIME test.');
    expect(parsed.email.headers.find((h) => h.key === 'x-test')?.value).toBe('1');
    const info = await describeParts(parts);
    expect(info.display[0]).toMatchObject({
      mime: false,
      type: 'text/plain',
      size: display.length,
      sha256: sha256(display),
    });
    // and back: the wrapped message maps to a MIME entity holding the same bytes
    const again = await mimeToParts(eml);
    const info2 = await describeParts(again);
    expect(info2.display[0]).toMatchObject({ mime: true, type: 'text/plain', sha256: sha256(display) });
  });

  it('wraps libdime attachment data as application/octet-stream attachment-N', async () => {
    const c = cases.find((x) => draftOf(x).attach_0_hex)!;
    const d = draftOf(c);
    const display = Buffer.from(d.display_0_hex!, 'hex');
    const attachment = Buffer.from(d.attach_0_hex!, 'hex');
    const html = Buffer.from('\r\n  <!DOCTYPE html><html><body>hi\r</body></html>');
    const parts = {
      commonHeaders: common(d),
      otherHeaders: d.other_headers!,
      display: [display, html],
      attachments: [attachment, attachment],
    };
    const eml = await partsToMime(parts, { boundary: 'b1' });
    const s = text(eml);
    expect(s).toContain(
      crlf([
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Hello Bob.',
        'This is a DIME test.',
        '',
        '--b1',
        'Content-Type: text/html; charset=utf-8',
      ]),
    );
    expect(s).toContain(
      crlf([
        'Content-Type: application/octet-stream',
        'Content-Disposition: attachment; filename="attachment-1"',
        'Content-Transfer-Encoding: base64',
        '',
        attachment.toString('base64'),
        '--b1',
      ]),
    );
    expect(s).toContain('filename="attachment-2"');
    const parsed = await postalParse(eml);
    expect(parsed.email.html).toContain('<!DOCTYPE html><html><body>hi');
    expect(parsed.email.attachments.map((a) => [a.filename, a.mimeType, a.disposition])).toEqual([
      ['attachment-1', 'application/octet-stream', 'attachment'],
      ['attachment-2', 'application/octet-stream', 'attachment'],
    ]);
    expect(Buffer.from(parsed.email.attachments[0]!.content as ArrayBuffer)).toEqual(attachment);
    // decoded content of the rebuilt parts: exactly the chunk data
    const again = await describeParts(await mimeToParts(eml));
    expect([...again.display, ...again.attachments].map((i) => [i.mime, i.size, i.sha256])).toEqual(
      [display, html, attachment, attachment].map((b) => [true, b.length, sha256(b)]),
    );
    const info = await describeParts(parts);
    expect(info.display.map((i) => i.type)).toEqual(['text/plain', 'text/html']);
    expect(info.attachments.map((i) => [i.name, i.type, i.size, i.sha256, i.chunk_sha256])).toEqual([
      ['attachment-1', 'application/octet-stream', attachment.length, sha256(attachment), sha256(attachment)],
      ['attachment-2', 'application/octet-stream', attachment.length, sha256(attachment), sha256(attachment)],
    ]);
  });

  it('decides MIME entity or raw data by the header block', async () => {
    const { classifyPrefix } = await import('../../../src/message/mime/index.js');
    const c = (s: string, complete = true) => classifyPrefix(Buffer.from(s, 'latin1'), complete);
    expect(c('Content-Type: text/plain\r\n\r\nx')).toBe('mime');
    expect(c('X-A: 1\r\n folded\r\ncontent-type : text/plain\n\n')).toBe('mime');
    expect(c('Subject: x\r\n\r\nbody')).toBe('raw'); // no Content-Type
    expect(c('Content-Type: text/plain\r\n')).toBe('raw'); // no empty line
    expect(c('Content-Type: text/plain\r\n', false)).toBe('more');
    expect(c('Hello Bob.\r\nContent-Type: x\r\n\r\n')).toBe('raw');
    expect(c(' Content-Type: x\r\n\r\n')).toBe('raw');
    expect(c('\r\nContent-Type: x\r\n\r\n')).toBe('raw');
    expect(c('\x00\x01\x02 attachment bytes', false)).toBe('raw');
    expect(c('Content-Ty', false)).toBe('more');
  });
});

describe('streaming agrees with buffered', () => {
  it('gives the same parts for any input chunking, and lets a consumer skip part data', async () => {
    const eml = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      subject: 'chunks',
      text: 'a\r\nb\rc\nd\r\n',
      html: '<b>x</b>',
      attachments: [
        { filename: 'f.bin', content: randomBytes(5000) },
        { filename: 'g.txt', content: '--\r\n\r\n' },
      ],
    });
    const buffered = await mimeToParts(eml);
    for (const sizes of [[1], [2], [3], [7, 1, 13], [64], [1000]]) {
      expect(await splitCollected(chunked(eml, sizes))).toEqual(buffered);
    }
    // skipping the data of a part: the next part is still right
    const seen: string[] = [];
    for await (const item of splitMimeStream(chunked(eml, [100]))) {
      if (item.kind === 'attachment') seen.push(text(await collect(item.data)));
    }
    expect(seen).toEqual(buffered.attachments.map(text));
  });

  it('reads a Node Readable', async () => {
    const eml = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      text: 'x',
      attachments: [{ content: 'y' }],
    });
    const fromReadable = await splitCollected(Readable.from(chunked(eml, [10]).map((c) => Buffer.from(c))));
    expect(fromReadable).toEqual(await mimeToParts(eml));
  });

  it('refuses part data read after the next part was requested', async () => {
    const eml = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      text: 'x',
      attachments: [{ content: 'y' }],
    });
    const items = [];
    for await (const item of splitMimeStream([eml])) items.push(item);
    const display = items.find((i) => i.kind === 'display')!;
    expect(() => (display.data as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()).toThrow(DimeError);
  });

  it('joins the same bytes streamed (with or without counts) as buffered', async () => {
    const eml = await compose({
      from: 'a@alpha.test',
      to: 'b@beta.test',
      subject: 'join',
      text: 't',
      attachments: [{ filename: 'a', content: 'aa' }],
    });
    for (const src of [eml, bytes(crlf([...HEAD, 'Content-Type: text/plain', '', 'single']))]) {
      const parts = await mimeToParts(src);
      const buffered = await partsToMime(parts, { boundary: 'J' });
      const stream = () => [
        ...parts.display.map((d) => ({ kind: 'display' as const, data: chunked(d, [3]) })),
        ...parts.attachments.map((d) => ({ kind: 'attachment' as const, data: chunked(d, [5]) })),
      ];
      expect(await collect(joinMimeStream(parts, stream(), { boundary: 'J' }))).toEqual(buffered);
      const counts = { display: parts.display.length, attachments: parts.attachments.length };
      expect(await collect(joinMimeStream(parts, stream(), { boundary: 'J', counts }))).toEqual(buffered);
    }
    // a first display part over the lookahead is assumed to have company: still a valid message
    const single = await mimeToParts(bytes(crlf([...HEAD, 'Content-Type: text/plain', '', 'x'.repeat(100)])));
    const joined = await collect(
      joinMimeStream(single, [{ kind: 'display', data: single.display[0]! }], {
        lookahead: 10,
        boundary: 'L',
      }),
    );
    expect(text(joined)).toContain('Content-Type: multipart/mixed; boundary="L"');
    const again = await describeParts(await mimeToParts(joined, { lookahead: 10 }));
    expect(again.display.map((i) => [i.type, i.sha256])).toEqual([
      ['text/plain', sha256(bytes(`${'x'.repeat(100)}\r\n`))],
    ]);
  });

  it('checks its inputs', async () => {
    const parts = await mimeToParts(bytes(crlf([...HEAD, '', 'x'])));
    await expectDimeError(partsToMime(parts, { boundary: 'bad boundary ' }), 'BAD_INPUT');
    await expectDimeError(partsToMime({ ...parts, commonHeaders: bytes('Nope: x\r\n') }), 'BAD_MESSAGE');
    await expectDimeError(
      collect(joinMimeStream(parts, [{ kind: 'other' as 'display', data: bytes('x') }])),
      'BAD_INPUT',
    );
    await expectDimeError(mimeToParts(bytes('x'.repeat(300)), { maxLineLength: 100 }), 'TOO_LARGE');
    await expectDimeError(
      mimeToParts(
        (async function* () {
          yield bytes('From: a@b\r\n');
          throw new Error('disk gone');
        })(),
      ),
      'IO_ERROR',
    );
    // no parts at all still gives a message
    const none = await partsToMime({ ...parts, display: [] });
    expect(text(none)).toMatch(/MIME-Version: 1\.0\r\nContent-Type: text\/plain; charset=utf-8\r\n\r\n$/);
  });
});
