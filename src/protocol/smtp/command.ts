/**
 * SMTP command parser (RFC 5321 §4.1, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3030 CHUNKING,
 * RFC 3207 STARTTLS, RFC 4954 AUTH): strict, ASCII, returning typed commands or typed errors.
 * `STARTTLS <host> MODE=DMTPv1` (dmtp.md §2.1) is recognized here so a dual-mode session can switch.
 * Pure: the session decides what a command means in its state.
 */

import { type DmtpMode, parseStartTlsArgs } from '../dmtp/command.js';
import { CommandArgError as ArgError } from './arg-error.js';
import { isAddressLiteral, isDomain, isPrintableAscii, isXtext, parsePath } from './syntax.js';

export type BodyType = '7BIT' | '8BITMIME' | 'BINARYMIME';

export interface MailParams {
  /** RFC 1870 declared size, or null. */
  size: number | null;
  /** RFC 6152 / RFC 3030 body type, or null. */
  body: BodyType | null;
  /** RFC 4954 AUTH= (xtext, `<>` for none), or null. */
  auth: string | null;
}

export type SmtpCommand =
  | { verb: 'HELO' | 'EHLO'; host: string }
  /** `address` '' is the null reverse-path `<>`. */
  | { verb: 'MAIL'; address: string; params: MailParams }
  | { verb: 'RCPT'; address: string }
  | { verb: 'DATA' }
  | { verb: 'BDAT'; size: number; last: boolean }
  | { verb: 'RSET' | 'QUIT' | 'MODE' }
  | { verb: 'NOOP' }
  | { verb: 'HELP'; topic: string | null }
  | { verb: 'VRFY' | 'EXPN'; target: string }
  /** `dmtp` set for `STARTTLS <host> MODE=…` (dual mode), null for RFC 3207 STARTTLS. */
  | { verb: 'STARTTLS'; dmtp: { host: string; mode: DmtpMode } | null }
  | { verb: 'AUTH'; mechanism: string; initialResponse: string | null }
  /** DMTP-only verbs: refused with 503 in SMTP mode (dmtp.md §4). */
  | { verb: 'SGNT' | 'HIST' | 'STATS' | 'VERB' };

export type SmtpVerb = SmtpCommand['verb'];

export interface SmtpSyntaxError {
  /** 500 unknown/garbled command, 501 bad arguments, 504 unknown mode/mechanism, 555 unknown parameter. */
  code: 500 | 501 | 504 | 555;
  message: string;
  verb: SmtpVerb | null;
}

export type SmtpParseResult = { ok: true; command: SmtpCommand } | { ok: false; error: SmtpSyntaxError };

const VERBS = new Set<string>([
  'HELO',
  'EHLO',
  'MAIL',
  'RCPT',
  'DATA',
  'BDAT',
  'RSET',
  'NOOP',
  'QUIT',
  'VRFY',
  'EXPN',
  'HELP',
  'STARTTLS',
  'AUTH',
  'MODE',
  'SGNT',
  'HIST',
  'STATS',
  'VERB',
]);

const ESMTP_KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const ESMTP_VALUE = /^[\x21-\x3c\x3e-\x7e]+$/;
const SASL_MECH = /^[A-Z0-9_-]{1,20}$/;
const BASE64_OR_EQ = /^(?:[A-Za-z0-9+/]*={0,2}|=)$/;

function ok(command: SmtpCommand): SmtpParseResult {
  return { ok: true, command };
}

/** `FROM:<path> params` / `TO:<path> params`; spaces after the colon are tolerated (dmtp.md §3). */
function pathAndParams(args: string, keyword: 'FROM' | 'TO'): { path: string; params: string[] } {
  if (!args.toUpperCase().startsWith(`${keyword}:`)) throw new ArgError(`Syntax: ${keyword}:<address>`);
  const rest = args.slice(keyword.length + 1).replace(/^ +/, '');
  if (!rest.startsWith('<')) throw new ArgError(`Syntax: ${keyword}:<address>`);
  // The path ends at the first '>' outside a quoted local part.
  let i = 1;
  let quoted = false;
  for (; i < rest.length; i++) {
    const c = rest[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '>') break;
  }
  if (i >= rest.length) throw new ArgError('unterminated <address>');
  const path = rest.slice(0, i + 1);
  const tail = rest.slice(i + 1);
  if (tail.length > 0 && tail[0] !== ' ') throw new ArgError('Syntax: parameters must follow a space');
  return { path, params: tail.split(' ').filter((p) => p.length > 0) };
}

function parseParams(raw: readonly string[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const p of raw) {
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? null : p.slice(eq + 1);
    if (!ESMTP_KEYWORD.test(key) || (value !== null && !ESMTP_VALUE.test(value))) {
      throw new ArgError(`malformed parameter ${p.slice(0, 40)}`);
    }
    if (out.has(key)) throw new ArgError(`duplicate parameter ${key}`);
    out.set(key, value);
  }
  return out;
}

