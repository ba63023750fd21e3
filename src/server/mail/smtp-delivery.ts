/**
 * Outbound delivery of legacy mail over SMTP (RFC 5321): MX lookup through our resolver, hosts in
 * preference order, opportunistic STARTTLS, nodemailer's SMTP connection on the wire, and each
 * recipient's outcome classified as delivered, temporary (retry later) or permanent (bounce).
 *
 * Routing (RFC 5321 §5.1, RFC 7505):
 * - a null MX (`MX 0 .`) is a permanent failure (5.1.10) for every recipient;
 * - no MX RRset: the domain's own A/AAAA records are the one host ("implicit MX");
 * - otherwise MX hosts by ascending preference (equal preferences in random order), at most
 *   `maxAddresses` addresses tried in all (Postfix's smtp_mx_address_limit: 5);
 * - DNS that fails temporarily, or a DNSSEC-bogus answer, makes every recipient temporary.
 *
 * Failover: a host that cannot be reached, or refuses the session (greeting, EHLO, MAIL FROM
 * with 4xx, a TLS that cannot be had when required), is passed over for the next one. Once a host
 * answers RCPT, its replies decide: 2xx delivered (after DATA), 4xx temporary, 5xx permanent.
 *
 * TLS: STARTTLS whenever the server offers it (certificates are not verified by default: there is
 * nothing to verify an MX name against without DANE or MTA-STS); a handshake that fails is retried
 * once without TLS on the same address, as Postfix does at `smtp_tls_security_level = may`.
 * `requireTls` turns that off: no STARTTLS or a failed handshake is a temporary failure.
 */
import { isIP } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { DimeError } from '../../errors/index.js';
import type { DimeResolver } from '../../resolver/index.js';

export interface SmtpDeliveryTimeouts {
  /** TCP connect (default 30 000 ms). */
  readonly connectMs?: number;
  /** The 220 greeting after connect (default 60 000 ms). */
  readonly greetingMs?: number;
  /** Any later silence (default 300 000 ms: RFC 5321 §4.5.3.2 allows minutes for DATA). */
  readonly socketMs?: number;
}

export interface SmtpDeliveryInput {
  /** MAIL FROM ('' for the null sender of bounces). */
  readonly from: string;
  /** Recipients, all at `domain`. */
  readonly to: readonly string[];
  /** The message (CRLF line ends; dot-stuffing is done on the wire). */
  readonly message: Uint8Array;
  /** The recipients' domain: where the MX lookup starts. */
  readonly domain: string;
  readonly resolver: DimeResolver;
  /** Our name for EHLO. */
  readonly heloName: string;
  /** Port to connect to (default 25). */
  readonly portOverride?: number;
  /** Connect to this host name or IP literal instead of looking up MX records (a relay, a test sink). */
  readonly hostOverride?: string;
  /** TLS options for STARTTLS: verification (default off) and the CAs to verify with. */
  readonly tls?: {
    readonly rejectUnauthorized?: boolean;
    readonly ca?: string | Buffer | readonly (string | Buffer)[];
  };
  /** Never send without TLS (REQUIRETLS-like policy, MTA-STS enforce, DANE). */
  readonly requireTls?: boolean;
  readonly timeouts?: SmtpDeliveryTimeouts;
  /** Addresses tried at most, over all MX hosts (default 5). */
  readonly maxAddresses?: number;
}

export interface SmtpRecipientResult {
  readonly address: string;
  readonly ok: boolean;
  /** The SMTP reply code that decided (absent when no server answered). */
  readonly code?: number;
  /** The reply text, or what went wrong (DNS, network, TLS). */
  readonly response?: string;
  /** Retry later (true) or bounce (false); false when ok. */
  readonly temporary: boolean;
  /** RFC 3463 enhanced status (from the reply, or ours), for the DSN. */
  readonly status?: string;
}

export interface HostAttempt {
  readonly host: string;
  readonly address: string;
  readonly error: string;
  readonly code?: number;
}

export interface SmtpDeliveryResult {
  readonly recipients: SmtpRecipientResult[];
  /** The MX host that took the transaction (name, or the IP literal). */
  readonly host?: string;
  /** Its address. */
  readonly address?: string;
  /** The transaction ran over TLS (STARTTLS). */
  readonly tls?: boolean;
  /** Hosts and addresses passed over, in order, and why. */
  readonly attempts: HostAttempt[];
}

