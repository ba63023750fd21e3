import { utf8 } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import { ChunkType } from './constants.js';

/**
 * The contents of an envelope chunk (message.md §4). For the origin chunk (4) `user` is the
 * author and `org` the destination domain; for the destination chunk (5) `user` is the recipient
 * and `org` the origin domain. Fingerprints are unpadded base64 crypto fingerprints.
 */
export interface EnvelopeFields {
  user: string;
  userFingerprint: string;
  org: string;
  orgFingerprint: string;
}

type EnvelopeType = typeof ChunkType.ORIGIN | typeof ChunkType.DESTINATION;

const LABELS: Readonly<Record<EnvelopeType, readonly [string, string, string, string]>> = {
  [ChunkType.ORIGIN]: ['Author', 'Author-Signet', 'Destination', 'Destination-Signet'],
  [ChunkType.DESTINATION]: ['Recipient', 'Recipient-Signet', 'Origin', 'Origin-Signet'],
};

/** Printable ASCII (libdime's `isprint`) without the closing delimiter. */
function checkValue(v: string, close: '>' | ']', what: string, code: 'BAD_INPUT' | 'BAD_MESSAGE'): void {
  if (v.length === 0) throw new DimeError(code, `${what} is empty`);
  for (let i = 0; i < v.length; i++) {
    const ch = v.charCodeAt(i);
    if (ch < 0x20 || ch > 0x7e || v[i] === close) {
      throw new DimeError(code, `${what} holds a character that is not allowed in an envelope`, {
        position: i,
      });
    }
  }
}

function labelsOf(type: number): readonly [string, string, string, string] {
  const l = LABELS[type as EnvelopeType];
  if (!l) throw new DimeError('BAD_INPUT', `chunk type ${type} is not an envelope chunk`);
  return l;
}

/** The data of an origin (4) or destination (5) chunk: four CRLF lines in fixed order. */
export function formatEnvelope(type: number, f: EnvelopeFields): Uint8Array {
  const [l1, l2, l3, l4] = labelsOf(type);
  checkValue(f.user, '>', l1, 'BAD_INPUT');
  checkValue(f.userFingerprint, ']', l2, 'BAD_INPUT');
  checkValue(f.org, '>', l3, 'BAD_INPUT');
  checkValue(f.orgFingerprint, ']', l4, 'BAD_INPUT');
  return utf8(
    `${l1}: <${f.user}>\r\n${l2}: [${f.userFingerprint}]\r\n${l3}: <${f.org}>\r\n${l4}: [${f.orgFingerprint}]\r\n`,
  );
}

/**
 * Strict parser: exact, case-sensitive labels in order, printable ASCII values, nothing before or
 * after the four lines (libdime ignores trailing bytes; we do not).
 */
export function parseEnvelope(type: number, data: Uint8Array): EnvelopeFields {
  const labels = labelsOf(type);
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const bad = (why: string): never => {
    throw new DimeError('BAD_MESSAGE', `envelope chunk ${type} is malformed: ${why}`, { type });
  };
  const values: string[] = [];
  let at = 0;
  for (let i = 0; i < 4; i++) {
    const open = i % 2 === 0 ? '<' : '[';
    const close = i % 2 === 0 ? '>' : ']';
    const prefix = `${labels[i]}: ${open}`;
    if (!text.startsWith(prefix, at)) bad(`expected "${prefix}"`);
    at += prefix.length;
    const end = text.indexOf(`${close}\r\n`, at);
    if (end < 0) bad(`unterminated ${labels[i]} line`);
    const v = text.slice(at, end);
    checkValue(v, close, labels[i]!, 'BAD_MESSAGE');
    values.push(v);
    at = end + 3;
  }
  if (at !== text.length) bad('trailing bytes after the four lines');
  return { user: values[0]!, userFingerprint: values[1]!, org: values[2]!, orgFingerprint: values[3]! };
}
