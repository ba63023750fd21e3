/**
 * Delivery status notifications (RFC 3464, RFC 6522 multipart/report): the bounce or delay notice
 * the queue sends back to the original envelope sender.
 *
 * The MIME structure and every header field are made by nodemailer's MimeNode (what MailComposer
 * builds with: addresses, encoded words, Content-Type parameters, boundaries, Date, Message-ID,
 * folding) and its quoted-printable encoder; only the message/delivery-status fields, whose syntax
 * RFC 3464 fixes, are written here. The build is synchronous (MimeNode's header builder is).
 *
 * The notice must be sent with the null envelope sender (`MAIL FROM:<>`, RFC 3464 §2, RFC 5321
 * §4.5.5) so that it never bounces back: that is the caller's part.
 *
 * Non-ASCII addresses (SMTPUTF8) make it a global DSN (RFC 6533): message/global-delivery-status,
 * `utf-8` address types, message/global or message/global-headers for the original.
 */
import { randomBytes } from 'node:crypto';
import libmime from 'libmime';
import MimeNode from 'nodemailer/lib/mime-node';
import * as qp from 'nodemailer/lib/qp';
import { DimeError } from '../../errors/index.js';

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface DsnRecipient {
  /** The recipient address (Final-Recipient). */
  readonly address: string;
  readonly action: DsnAction;
  /** RFC 3463 enhanced status, e.g. '5.1.1'. */
  readonly status: string;
  /**
   * What the remote server (or we) said, e.g. `550 5.1.1 <bob@example.org>: user unknown`; a
   * leading `type;` (e.g. `x-dime; …`) is kept, otherwise it is an `smtp;` diagnostic. Empty: none.
   */
  readonly diagnostic: string;
  /** The host that said it (Remote-MTA). */
  readonly remoteMta?: string;
  /** ORCPT as given at RCPT (Original-Recipient), `type;address` or a bare address. */
  readonly originalRecipient?: string;
  readonly lastAttemptDate?: Date;
  /** For 'delayed': until when we keep trying. */
  readonly willRetryUntil?: Date;
}

export interface DsnInput {
  /** Our host name (Reporting-MTA; the From address's domain when dsnFrom is bare). */
  readonly reportingMta: string;
  /** The notice's From: an address (`MAILER-DAEMON@host`) or `Name <address>`. */
  readonly dsnFrom: string;
  /** Who gets the notice: the original envelope sender. */
  readonly to: string;
  /** The original MAIL FROM (X-Original-Envelope-From; '' for none). */
  readonly originalEnvelopeFrom: string;
  /** When we received the original message (Arrival-Date). */
  readonly arrivalDate: Date;
  readonly recipients: readonly DsnRecipient[];
  /** The original message, or at least its header section. */
  readonly originalMessage?: Uint8Array;
  /** Attach only the header section (RET=HDRS, or the original is too large). */
  readonly returnHeadersOnly?: boolean;
  /** A sentence for the human-readable part (why we are writing, e.g. "the message expired"). */
  readonly reason?: string;
  /** ENVID given at MAIL (Original-Envelope-Id). */
  readonly envelopeId?: string;
  /** Larger originals are returned as headers only (default 10 MiB). */
  readonly maxOriginalBytes?: number;
  /** The notice's Date (default now). */
  readonly date?: Date;
}

const DEFAULT_MAX_ORIGINAL = 10 * 1024 * 1024;
const STATUS = /^([245])\.(\d{1,3})\.(\d{1,3})$/;
const ACTIONS: ReadonlySet<string> = new Set(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);