function parseMail(args: string): SmtpParseResult {
  const { path, params } = pathAndParams(args, 'FROM');
  const address = parsePath(path, true);
  if (address === null) throw new ArgError('malformed address');
  const map = parseParams(params);
  const out: MailParams = { size: null, body: null, auth: null };
  for (const [key, value] of map) {
    switch (key) {
      case 'SIZE':
        if (value === null || !/^[0-9]{1,20}$/.test(value)) throw new ArgError('Syntax: SIZE=<number>');
        out.size = Number(value);
        break;
      case 'BODY': {
        const v = value?.toUpperCase();
        if (v !== '7BIT' && v !== '8BITMIME' && v !== 'BINARYMIME')
          throw new ArgError('Syntax: BODY=7BIT|8BITMIME');
        out.body = v;
        break;
      }
      case 'AUTH':
        if (value === null || (value !== '<>' && !isXtext(value))) throw new ArgError('Syntax: AUTH=<xtext>');
        out.auth = value;
        break;
      default:
        throw new ArgError(`parameter ${key} not recognized`, 555);
    }
  }
  return ok({ verb: 'MAIL', address, params: out });
}

function parseRcpt(args: string): SmtpParseResult {
  const { path, params } = pathAndParams(args, 'TO');
  const lower = path.toLowerCase();
  // RFC 5321 §4.1.1.3: <Postmaster> without a domain is a valid forward-path.
  const address = lower === '<postmaster>' ? path.slice(1, -1) : parsePath(path, false);
  if (address === null) throw new ArgError('malformed address');
  const map = parseParams(params);
  for (const key of map.keys()) throw new ArgError(`parameter ${key} not recognized`, 555);
  return ok({ verb: 'RCPT', address });
}

function parseHelo(verb: 'HELO' | 'EHLO', args: string): SmtpParseResult {
  if (args.length === 0 || args.includes(' ')) throw new ArgError(`Syntax: ${verb} <hostname>`);
  // RFC 5321 §4.1.1.1: EHLO takes a domain or an address literal, HELO a domain.
  if (!(isDomain(args) || (verb === 'EHLO' && isAddressLiteral(args))))
    throw new ArgError('malformed host name');
  return ok({ verb, host: args });
}

function parseBdat(args: string): SmtpParseResult {
  const parts = args.split(' ');
  const size = parts[0] ?? '';
  if (!/^[0-9]{1,15}$/.test(size) || parts.length > 2) throw new ArgError('Syntax: BDAT <size> [LAST]');
  if (parts.length === 2 && parts[1]!.toUpperCase() !== 'LAST')
    throw new ArgError('Syntax: BDAT <size> [LAST]');
  return ok({ verb: 'BDAT', size: Number(size), last: parts.length === 2 });
}

function parseAuth(args: string): SmtpParseResult {
  const parts = args.split(' ');
  if (parts.length < 1 || parts.length > 2 || parts[0] === '')
    throw new ArgError('Syntax: AUTH <mechanism> [initial-response]');
  const mechanism = parts[0]!.toUpperCase();
  if (!SASL_MECH.test(mechanism)) throw new ArgError('malformed mechanism');
  const initial = parts[1] ?? null;
  if (initial !== null && !BASE64_OR_EQ.test(initial)) throw new ArgError('malformed initial response');
  return ok({ verb: 'AUTH', mechanism, initialResponse: initial });
}

function noArgs(verb: 'DATA' | 'RSET' | 'QUIT' | 'MODE', args: string): SmtpParseResult {
  if (args.length > 0) throw new ArgError(`Syntax: ${verb} takes no arguments`);
  return ok({ verb });
}

/** Parses one SMTP command line (no CRLF); never throws. */
export function parseSmtpCommand(line: string): SmtpParseResult {
  const sp = line.indexOf(' ');
  const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  const args = sp < 0 ? '' : line.slice(sp + 1).replace(/ +$/, '');
  if (!VERBS.has(verb)) {
    return { ok: false, error: { code: 500, message: 'Error: command not recognized', verb: null } };
  }
  const v = verb as SmtpVerb;
  try {
    if (!isPrintableAscii(line)) throw new ArgError('invalid characters in command');
    switch (v) {
      case 'HELO':
      case 'EHLO':
        return parseHelo(v, args);
      case 'MAIL':
        return parseMail(args);
      case 'RCPT':
        return parseRcpt(args);
      case 'BDAT':
        return parseBdat(args);
      case 'AUTH':
        return parseAuth(args);
      case 'STARTTLS':
        return ok({ verb: 'STARTTLS', dmtp: args.length === 0 ? null : parseStartTlsArgs(args) });
      case 'NOOP':
        return ok({ verb: 'NOOP' });
      case 'HELP':
        return ok({ verb: 'HELP', topic: args.length > 0 ? args : null });
      case 'VRFY':
      case 'EXPN':
        if (args.length === 0) throw new ArgError(`Syntax: ${v} <address>`);
        return ok({ verb: v, target: args });
      case 'SGNT':
      case 'HIST':
      case 'STATS':
      case 'VERB':
        return ok({ verb: v });
      default:
        return noArgs(v, args);
    }
  } catch (e) {
    if (e instanceof ArgError) return { ok: false, error: { code: e.code, message: e.message, verb: v } };
    throw e;
  }
}
