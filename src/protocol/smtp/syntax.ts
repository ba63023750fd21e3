/**
 * RFC 5321 §4.1.2 / §4.1.3 address syntax, ASCII only (no SMTPUTF8): Domain, address literals,
 * Mailbox (Dot-string or Quoted-string local part), Path with an ignored source route.
 */

const SUB_DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX16 = /^[0-9A-Fa-f]{1,4}$/;
const GENERAL_TAG = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const DCONTENT = /^[\x21-\x5a\x5e-\x7e]+$/;

/** RFC 5321 Domain: dot-separated LDH labels, at most 255 octets, labels at most 63. */
export function isDomain(s: string): boolean {
  if (s.length === 0 || s.length > 255) return false;
  const labels = s.split('.');
  return labels.every((l) => l.length <= 63 && SUB_DOMAIN.test(l));
}

function isIpv6(s: string): boolean {
  let body = s;
  let groups = 8;
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!IPV4.test(tail)) return false;
    body = body.slice(0, lastColon + 1) + '0:0';
    groups = 8;
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const parts = (h: string) => (h === '' ? [] : h.split(':'));
  if (halves.length === 2) {
    const a = parts(halves[0]!);
    const b = parts(halves[1]!);
    if (a.length + b.length > groups - 1) return false;
    return [...a, ...b].every((g) => HEX16.test(g));
  }
  const all = parts(body);
  return all.length === groups && all.every((g) => HEX16.test(g));
}

/** RFC 5321 address-literal: `[IPv4]`, `[IPv6:…]` or `[tag:content]`. */
export function isAddressLiteral(s: string): boolean {
  if (s.length < 3 || s[0] !== '[' || s[s.length - 1] !== ']') return false;
  const inner = s.slice(1, -1);
  if (IPV4.test(inner)) return true;
  const colon = inner.indexOf(':');
  if (colon <= 0) return false;
  const tag = inner.slice(0, colon);
  const rest = inner.slice(colon + 1);
  if (tag.toLowerCase() === 'ipv6') return isIpv6(rest);
  return GENERAL_TAG.test(tag) && DCONTENT.test(rest);
}

function isDotString(s: string): boolean {
  return s.length > 0 && s.split('.').every((a) => ATOM.test(a));
}

function isQuotedString(s: string): boolean {
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return false;
  const inner = s.slice(1, -1);
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    if (c === 0x5c) {
      const n = inner.charCodeAt(i + 1);
      if (!(n >= 0x20 && n <= 0x7e)) return false;
      i++;
    } else if (!(c >= 0x20 && c <= 0x7e) || c === 0x22) return false;
  }
  return true;
}

export interface Mailbox {
  local: string;
  domain: string;
}

/** Splits `local@domain` at the last `@` outside a quoted local part; null if not a Mailbox. */
export function parseMailbox(s: string): Mailbox | null {
  if (s.length === 0 || s.length > 256) return null;
  let at: number;
  if (s[0] === '"') {
    let i = 1;
    for (; i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === '"') break;
    }
    at = i + 1;
    if (s[at] !== '@') return null;
  } else {
    at = s.lastIndexOf('@');
  }
  if (at <= 0) return null;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (local.length > 64) return null;
  if (!(isDotString(local) || isQuotedString(local))) return null;
  if (!(isDomain(domain) || isAddressLiteral(domain))) return null;
  return { local, domain };
}

/**
 * Reverse-path / forward-path `<…>`: returns the mailbox text ('' for the null path when allowed),
 * the source route (`@a,@b:`) dropped as RFC 5321 §4.1.1.3 asks; null if malformed.
 */
export function parsePath(s: string, allowNull: boolean): string | null {
  if (s.length < 2 || s[0] !== '<' || s[s.length - 1] !== '>') return null;
  let inner = s.slice(1, -1);
  if (inner === '') return allowNull ? '' : null;
  if (inner[0] === '@') {
    const colon = inner.indexOf(':');
    if (colon < 0) return null;
    const route = inner.slice(0, colon).split(',');
    if (!route.every((r) => r[0] === '@' && isDomain(r.slice(1)))) return null;
    inner = inner.slice(colon + 1);
  }
  return parseMailbox(inner) ? inner : null;
}

/** RFC 3461 xtext (used by the AUTH= parameter of MAIL). */
export function isXtext(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      if (!/^[0-9A-F]{2}$/.test(s.slice(i + 1, i + 3))) return false;
      i += 2;
    } else if (c < 0x21 || c > 0x7e || c === 0x3d) return false;
  }
  return true;
}

/** Only printable ASCII and SP (command lines are read as latin1 and checked with this). */
export function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}
