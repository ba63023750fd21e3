/**
 * DMTP command parser (dmtp.md §3, §9): the positional form libdime's resolver sends and the named
 * `NAME=<v>` / `NAME=[v]` form of libdime's formatter, strict, as typed commands or typed errors.
 * Pure: the session decides what a command means in its state.
 */

import { CommandArgError as ArgError } from '../smtp/arg-error.js';
import { isDomain, isPrintableAscii, parseMailbox } from '../smtp/syntax.js';
import { classifyFingerprint, type FingerprintArg } from './fingerprint.js';
import { type DmtpToken, type DmtpValue, parseToken, splitArgs } from './tokens.js';

export type DmtpMode = 'DMTPv1' | 'SMTP' | 'ESMTP';

/** SGNT/HIST/VRFY subject: a user address or an organization's domain. */
export type SignetTarget =
  | { kind: 'user'; address: string; domain: string }
  | { kind: 'org'; domain: string };

export type DmtpCommand =
  | { verb: 'HELO' | 'EHLO'; host: string }
  | { verb: 'MODE' }
  | { verb: 'STARTTLS'; host: string; mode: DmtpMode }
  | {
      verb: 'MAIL';
      domain: string;
      fingerprint: FingerprintArg;
      size: number | null;
      ret: 'FULL' | 'HEADER' | 'DISPLAY' | null;
      data: '7BIT' | '8BIT' | null;
    }
  | { verb: 'RCPT'; domain: string; fingerprint: FingerprintArg }
  /** `hash` null: DATA without argument. */
  | { verb: 'DATA'; hash: FingerprintArg | null }
  | { verb: 'SGNT'; target: SignetTarget; fingerprint: string | null }
  | { verb: 'HIST'; target: SignetTarget; start: string | null; stop: string | null }
  | { verb: 'VRFY'; target: SignetTarget; fingerprint: string | null }
  | { verb: 'STATS'; nonce: string | null }
  | { verb: 'NOOP' | 'RSET' | 'HELP' | 'VERB' | 'QUIT' };

export type DmtpVerb = DmtpCommand['verb'];

export interface DmtpSyntaxError {
  /** 500 unknown command, 501 bad arguments, 504 unknown STARTTLS mode. */
  code: 500 | 501 | 504;
  message: string;
  /** The recognized verb, when the error is in its arguments. */
  verb: DmtpVerb | null;
}

export type DmtpParseResult = { ok: true; command: DmtpCommand } | { ok: false; error: DmtpSyntaxError };

const VERBS = new Set<string>([
  'HELO',
  'EHLO',
  'MODE',
  'STARTTLS',
  'MAIL',
  'RCPT',
  'DATA',
  'SGNT',
  'HIST',
  'VRFY',
  'STATS',
  'NOOP',
  'RSET',
  'HELP',
  'VERB',
  'QUIT',
]);

function ok(command: DmtpCommand): DmtpParseResult {
  return { ok: true, command };
}

function tokens(args: string): DmtpToken[] {
  return splitArgs(args).map((t) => {
    const tok = parseToken(t);
    if (!tok) throw new ArgError(`malformed argument ${t.slice(0, 40)}`);
    return tok;
  });
}

/**
 * Assigns positional tokens to `slots` in order and named tokens by name; each slot at most once.
 * `names` maps an accepted argument name to its slot.
 */
function bind(
  toks: readonly DmtpToken[],
  slots: readonly string[],
  names: Readonly<Record<string, string>>,
): Map<string, DmtpValue> {
  const out = new Map<string, DmtpValue>();
  let next = 0;
  for (const t of toks) {
    let slot: string;
    let v: DmtpValue;
    if (t.kind === 'named') {
      const s = names[t.name];
      if (!s) throw new ArgError(`unknown argument ${t.name}`);
      slot = s;
      v = t.arg;
    } else {
      while (next < slots.length && out.has(slots[next]!)) next++;
      if (next >= slots.length) throw new ArgError('too many arguments');
      slot = slots[next++]!;
      v = t;
    }
    if (out.has(slot)) throw new ArgError(`duplicate argument ${slot}`);
    out.set(slot, v);
  }
  return out;
}

function angleDomain(v: DmtpValue | undefined, what: string): string {
  if (v?.kind !== 'angle') throw new ArgError(`${what} must be <domain>`);
  if (!isDomain(v.value)) throw new ArgError(`${what} is not a valid domain`);
  return v.value;
}

function squareValue(v: DmtpValue | undefined, what: string): string | null {
  if (!v) return null;
  if (v.kind !== 'square') throw new ArgError(`${what} must be in square brackets`);
  return v.value;
}

function strictFingerprint(v: DmtpValue | undefined, what: string): string | null {
  const raw = squareValue(v, what);
  if (raw === null) return null;
  const fp = classifyFingerprint(raw, false);
  if (fp?.kind !== 'fingerprint') throw new ArgError(`${what} is not an 86-character base64 fingerprint`);
  return fp.value;
}