const DEFAULT_MAX_ADDRESSES = 5;

/** Delivers one message to the recipients of one domain. Never throws for delivery problems. */
export async function deliverSmtp(input: SmtpDeliveryInput): Promise<SmtpDeliveryResult> {
  validate(input);
  const attempts: HostAttempt[] = [];
  const all = (r: Omit<SmtpRecipientResult, 'address'>): SmtpDeliveryResult => ({
    recipients: input.to.map((address) => ({ address, ...r })),
    attempts,
  });

  // 1. Which hosts.
  let hosts: string[];
  if (input.hostOverride !== undefined) {
    hosts = [input.hostOverride];
  } else {
    let mx: Awaited<ReturnType<DimeResolver['lookupMx']>>;
    try {
      mx = await input.resolver.lookupMx(input.domain);
    } catch (e) {
      return all({
        ok: false,
        temporary: true,
        status: '4.4.3',
        response: `MX lookup for ${input.domain}: ${describe(e)}`,
      });
    }
    if (mx.nullMx && mx.hosts.length === 0) {
      return all({
        ok: false,
        temporary: false,
        code: 556,
        status: '5.1.10',
        response: `${input.domain} does not accept mail (null MX, RFC 7505)`,
      });
    }
    hosts = mx.hosts.length > 0 ? shuffleEqualPreferences(mx.hosts) : [mx.domain];
  }

  // 2. Their addresses, in order, up to the limit.
  const limit = input.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  const port = input.portOverride ?? 25;
  let tried = 0;
  let dnsTrouble: string | null = null;
  let anyAddress = false;
  for (const host of hosts) {
    if (tried >= limit) break;
    let addresses: string[];
    try {
      const a = await input.resolver.lookupAddress(host);
      addresses = a.addresses.map((x) => x.address);
    } catch (e) {
      dnsTrouble = `address lookup for ${host}: ${describe(e)}`;
      attempts.push({ host, address: '', error: dnsTrouble });
      continue;
    }
    if (addresses.length === 0) {
      attempts.push({ host, address: '', error: `${host} has no A/AAAA records` });
      continue;
    }
    anyAddress = true;
    for (const address of addresses) {
      if (tried >= limit) break;
      tried++;
      const outcome = await trySession(input, host, address, port, true);
      if (outcome.kind === 'done') {
        return { recipients: outcome.recipients, host, address, tls: outcome.tls, attempts };
      }
      attempts.push({ host, address, error: outcome.error, ...(outcome.code ? { code: outcome.code } : {}) });
      if (outcome.kind === 'permanent') {
        return all({
          ok: false,
          temporary: false,
          code: outcome.code,
          status: outcome.status,
          response: outcome.error,
        });
      }
    }
  }

  // 3. Nobody took it.
  if (!anyAddress && dnsTrouble === null && input.hostOverride === undefined) {
    // The implicit MX (or every MX host) does not exist: nothing to retry (RFC 5321 §5.1).
    return all({
      ok: false,
      temporary: false,
      status: '5.1.2',
      response: `no mail host for ${input.domain}: ${attempts.map((a) => a.error).join('; ')}`,
    });
  }
  const last = attempts[attempts.length - 1];
  return all({
    ok: false,
    temporary: true,
    status: '4.4.1',
    ...(last?.code ? { code: last.code } : {}),
    response: last
      ? `${last.host}${last.address ? ` [${last.address}]` : ''}: ${last.error}`
      : 'no host tried',
  });
}

type SessionOutcome =
  | { kind: 'done'; recipients: SmtpRecipientResult[]; tls: boolean }
  /** Try the next address. */
  | { kind: 'next'; error: string; code?: number }
  /** The server refused the sender for good (5xx at MAIL): every recipient bounces. */
  | { kind: 'permanent'; error: string; code: number; status: string };

