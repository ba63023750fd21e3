/**
 * buildDsn (RFC 3464 / RFC 6522): parsed back with postal-mime, every field checked; the original
 * as message/rfc822 or text/rfc822-headers; global DSNs (RFC 6533) for non-ASCII addresses.
 */
import PostalMime, { type Email } from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { buildDsn, type DsnInput } from '../../../src/server/mail/dsn.js';

const original = new TextEncoder().encode(
  'From: Alice <alice@sender.test>\r\nTo: Bob <bob@remote.test>\r\nSubject: Grüße aus Zürich\r\n' +
    'Message-ID: <orig-1@sender.test>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nDer Käse ist fertig.\r\n',
);

const base: DsnInput = {
  reportingMta: 'mx.dime.test',
  dsnFrom: 'Mail Delivery System <MAILER-DAEMON@mx.dime.test>',
  to: 'alice@sender.test',
  originalEnvelopeFrom: 'alice@sender.test',
  arrivalDate: new Date('2024-01-01T10:00:05Z'),
  recipients: [
    {
      address: 'bob@remote.test',
      action: 'failed',
      status: '5.1.1',
      diagnostic:
        '550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown in virtual mailbox table',
      remoteMta: 'mx.remote.test',
    },
  ],
  originalMessage: original,
  date: new Date('2024-01-01T10:00:06Z'),
};

const text = (b: Uint8Array | ArrayBuffer | string) =>
  typeof b === 'string' ? b : new TextDecoder().decode(b instanceof Uint8Array ? b : new Uint8Array(b));

/** The blocks of a message/delivery-status body: field name (lower case) → value (unfolded). */
function statusBlocks(body: string): Record<string, string>[] {
  // (postal-mime hands text-like parts over with LF line ends; the raw DSN is checked for CRLF)
  return body
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n\r?\n/)
    .filter((b) => b.trim() !== '')
    .map((block) =>
      Object.fromEntries(
        block
          .split(/\r?\n/)
          .filter((line) => line !== '')
          .map((line) => {
            const i = line.indexOf(':');
            return [line.slice(0, i).toLowerCase(), line.slice(i + 1).trim()];
          }),
      ),
    );
}

async function parse(dsn: Uint8Array): Promise<Email> {
  return PostalMime.parse(dsn);
}