/** The notice as bytes (CRLF line ends), ready to queue with `MAIL FROM:<>`. Bad input is BAD_INPUT. */
export function buildDsn(input: DsnInput): Uint8Array {
  validate(input);
  const date = input.date ?? new Date();
  const original = input.originalMessage
    ? Buffer.from(
        input.originalMessage.buffer,
        input.originalMessage.byteOffset,
        input.originalMessage.byteLength,
      )
    : null;
  const tooLarge = original !== null && original.length > (input.maxOriginalBytes ?? DEFAULT_MAX_ORIGINAL);
  const headersOnly = input.returnHeadersOnly === true || tooLarge;
  const originalHeaders = original === null ? null : headerSection(original);
  const global =
    [input.to, input.originalEnvelopeFrom, ...input.recipients.map((r) => r.address)].some(nonAscii) ||
    input.recipients.some((r) => nonAscii(r.originalRecipient ?? ''));

  const statusText = deliveryStatus(input, global);
  const human = humanText(input, headersOnly && !input.returnHeadersOnly && original !== null);

  for (let attempt = 0; attempt < 5; attempt++) {
    const root = new MimeNode('multipart/report; report-type=delivery-status', {
      hostname: input.reportingMta,
      baseBoundary: randomBytes(12).toString('hex'),
    });
    root.setHeader('From', input.dsnFrom);
    root.setHeader('To', input.to);
    root.setHeader('Subject', subjectOf(input.recipients));
    root.setHeader('Date', date);
    root.setHeader('Message-ID', `<${randomBytes(12).toString('hex')}.dsn@${input.reportingMta}>`);
    root.setHeader('Auto-Submitted', 'auto-replied'); // RFC 3834: never auto-answered
    const originalId = originalHeaders === null ? null : messageIdOf(originalHeaders);
    if (originalId !== null) {
      root.setHeader('In-Reply-To', originalId);
      root.setHeader('References', originalId);
    }

    const text = root.createChild('text/plain');
    text.setHeader('Content-Description', 'Notification');
    text.setContent(human);

    const report = root.createChild(global ? 'message/global-delivery-status' : 'message/delivery-status');
    report.setHeader('Content-Description', 'Delivery report');
    if (global) report.setHeader('Content-Transfer-Encoding', '8bit');
    report.setContent(statusText);

    let attached: MimeNode | null = null;
    let attachedBody: Buffer | null = null;
    if (original !== null) {
      if (headersOnly) {
        attached = root.createChild(global ? 'message/global-headers' : 'text/rfc822-headers');
        attached.setHeader('Content-Description', 'Undelivered Message Headers');
        attachedBody = originalHeaders!;
      } else {
        attached = root.createChild(global ? 'message/global' : 'message/rfc822');
        attached.setHeader('Content-Description', 'Undelivered Message');
        attachedBody = original;
      }
      // message/* may not be encoded (RFC 2046 §5.2.1): declare 8bit when it is not 7-bit clean
      if (hasEightBit(attachedBody)) attached.setHeader('Content-Transfer-Encoding', '8bit');
      attached.setContent(attachedBody);
    }

    const rootHeaders = root.buildHeaders();
    const boundary = (root as unknown as { boundary: string }).boundary;
    if (typeof boundary !== 'string' || boundary === '') throw new Error('MimeNode made no boundary');
    const delimiter = Buffer.from(`--${boundary}`);
    if (attachedBody?.includes(delimiter) || Buffer.from(human).includes(delimiter)) continue; // new boundary

    const parts: Buffer[] = [Buffer.from(`${rootHeaders}\r\n\r\n`)];
    const child = (node: MimeNode, bodyOf: () => Buffer) => {
      const headers = node.buildHeaders();
      const body = bodyOf();
      // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1): always add one.
      parts.push(Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), body, Buffer.from('\r\n'));
    };
    child(text, () => encodeText(text, human));
    child(report, () => Buffer.from(statusText, 'utf8'));
    if (attached !== null && attachedBody !== null) child(attached, () => attachedBody);
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    return new Uint8Array(Buffer.concat(parts));
  }
  throw new Error('no usable MIME boundary');
}

function validate(input: DsnInput): void {
  const bad = (message: string, context: Record<string, unknown> = {}): never => {
    throw new DimeError('BAD_INPUT', message, context);
  };
  if (!input || typeof input !== 'object') bad('DSN input missing');
  if (!hostLike(input.reportingMta))
    bad('reportingMta must be a host name', { reportingMta: input.reportingMta });
  if (typeof input.dsnFrom !== 'string' || !input.dsnFrom.includes('@')) bad('dsnFrom must be an address');
  if (typeof input.to !== 'string' || !input.to.includes('@'))
    bad('to must be an address (not the null sender)');
  if (!(input.arrivalDate instanceof Date) || Number.isNaN(input.arrivalDate.getTime()))
    bad('arrivalDate must be a Date');
  if (!Array.isArray(input.recipients) || input.recipients.length === 0)
    bad('a DSN needs at least one recipient');
  for (const r of input.recipients) {
    if (typeof r.address !== 'string' || r.address === '' || /[\r\n]/.test(r.address)) {
      bad('recipient address missing or not one line', { address: r.address });
    }
    if (!ACTIONS.has(r.action)) bad(`unknown DSN action ${String(r.action)}`);
    const m = STATUS.exec(String(r.status));
    if (m === null) bad(`status must be class.subject.detail (RFC 3463), not ${String(r.status)}`);
    if ((r.action === 'delivered' || r.action === 'relayed' || r.action === 'expanded') && m![1] !== '2') {
      bad(`a ${r.action} recipient needs a 2.x.x status`, { status: r.status });
    }
    if (r.action === 'delayed' && m![1] !== '4')
      bad('a delayed recipient needs a 4.x.x status', { status: r.status });
    if (r.remoteMta !== undefined && !hostLike(r.remoteMta)) bad('remoteMta must be a host name or address');
  }
}

function hostLike(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9.:[\]_-]+$/.test(v) && v.length <= 255;
}

function nonAscii(s: string): boolean {
  return /[^\x00-\x7f]/.test(s);
}

function hasEightBit(b: Buffer): boolean {
  for (const x of b) if (x > 0x7f) return true;
  return false;
}

function endsWithCrlf(b: Buffer): boolean {
  return b.length >= 2 && b[b.length - 2] === 0x0d && b[b.length - 1] === 0x0a;
}

