/**
 * SMTP/DMTP reply lines (RFC 5321 §4.2, dmtp.md §3.1): `NNN SP text CRLF`, multi-line replies
 * `NNN-text` on every line but the last. Replies always end in CRLF (libdime reads only `\r\n`, D19).
 */

export interface Reply {
  /** Three-digit reply code, 200–599 (or 2xx/3xx intermediate replies such as 220, 235, 334, 354). */
  code: number;
  /** One entry per line; an empty array gives `NNN` alone. */
  lines: readonly string[];
}

const ENCODER = new TextEncoder();

/** A control character that must never reach the wire inside a reply text. */
const UNSAFE = /[\u0000-\u001f\u007f]/g;

export function reply(code: number, ...lines: string[]): Reply {
  return { code, lines };
}

export function isValidReplyCode(code: number): boolean {
  return Number.isInteger(code) && code >= 200 && code <= 599;
}

/** Text form of a reply, CRLF-terminated; control characters in the text become spaces. */
export function formatReply(r: Reply): string {
  const code = String(r.code);
  if (r.lines.length === 0) return `${code}\r\n`;
  let out = '';
  r.lines.forEach((line, i) => {
    // An empty last line keeps its SP: RFC 4954 `334 SP [base64]` (an empty SASL challenge).
    const sep = i === r.lines.length - 1 ? ' ' : '-';
    out += `${code}${sep}${line.replace(UNSAFE, ' ')}\r\n`;
  });
  return out;
}

export function encodeReply(r: Reply): Uint8Array {
  return ENCODER.encode(formatReply(r));
}