describe('buildDsn', () => {
  it('a bounce: multipart/report with notification, delivery-status and the original message', async () => {
    const dsn = buildDsn(base);
    const raw = text(dsn);
    // every line ends in CRLF and fits SMTP's limit
    expect(raw).not.toMatch(/[^\r]\n/);
    for (const line of raw.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(998);
    expect(raw).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/m);

    const email = await parse(dsn);
    expect(email.from).toEqual({ name: 'Mail Delivery System', address: 'MAILER-DAEMON@mx.dime.test' });
    expect(email.to).toEqual([{ name: '', address: 'alice@sender.test' }]);
    expect(email.subject).toBe('Undelivered Mail Returned to Sender');
    expect(new Date(email.date!).toISOString()).toBe('2024-01-01T10:00:06.000Z');
    expect(email.messageId).toMatch(/^<[0-9a-f]+\.dsn@mx\.dime\.test>$/);
    expect(email.inReplyTo).toBe('<orig-1@sender.test>');
    expect(email.references).toBe('<orig-1@sender.test>');
    const header = (k: string) => email.headers.find((h) => h.key === k)?.value;
    expect(header('auto-submitted')).toBe('auto-replied');
    expect(header('mime-version')).toBe('1.0');

    // the human part
    expect(email.text).toContain('This is the mail system at host mx.dime.test.');
    expect(email.text).toContain('<bob@remote.test> (host mx.remote.test said: 550 5.1.1 <bob@remote.test>');
    expect(email.text).toContain('permanent error');

    // the machine part
    const report = email.attachments.find((a) => a.mimeType === 'message/delivery-status');
    expect(report).toBeDefined();
    const [perMessage, perRecipient, ...rest] = statusBlocks(text(report!.content));
    expect(rest).toEqual([]);
    expect(perMessage).toEqual({
      'reporting-mta': 'dns; mx.dime.test',
      'x-original-envelope-from': 'rfc822; alice@sender.test',
      'arrival-date': 'Mon, 01 Jan 2024 10:00:05 +0000',
    });
    expect(perRecipient).toEqual({
      'final-recipient': 'rfc822; bob@remote.test',
      action: 'failed',
      status: '5.1.1',
      'remote-mta': 'dns; mx.remote.test',
      'diagnostic-code':
        'smtp; 550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown in virtual mailbox table',
    });

    // the original, byte for byte, as message/rfc822 (8bit declared: it is not 7-bit clean)
    const returned = email.attachments.find((a) => a.mimeType === 'message/rfc822');
    expect(returned).toBeDefined();
    // byte for byte in the raw report, followed by the closing delimiter
    const boundary = /boundary="([^"]+)"/.exec(raw)![1]!;
    expect(raw.endsWith(`\r\n\r\n${text(original)}\r\n--${boundary}--\r\n`)).toBe(true);
    // (postal-mime hands it over with LF line ends)
    expect(text(returned!.content).replace(/\r?\n/g, '\r\n').startsWith(text(original))).toBe(true);
    expect(raw).toMatch(
      /Content-Type: message\/rfc822\r\nContent-Description: Undelivered Message\r\nContent-Transfer-Encoding: 8bit\r\n/,
    );
    const inner = await PostalMime.parse(returned!.content as ArrayBuffer);
    expect(inner.subject).toBe('Grüße aus Zürich');
    expect(inner.text?.trim()).toBe('Der Käse ist fertig.');
  });

  it('headers only (RET=HDRS): text/rfc822-headers without the body', async () => {
    const email = await parse(buildDsn({ ...base, returnHeadersOnly: true }));
    expect(email.attachments.map((a) => a.mimeType).sort()).toEqual([
      'message/delivery-status',
      'text/rfc822-headers',
    ]);
    const headers = text(email.attachments.find((a) => a.mimeType === 'text/rfc822-headers')!.content);
    expect(headers).toMatch(/^Subject: Grüße aus Zürich\r?$/m);
    expect(headers).toContain('Message-ID: <orig-1@sender.test>');
    expect(headers).not.toContain('Käse');
  });

  it('an original over maxOriginalBytes is returned as headers, and the text says so', async () => {
    const email = await parse(buildDsn({ ...base, maxOriginalBytes: 100 }));
    expect(email.attachments.some((a) => a.mimeType === 'text/rfc822-headers')).toBe(true);
    expect(email.attachments.some((a) => a.mimeType === 'message/rfc822')).toBe(false);
    expect(email.text).toContain('too large to return');
  });

  it('several recipients, delays with retry dates, ORCPT, ENVID, reason; no original', async () => {
    const dsn = buildDsn({
      ...base,
      originalMessage: undefined,
      envelopeId: 'QQ314159',
      reason: 'Some recipients could not be reached for 4 hours.',
      recipients: [
        {
          address: 'carol@remote.test',
          action: 'delayed',
          status: '4.4.1',
          diagnostic: 'x-dime; connect to mx.remote.test[198.18.0.9]:25: Connection refused',
          originalRecipient: 'rfc822;Carol@Remote.test',
          lastAttemptDate: new Date('2024-01-01T14:00:00Z'),
          willRetryUntil: new Date('2024-01-06T10:00:05Z'),
        },
        {
          address: 'dan@remote.test',
          action: 'delivered',
          status: '2.0.0',
          diagnostic: '250 2.0.0 Ok: queued as 4Xyz',
          remoteMta: 'mx.remote.test',
        },
      ],
    });
    const email = await parse(dsn);
    expect(email.subject).toBe('Delayed Mail (still being retried)');
    expect(email.inReplyTo).toBeUndefined();
    expect(email.attachments.map((a) => a.mimeType)).toEqual(['message/delivery-status']);
    const [perMessage, carol, dan] = statusBlocks(text(email.attachments[0]!.content));
    expect(perMessage).toMatchObject({ 'original-envelope-id': 'QQ314159' });
    expect(carol).toEqual({
      'original-recipient': 'rfc822;Carol@Remote.test',
      'final-recipient': 'rfc822; carol@remote.test',
      action: 'delayed',
      status: '4.4.1',
      'diagnostic-code': 'x-dime; connect to mx.remote.test[198.18.0.9]:25: Connection refused',
      'last-attempt-date': 'Mon, 01 Jan 2024 14:00:00 +0000',
      'will-retry-until': 'Sat, 06 Jan 2024 10:00:05 +0000',
    });
    expect(dan).toEqual({
      'final-recipient': 'rfc822; dan@remote.test',
      action: 'delivered',
      status: '2.0.0',
      'remote-mta': 'dns; mx.remote.test',
      'diagnostic-code': 'smtp; 250 2.0.0 Ok: queued as 4Xyz',
    });
    expect(email.text).toContain('Some recipients could not be reached for 4 hours.');
    expect(email.text).toContain('<carol@remote.test>: x-dime; connect to');
    expect(email.text).toContain('Your message was delivered to the following recipients:');
  });

  it('a multi-line remote reply becomes one folded Diagnostic-Code field', async () => {
    const diagnostic = `550-5.7.1 ${'x'.repeat(60)} policy\r\n550-5.7.1 second line\r\n550 5.7.1 ${'y'.repeat(70)}`;
    const dsn = buildDsn({ ...base, recipients: [{ ...base.recipients[0]!, status: '5.7.1', diagnostic }] });
    const raw = text(dsn);
    for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    const email = await parse(dsn);
    const [, rcpt] = statusBlocks(
      text(email.attachments.find((a) => a.mimeType === 'message/delivery-status')!.content),
    );
    expect(rcpt!['diagnostic-code']).toBe(`smtp; ${diagnostic.replace(/\r\n/g, ' ')}`);
    expect(rcpt!.status).toBe('5.7.1');
  });

  it('non-ASCII addresses make a global DSN (RFC 6533)', async () => {
    const dsn = buildDsn({
      ...base,
      to: 'jürgen@sender.test',
      originalEnvelopeFrom: 'jürgen@sender.test',
      recipients: [{ ...base.recipients[0]!, address: 'søren@remote.test' }],
    });
    const email = await parse(dsn);
    expect(email.to?.[0]?.address).toBe('jürgen@sender.test');
    const types = email.attachments.map((a) => a.mimeType).sort();
    expect(types).toEqual(['message/global', 'message/global-delivery-status']);
    const [, rcpt] = statusBlocks(
      text(email.attachments.find((a) => a.mimeType === 'message/global-delivery-status')!.content),
    );
    expect(rcpt!['final-recipient']).toBe('utf-8; søren@remote.test');
  });

  it('refuses what would make a wrong report (BAD_INPUT)', () => {
    const bad = (patch: Partial<DsnInput>) => () => buildDsn({ ...base, ...patch });
    const r0 = base.recipients[0]!;
    expect(bad({ recipients: [] })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(bad({ to: '' })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(bad({ recipients: [{ ...r0, status: '550' }] })).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
    expect(bad({ recipients: [{ ...r0, action: 'delivered' }] })).toThrow(/2\.x\.x/);
    expect(bad({ recipients: [{ ...r0, action: 'delayed', status: '5.0.0' }] })).toThrow(/4\.x\.x/);
    expect(bad({ recipients: [{ ...r0, address: 'a@b\r\nBcc: x@y' }] })).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
    expect(bad({ reportingMta: 'mx.dime.test\r\nX: y' })).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
    expect(bad({ arrivalDate: new Date('nope') })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});