/** The header section of a message, with the CRLF that ends its last field (no empty line). */
function headerSection(m: Buffer): Buffer {
  if (m.subarray(0, 2).equals(Buffer.from('\r\n'))) return Buffer.alloc(0);
  const crlf = m.indexOf('\r\n\r\n');
  if (crlf >= 0) return m.subarray(0, crlf + 2);
  const lf = m.indexOf('\n\n');
  if (lf >= 0) return m.subarray(0, lf + 1);
  return endsWithCrlf(m) ? m : Buffer.concat([m, Buffer.from('\r\n')]);
}

function messageIdOf(headers: Buffer): string | null {
  const text = headers.toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:\s*(<[^<>\s]+>)/im.exec(text);
  return m ? m[1]! : null;
}

function subjectOf(recipients: readonly DsnRecipient[]): string {
  if (recipients.some((r) => r.action === 'failed')) return 'Undelivered Mail Returned to Sender';
  if (recipients.some((r) => r.action === 'delayed')) return 'Delayed Mail (still being retried)';
  return 'Successful Mail Delivery Report';
}

/** One RFC 3464 field (header syntax): CR/LF in the value become spaces, long ones are folded. */
function field(name: string, value: string): string {
  return libmime.foldLines(`${name}: ${value.replace(/[\r\n]+/g, ' ').replace(/\s+$/, '')}`, 76);
}

function rfc822Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

function addressType(address: string, global: boolean): string {
  return `${global && nonAscii(address) ? 'utf-8' : 'rfc822'}; ${address}`;
}

function deliveryStatus(input: DsnInput, global: boolean): string {
  const lines: string[] = [field('Reporting-MTA', `dns; ${input.reportingMta}`)];
  if (input.envelopeId) lines.push(field('Original-Envelope-Id', input.envelopeId));
  lines.push(field('X-Original-Envelope-From', `rfc822; ${input.originalEnvelopeFrom || '<>'}`));
  lines.push(field('Arrival-Date', rfc822Date(input.arrivalDate)));
  const blocks = [lines.join('\r\n')];
  for (const r of input.recipients) {
    const f: string[] = [];
    if (r.originalRecipient) {
      const orcpt = r.originalRecipient.includes(';')
        ? r.originalRecipient
        : addressType(r.originalRecipient, global);
      f.push(field('Original-Recipient', orcpt));
    }
    f.push(field('Final-Recipient', addressType(r.address, global)));
    f.push(field('Action', r.action));
    f.push(field('Status', r.status));
    if (r.remoteMta) f.push(field('Remote-MTA', `dns; ${r.remoteMta}`));
    const diagnostic = r.diagnostic.replace(/[\r\n]+/g, ' ').trim();
    if (diagnostic !== '') {
      f.push(
        field(
          'Diagnostic-Code',
          /^[A-Za-z][A-Za-z0-9-]*;\s/.test(diagnostic) ? diagnostic : `smtp; ${diagnostic}`,
        ),
      );
    }
    if (r.lastAttemptDate) f.push(field('Last-Attempt-Date', rfc822Date(r.lastAttemptDate)));
    if (r.willRetryUntil) f.push(field('Will-Retry-Until', rfc822Date(r.willRetryUntil)));
    blocks.push(f.join('\r\n'));
  }
  return `${blocks.join('\r\n\r\n')}\r\n`;
}

function humanText(input: DsnInput, truncatedOriginal: boolean): string {
  const failed = input.recipients.filter((r) => r.action === 'failed');
  const delayed = input.recipients.filter((r) => r.action === 'delayed');
  const delivered = input.recipients.filter((r) => !['failed', 'delayed'].includes(r.action));
  const out: string[] = [`This is the mail system at host ${input.reportingMta}.`, ''];
  if (input.reason) out.push(input.reason.replace(/\r?\n/g, '\r\n'), '');
  const list = (rs: readonly DsnRecipient[]) => {
    for (const r of rs) {
      const said = r.diagnostic.replace(/[\r\n]+/g, ' ').trim();
      const where = r.remoteMta
        ? ` (host ${r.remoteMta} said: ${said || r.status})`
        : said
          ? `: ${said}`
          : '';
      out.push(`<${r.address}>${where}`);
    }
    out.push('');
  };
  if (failed.length > 0) {
    out.push('Your message could not be delivered to the following recipients.');
    out.push('This is a permanent error: it will not be retried for them.', '');
    list(failed);
  }
  if (delayed.length > 0) {
    out.push('Your message could not be delivered yet to the following recipients.');
    out.push('We keep trying; you do not need to send it again.', '');
    list(delayed);
  }
  if (delivered.length > 0) {
    out.push('Your message was delivered to the following recipients:', '');
    list(delivered);
  }
  if (truncatedOriginal)
    out.push('The original message was too large to return; its headers are attached.', '');
  return out.join('\r\n');
}

/** The text part's body in the transfer encoding MimeNode chose for it. */
function encodeText(node: MimeNode, text: string): Buffer {
  const cte = String(node.getHeader('Content-Transfer-Encoding') ?? '7bit').toLowerCase();
  const bytes = Buffer.from(text, 'utf8');
  if (cte === 'quoted-printable') return Buffer.from(qp.wrap(qp.encode(bytes), 76));
  if (cte === 'base64') return Buffer.from((bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n'));
  return bytes;
}