interface SmtpError extends Error {
  code?: string;
  /** The system or TLS error code behind nodemailer's code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT…). */
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

interface SendInfo {
  accepted: string[];
  rejected: string[];
  rejectedErrors?: SmtpError[];
  response: string;
}

async function trySession(
  input: SmtpDeliveryInput,
  host: string,
  address: string,
  port: number,
  tlsAllowed: boolean,
): Promise<SessionOutcome> {
  const servername = isIP(host) === 0 ? host : undefined;
  const t = input.timeouts ?? {};
  const conn = new SMTPConnection({
    host: address,
    port,
    name: input.heloName,
    secure: false,
    ignoreTLS: !tlsAllowed && !input.requireTls,
    requireTLS: input.requireTls === true,
    opportunisticTLS: !input.requireTls,
    connectionTimeout: t.connectMs ?? 30_000,
    greetingTimeout: t.greetingMs ?? 60_000,
    socketTimeout: t.socketMs ?? 300_000,
    logger: false,
    tls: {
      ...(servername ? { servername } : {}),
      rejectUnauthorized: input.tls?.rejectUnauthorized ?? false,
      minVersion: 'TLSv1.2',
      ...(input.tls?.ca !== undefined ? { ca: input.tls.ca as string | Buffer | (string | Buffer)[] } : {}),
    },
  } as SMTPConnection.Options);
  let lateError: SmtpError | null = null;
  conn.on('error', (e: SmtpError) => {
    lateError = e;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('error', reject);
      conn.connect(() => {
        conn.removeListener('error', reject);
        resolve();
      });
    });
  } catch (e) {
    conn.close();
    const err = e as SmtpError;
    if (isTlsFailure(err) && tlsAllowed && !input.requireTls) {
      // A broken STARTTLS: once more on the same address in plaintext (Postfix "may" level).
      const again = await trySession(input, host, address, port, false);
      if (again.kind === 'next')
        return { ...again, error: `TLS failed (${err.message}); without TLS: ${again.error}` };
      return again;
    }
    return {
      kind: 'next',
      error: describeSmtp(err),
      ...(err.responseCode ? { code: err.responseCode } : {}),
    };
  }

  const tls = conn.secure === true;
  const body = Buffer.from(input.message.buffer, input.message.byteOffset, input.message.byteLength);
  const envelope = {
    from: input.from,
    to: [...input.to],
    size: body.length,
    use8BitMime: hasEightBit(body),
  };
  let info: SendInfo | null = null;
  let failure: SmtpError | null = null;
  try {
    info = await new Promise<SendInfo>((resolve, reject) => {
      conn.send(envelope as SMTPConnection.Envelope, body, (err, i) => {
        if (err) reject(err);
        else resolve(i as unknown as SendInfo);
      });
    });
  } catch (e) {
    failure = e as SmtpError;
  }
  try {
    conn.quit();
  } catch {
    // already closed
  }
  conn.close();

  if (info !== null) {
    const code = replyCode(info.response) ?? 250;
    const recipients = input.to.map((address): SmtpRecipientResult => {
      const rejected = info!.rejectedErrors?.find((r) => sameAddress(r.recipient, address));
      if (rejected) return rcptResult(address, rejected);
      if (info!.accepted.some((a) => sameAddress(a, address))) {
        return {
          address,
          ok: true,
          code,
          response: info!.response,
          temporary: false,
          status: enhanced(info!.response) ?? '2.0.0',
        };
      }
      return {
        address,
        ok: false,
        temporary: true,
        status: '4.4.0',
        response: 'recipient not reported by the server',
      };
    });
    return { kind: 'done', recipients, tls };
  }

