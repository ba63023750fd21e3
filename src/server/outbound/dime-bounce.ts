/**
 * The DIME bounce of flow.md §3.2: a DIME message the origin could not deliver goes back to its
 * author as a new DIME message written by the origin: author = the origin's postmaster with the org
 * signet, recipient = the original author, the reason in a display chunk (67) and the original
 * object, as it was sent, in an attachment chunk (131). The origin cannot read the original's
 * content (chunks 33/34/67/131 are not in its view, message.md §7), so it is returned whole.
 *
 * The content is a small multipart/mixed MIME message made by nodemailer's MimeNode and mapped to
 * chunks by the same code as any submission (message.md §8), so the bounce opens to that MIME.
 */

import { randomBytes } from 'node:crypto';
import MimeNode from 'nodemailer/lib/mime-node';
import type { DimeKeys } from '../../keys/key-file.js';
import { mimeToParts } from '../../message/mime/index.js';
import { signAsOrigin } from '../../message/origin-sign.js';
import { sealMessage } from '../../message/seal.js';
import type { Signet } from '../../signet/signet.js';

/** Larger originals are not attached (the reason says so): base64 of 10 MiB stays one chunk. */
export const MAX_BOUNCED_OBJECT = 10 * 1024 * 1024;

/** The file name the original object is attached under. */
export const BOUNCED_OBJECT_NAME = 'undelivered.dime';

export interface DimeBounceInput {
  /** The origin domain writing the bounce: its name, org keys and org signet. */
  origin: { name: string; orgKeys: DimeKeys; orgSignet: Signet };
  /** Our host name, for the text. */
  hostname: string;
  /** The original author, who gets the bounce: address and current user signet. */
  author: { address: string; signet: Signet };
  /** The recipient the original could not reach, and why. */
  recipient: string;
  reason: string;
  code: number | null;
  /** RFC 3463 enhanced status, e.g. 5.4.7. */
  status: string;
  /** The original subject (known from submission; the origin cannot read chunk 33). */
  subject: string | null;
  /** The DIME object as it was sent. */
  original: Uint8Array;
  arrivalDate: Date;
  date?: Date;
}

/** A value on one line of the notice (a remote reply or a subject may hold line breaks). */
const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ');

function text(i: DimeBounceInput, attached: boolean): string {
  const about = i.subject ? `Your DIME message "${oneLine(i.subject.slice(0, 120))}"` : 'Your DIME message';
  const reason = oneLine(i.reason);
  return [
    `This is the mail system at ${i.hostname}.`,
    '',
    `${about} could not be delivered to <${oneLine(i.recipient)}>: ${reason}.`,
    '',
    `Final-Recipient: ${oneLine(i.recipient)}`,
    `Status: ${i.status}`,
    `Diagnostic: ${i.code !== null ? `${i.code} ` : ''}${reason}`,
    `Arrival-Date: ${i.arrivalDate.toUTCString()}`,
    '',
    attached
      ? `The message is attached as it was sent (${BOUNCED_OBJECT_NAME}, ${i.original.length} bytes).`
      : `The message (${i.original.length} bytes) is larger than ${MAX_BOUNCED_OBJECT} bytes and is not attached.`,
    `This notice is written and signed by the postmaster of ${i.origin.name} (flow.md §3.2).`,
    '',
  ].join('\r\n');
}

/** The bounce as MIME (what its DIME form opens to). */
export async function dimeBounceMime(i: DimeBounceInput): Promise<Uint8Array> {
  const attached = i.original.length <= MAX_BOUNCED_OBJECT;
  const root = new MimeNode('multipart/mixed', { baseBoundary: randomBytes(12).toString('hex') });
  root.setHeader('From', `Mail Delivery System <postmaster@${i.origin.name}>`);
  root.setHeader('To', i.author.address);
  root.setHeader(
    'Subject',
    i.subject ? `Undelivered DIME message: ${oneLine(i.subject.slice(0, 120))}` : 'Undelivered DIME message',
  );
  root.setHeader('Date', i.date ?? new Date());
  root.setHeader('Message-ID', `<${randomBytes(12).toString('hex')}.bounce@${i.hostname}>`);
  root.setHeader('Auto-Submitted', 'auto-replied'); // RFC 3834: never answered automatically
  root.createChild('text/plain; charset=utf-8').setContent(text(i, attached));
  if (attached) {
    root
      .createChild('application/octet-stream', { filename: BOUNCED_OBJECT_NAME })
      .setHeader('Content-Disposition', 'attachment')
      .setContent(Buffer.from(i.original.buffer, i.original.byteOffset, i.original.byteLength));
  }
  return new Uint8Array(await root.build());
}

/** The bounce as a DIME object: sealed by the org as author, origin-signed, for local delivery. */
export async function buildDimeBounce(i: DimeBounceInput): Promise<Uint8Array> {
  const parts = await mimeToParts(await dimeBounceMime(i));
  const { orgKeys, orgSignet, name } = i.origin;
  const sealed = sealMessage({
    author: { keys: orgKeys, signet: orgSignet, address: `postmaster@${name}` },
    recipient: { signet: i.author.signet, address: i.author.address },
    origin: { signet: orgSignet, domain: name },
    // the author is local: the origin is also the destination
    destination: { signet: orgSignet, domain: name },
    commonHeaders: parts.commonFields,
    otherHeaders: parts.otherHeaders,
    display: parts.display.map((d) => ({ data: d })),
    attachments: parts.attachments.map((d) => ({ data: d })),
  });
  return signAsOrigin(sealed, orgKeys, { author: orgSignet, origin: orgSignet, destination: orgSignet });
}