function lenientFingerprint(v: DmtpValue | undefined, what: string): FingerprintArg | null {
  const raw = squareValue(v, what);
  if (raw === null) return null;
  const fp = classifyFingerprint(raw, true);
  if (!fp) throw new ArgError(`${what} is not an 86-character base64 fingerprint`);
  return fp;
}

/** `<user@domain>` or `<domain>`; the named forms USER= / DOMAIN= pin the kind. */
function signetTarget(v: DmtpValue | undefined, slotName: string | undefined): SignetTarget {
  if (v?.kind !== 'angle') throw new ArgError('expected <user@domain> or <domain>');
  const s = v.value;
  if (s.includes('@')) {
    if (slotName === 'DOMAIN') throw new ArgError('DOMAIN= takes a domain');
    const mb = parseMailbox(s);
    if (!mb || !isDomain(mb.domain)) throw new ArgError('malformed address');
    return { kind: 'user', address: s, domain: mb.domain };
  }
  if (slotName === 'USER') throw new ArgError('USER= takes an address');
  if (!isDomain(s)) throw new ArgError('malformed domain');
  return { kind: 'org', domain: s };
}

/** Which named argument supplied the target (USER or DOMAIN), for kind checks. */
function targetName(toks: readonly DmtpToken[]): string | undefined {
  for (const t of toks) if (t.kind === 'named' && (t.name === 'USER' || t.name === 'DOMAIN')) return t.name;
  return undefined;
}

function noArgs(verb: 'MODE' | 'RSET' | 'HELP' | 'VERB' | 'QUIT', args: string): DmtpParseResult {
  if (args.length > 0) throw new ArgError(`${verb} takes no arguments`);
  return ok({ verb });
}

/** `STARTTLS <host> MODE=DMTPv1` (or `HOST=<host>`); `MODE=DMTP` (libdime's formatter) means DMTPv1. */
export function parseStartTlsArgs(args: string): { host: string; mode: DmtpMode } {
  const toks = tokens(args);
  const b = bind(toks, ['HOST', 'MODE'], { HOST: 'HOST', MODE: 'MODE' });
  const hostV = b.get('HOST');
  if (hostV?.kind !== 'angle') throw new ArgError('expected <host>');
  if (!isDomain(hostV.value)) throw new ArgError('malformed host name');
  const modeTok = toks.find((t) => t.kind === 'named' && t.name === 'MODE');
  const modeV = b.get('MODE');
  if (modeV && !modeTok) throw new ArgError('the mode must be given as MODE=<mode>');
  let mode: DmtpMode = 'DMTPv1';
  if (modeV) {
    if (modeV.kind !== 'plain') throw new ArgError('malformed MODE');
    const m = modeV.value.toUpperCase();
    if (m === 'DMTPV1' || m === 'DMTP') mode = 'DMTPv1';
    else if (m === 'SMTP') mode = 'SMTP';
    else if (m === 'ESMTP') mode = 'ESMTP';
    else throw new ArgError(`unknown mode ${modeV.value.slice(0, 20)}`, 504);
  }
  return { host: hostV.value, mode };
}

function parseHelo(verb: 'HELO' | 'EHLO', args: string): DmtpParseResult {
  const b = bind(tokens(args), ['HOST'], { HOST: 'HOST' });
  const v = b.get('HOST');
  if (!v || v.kind === 'square') throw new ArgError(`${verb} needs <host>`);
  if (!isDomain(v.value)) throw new ArgError('malformed host name');
  return ok({ verb, host: v.value });
}

/** `FROM: <d>`, `FROM:<d>` (positional) or `FROM=<d>` (named): the rest after the keyword. */
function afterKeyword(args: string, keyword: 'FROM' | 'TO'): { positional: boolean; rest: string } {
  const upper = args.toUpperCase();
  if (upper.startsWith(`${keyword}:`)) return { positional: true, rest: args.slice(keyword.length + 1) };
  if (upper.startsWith(`${keyword}=`)) return { positional: false, rest: args };
  throw new ArgError(`expected ${keyword}:`);
}

function parseMail(args: string): DmtpParseResult {
  const { positional, rest } = afterKeyword(args, 'FROM');
  const toks = tokens(rest);
  const names = { FROM: 'FROM', FINGERPRINT: 'FP', SIZE: 'SIZE', RETURN: 'RETURN', DATA: 'DATA' };
  const slots = positional ? ['FROM', 'FP'] : [];
  const b = bind(toks, slots, names);
  const domain = angleDomain(b.get('FROM'), 'origin');
  const fingerprint = lenientFingerprint(b.get('FP'), 'origin fingerprint');
  if (!fingerprint) throw new ArgError('MAIL needs the origin org fingerprint [fp]');
  let size: number | null = null;
  const sizeV = b.get('SIZE');
  if (sizeV) {
    if (sizeV.kind !== 'plain' || !/^[0-9]{1,15}$/.test(sizeV.value)) throw new ArgError('malformed SIZE');
    size = Number(sizeV.value);
    if (size === 0) throw new ArgError('SIZE must be at least 1');
  }
  let ret: 'FULL' | 'HEADER' | 'DISPLAY' | null = null;
  const retV = b.get('RETURN');
  if (retV) {
    const r = retV.kind === 'plain' ? retV.value.toUpperCase() : '';
    if (r !== 'FULL' && r !== 'HEADER' && r !== 'DISPLAY')
      throw new ArgError('RETURN must be FULL or HEADER');
    ret = r;
  }
  let data: '7BIT' | '8BIT' | null = null;
  const dataV = b.get('DATA');
  if (dataV) {
    const d = dataV.kind === 'plain' ? dataV.value.toUpperCase() : '';
    if (d !== '7BIT' && d !== '8BIT') throw new ArgError('DATA must be 7BIT or 8BIT');
    data = d;
  }
  return ok({ verb: 'MAIL', domain, fingerprint, size, ret, data });
}

