/**
 * Machine-read reply texts of dmtp.md §3.1 / §9, as a client reads them: the first word is checked
 * literally (case-insensitive), bracketed values are taken as they are. Anything else is
 * DMTP_PROTOCOL ('bad-answer').
 */

import { fromBase64 } from '../../encoding/base64.js';
import { protocolError } from './client-errors.js';
import { type DmtpReply, firstWord } from './client-reader.js';
import { isFingerprint } from './fingerprint.js';

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function bad(what: string, r: DmtpReply): never {
  const shown = JSON.stringify((r.lines[0] ?? '').slice(0, 80));
  throw protocolError('bad-answer', `malformed ${what} answer: ${r.code} ${shown}`, { code: r.code });
}

function b64Signet(value: string, what: string, r: DmtpReply): Uint8Array {
  if (value.length === 0 || value.length % 4 !== 0 || !B64.test(value)) bad(what, r);
  try {
    return fromBase64(value, 'optional');
  } catch {
    return bad(what, r);
  }
}

/** `OK [<base64 signet>]` (one line, nothing after `]`). */
export function parseSgntAnswer(r: DmtpReply): Uint8Array {
  if (r.lines.length !== 1) bad('SGNT', r);
  const m = /^OK[ \t]+\[([^\]]*)\][ \t]*$/i.exec(r.lines[0]!);
  if (!m) bad('SGNT', r);
  return b64Signet(m[1]!, 'SGNT', r);
}

/** One `[<base64 signet>]` per line, oldest first (an `OK ` before the first one is tolerated). */
export function parseHistAnswer(r: DmtpReply): Uint8Array[] {
  return r.lines.map((line, i) => {
    const m = (i === 0 ? /^(?:OK[ \t]+)?\[([^\]]*)\][ \t]*$/i : /^\[([^\]]*)\][ \t]*$/).exec(line);
    if (!m) bad('HIST', { code: r.code, lines: [line] });
    return b64Signet(m[1]!, 'HIST', r);
  });
}

export type VrfyAnswer = { status: 'current' } | { status: 'update'; fingerprint: string };

/** `CURRENT`, or `UPDATE [<crypto fp>]` (the brackets may be missing, dmtp.md §3.1 table). */
export function parseVrfyAnswer(r: DmtpReply): VrfyAnswer {
  const word = firstWord(r);
  if (word === 'CURRENT') return { status: 'current' };
  if (word === 'UPDATE') {
    const m = /^UPDATE[ \t]+\[?([^\]\s]*)\]?[ \t]*$/i.exec(r.lines[0]!.trim());
    if (!m || !isFingerprint(m[1]!)) bad('VRFY', r);
    return { status: 'update', fingerprint: m[1]! };
  }
  return bad('VRFY', r);
}

/** `CONTINUE [<hash>]` of DATA's 354: the echoed value ('' for `[]`, null when absent). */
export function parseContinue(r: DmtpReply): string | null {
  const m = /^CONTINUE(?:[ \t]+\[([^\]]*)\])?/i.exec(r.lines[0] ?? '');
  if (!m) bad('DATA 354', r);
  return m[1] ?? null;
}

/** `OK [<transaction-id>]` of DATA's final 2xx: the id, or null when the server gave none. */
export function parseDataDone(r: DmtpReply): string | null {
  if (firstWord(r) !== 'OK') bad('DATA', r);
  const m = /\[([^\]]*)\]/.exec(r.lines[0]!);
  return m ? m[1]! : null;
}

/** `OK <mode>` after `STARTTLS … MODE=DMTPv1` and for MODE: the mode token. */
export function parseModeAnswer(r: DmtpReply): string | null {
  const m = /^OK[ \t]+(\S+)[ \t]*$/i.exec(r.lines[0] ?? '');
  return m ? m[1]! : null;
}

/** `ONCE [<nonce>]` of a first STATS: the nonce, else null (the stats themselves). */
export function parseStatsOnce(r: DmtpReply): string | null {
  if (firstWord(r) !== 'ONCE') return null;
  const m = /^ONCE[ \t]+\[([^\]]+)\]/i.exec(r.lines[0]!);
  if (!m) bad('STATS', r);
  return m[1]!;
}

export interface EhloAnswer {
  /** The greeting line (server name …). */
  readonly greeting: string;
  /** Keyword lines, upper-cased first word → the rest. */
  readonly keywords: ReadonlyMap<string, string>;
  /** `SIZE <n>` when advertised with a number. */
  readonly maxSize: number | null;
}

export function parseEhloAnswer(r: DmtpReply): EhloAnswer {
  const keywords = new Map<string, string>();
  for (const line of r.lines.slice(1)) {
    const [k = '', ...rest] = line.trim().split(/[ \t]+/);
    if (k !== '') keywords.set(k.toUpperCase(), rest.join(' '));
  }
  const size = keywords.get('SIZE');
  const maxSize = size !== undefined && /^\d{1,15}$/.test(size) ? Number(size) : null;
  return { greeting: r.lines[0] ?? '', keywords, maxSize };
}

/** The banner check of dmtp.md §2: 220 and a token `DMTPv1` after the first one. */
export function bannerHasDmtp(r: DmtpReply): boolean {
  return r.lines.some((l, i) => {
    const tokens = l.split(/[ \t]+/).filter((t) => t.length > 0);
    return (i === 0 ? tokens.slice(1) : tokens).includes('DMTPv1');
  });
}