  const err = failure ?? lateError ?? ({ message: 'unknown failure' } as SmtpError);
  const command = (err.command ?? '').toUpperCase();
  const code = err.responseCode;
  const everyone = (r: Omit<SmtpRecipientResult, 'address'>): SessionOutcome => ({
    kind: 'done',
    recipients: input.to.map((address) => ({ address, ...r })),
    tls,
  });
  if (command === 'MAIL FROM') {
    if (code === undefined && err.code === 'EMESSAGE') {
      // Larger than the server's SIZE: it will not take it, now or later.
      return { kind: 'permanent', error: oneLine(err.message), code: 552, status: '5.3.4' };
    }
    if (code !== undefined && code >= 500) {
      return {
        kind: 'permanent',
        error: oneLine(err.response ?? err.message),
        code,
        status: enhanced(err.response) ?? '5.1.0',
      };
    }
    // 4xx for the sender (or no reply): maybe this host only.
    return { kind: 'next', error: describeSmtp(err), ...(code ? { code } : {}) };
  }
  if (err.rejectedErrors && err.rejectedErrors.length > 0) {
    // Every recipient refused at RCPT: each keeps its own reply.
    const recipients = input.to.map((address) => {
      const r = err.rejectedErrors!.find((x) => sameAddress(x.recipient, address));
      return r ? rcptResult(address, r) : rcptResult(address, err);
    });
    return { kind: 'done', recipients, tls };
  }
  if (code !== undefined) {
    // DATA, or the end of the data, refused: every recipient the same way.
    const temporary = code < 500;
    return everyone({
      ok: false,
      code,
      response: oneLine(err.response ?? err.message),
      temporary,
      status: enhanced(err.response) ?? (temporary ? '4.3.0' : '5.3.0'),
    });
  }
  // The session broke after the greeting (timeout, reset, close). The message may have arrived if
  // this was after the final dot: retry later rather than hand it to the next MX at once.
  return everyone({ ok: false, temporary: true, status: '4.4.2', response: describeSmtp(err) });
}

/** The STARTTLS handshake failed (nodemailer reports certificate errors as ESOCKET). */
function isTlsFailure(e: SmtpError): boolean {
  if (e.code === 'ETLS') return true;
  return /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|HOSTNAME_MISMATCH|EPROTO$)/.test(
    e.originalCode ?? '',
  );
}

function rcptResult(address: string, e: SmtpError): SmtpRecipientResult {
  const code = e.responseCode;
  const temporary = code === undefined || code < 500;
  return {
    address,
    ok: false,
    ...(code !== undefined ? { code } : {}),
    response: oneLine(e.response ?? e.message),
    temporary,
    status: enhanced(e.response) ?? (temporary ? '4.0.0' : '5.0.0'),
  };
}

function validate(input: SmtpDeliveryInput): void {
  const bad = (m: string): never => {
    throw new DimeError('BAD_INPUT', m);
  };
  if (!Array.isArray(input.to) || input.to.length === 0) bad('deliverSmtp needs at least one recipient');
  if (typeof input.from !== 'string') bad('from must be a string');
  if (!(input.message instanceof Uint8Array)) bad('message must be bytes');
  if (typeof input.heloName !== 'string' || input.heloName === '') bad('heloName is required');
  if (input.hostOverride === undefined && (typeof input.domain !== 'string' || input.domain === '')) {
    bad('domain is required');
  }
  const port = input.portOverride;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    bad('portOverride must be a port');
}

/** Hosts in preference order, equal preferences shuffled (RFC 5321 §5.1). */
function shuffleEqualPreferences(hosts: readonly { exchange: string; preference: number }[]): string[] {
  const groups = new Map<number, string[]>();
  for (const h of hosts) groups.set(h.preference, [...(groups.get(h.preference) ?? []), h.exchange]);
  const out: string[] = [];
  for (const pref of [...groups.keys()].sort((a, b) => a - b)) {
    const g = groups.get(pref)!;
    for (let i = g.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [g[i], g[j]] = [g[j]!, g[i]!];
    }
    out.push(...g);
  }
  return out;
}

function sameAddress(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

function replyCode(response: string | undefined): number | null {
  const m = /^(\d{3})/.exec(response ?? '');
  return m ? Number(m[1]) : null;
}

function enhanced(response: string | undefined): string | null {
  const m = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response ?? '');
  return m ? m[1]! : null;
}

function oneLine(s: string): string {
  return s.replace(/\r?\n/g, ' ').trim();
}

function hasEightBit(b: Buffer): boolean {
  for (const x of b) if (x > 0x7f) return true;
  return false;
}

function describe(e: unknown): string {
  if (e instanceof DimeError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

function describeSmtp(e: SmtpError): string {
  const reply = e.response ? ` (${oneLine(e.response)})` : '';
  return `${e.code ? `${e.code}: ` : ''}${oneLine(e.message)}${reply}`;
}