function parseRcpt(args: string): DmtpParseResult {
  const { positional, rest } = afterKeyword(args, 'TO');
  const b = bind(tokens(rest), positional ? ['TO', 'FP'] : [], { TO: 'TO', FINGERPRINT: 'FP' });
  const domain = angleDomain(b.get('TO'), 'destination');
  const fingerprint = lenientFingerprint(b.get('FP'), 'destination fingerprint');
  if (!fingerprint) throw new ArgError('RCPT needs the destination org fingerprint [fp]');
  return ok({ verb: 'RCPT', domain, fingerprint });
}

function parseData(args: string): DmtpParseResult {
  const b = bind(tokens(args), ['HASH'], {});
  return ok({ verb: 'DATA', hash: lenientFingerprint(b.get('HASH'), 'DATA hash') });
}

function parseSgnt(args: string): DmtpParseResult {
  const toks = tokens(args);
  const b = bind(toks, ['TARGET', 'FP'], { USER: 'TARGET', DOMAIN: 'TARGET', FINGERPRINT: 'FP' });
  const target = signetTarget(b.get('TARGET'), targetName(toks));
  return ok({ verb: 'SGNT', target, fingerprint: strictFingerprint(b.get('FP'), 'fingerprint') });
}

function parseVrfy(args: string): DmtpParseResult {
  const toks = tokens(args);
  const b = bind(toks, ['TARGET', 'FP'], { USER: 'TARGET', DOMAIN: 'TARGET', FINGERPRINT: 'FP' });
  const target = signetTarget(b.get('TARGET'), targetName(toks));
  return ok({ verb: 'VRFY', target, fingerprint: strictFingerprint(b.get('FP'), 'fingerprint') });
}

function parseHist(args: string): DmtpParseResult {
  const toks = tokens(args);
  const b = bind(toks, ['TARGET', 'START', 'STOP'], {
    USER: 'TARGET',
    DOMAIN: 'TARGET',
    START: 'START',
    STOP: 'STOP',
  });
  const target = signetTarget(b.get('TARGET'), targetName(toks));
  const start = strictFingerprint(b.get('START'), 'start fingerprint');
  const stop = strictFingerprint(b.get('STOP'), 'stop fingerprint');
  if (stop && !start) throw new ArgError('a stop fingerprint needs a start fingerprint');
  return ok({ verb: 'HIST', target, start, stop });
}

function parseStats(args: string): DmtpParseResult {
  const b = bind(tokens(args), ['NONCE'], {});
  const v = b.get('NONCE');
  if (v && (v.kind !== 'square' || v.value.length === 0)) throw new ArgError('STATS takes [nonce]');
  return ok({ verb: 'STATS', nonce: v ? v.value : null });
}

/** Verb and argument text of a command line (`line` has no terminator). */
export function splitVerb(line: string): { verb: string; args: string } {
  const sp = line.indexOf(' ');
  const verb = sp < 0 ? line : line.slice(0, sp);
  const args = sp < 0 ? '' : line.slice(sp + 1).replace(/^ +| +$/g, '');
  return { verb: verb.toUpperCase(), args };
}

/** Parses one DMTP command line (no CRLF); never throws. */
export function parseDmtpCommand(line: string): DmtpParseResult {
  const { verb, args } = splitVerb(line);
  if (!VERBS.has(verb)) {
    return { ok: false, error: { code: 500, message: 'INVALID COMMAND', verb: null } };
  }
  const v = verb as DmtpVerb;
  try {
    if (!isPrintableAscii(line)) throw new ArgError('invalid characters in command');
    switch (v) {
      case 'HELO':
      case 'EHLO':
        return parseHelo(v, args);
      case 'STARTTLS':
        return ok({ verb: 'STARTTLS', ...parseStartTlsArgs(args) });
      case 'MAIL':
        return parseMail(args);
      case 'RCPT':
        return parseRcpt(args);
      case 'DATA':
        return parseData(args);
      case 'SGNT':
        return parseSgnt(args);
      case 'HIST':
        return parseHist(args);
      case 'VRFY':
        return parseVrfy(args);
      case 'STATS':
        return parseStats(args);
      case 'NOOP':
        return ok({ verb: 'NOOP' });
      default:
        return noArgs(v, args);
    }
  } catch (e) {
    if (e instanceof ArgError) {
      return { ok: false, error: { code: e.code === 504 ? 504 : 501, message: e.message, verb: v } };
    }
    throw e;
  }
}
