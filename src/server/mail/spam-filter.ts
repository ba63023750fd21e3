/**
 * The spam-filter hook (issue 7): rspamd's HTTP protocol (`POST /checkv2`, the message as the body,
 * the envelope in request headers, a JSON verdict back).
 *
 * A filter that cannot be reached, times out or answers garbage gives `{ status: 'unavailable' }`
 * and never throws: mail must still flow, and the caller logs a warning.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { DimeError } from '../../errors/index.js';

/** rspamd's actions (metric actions plus what its modules may force). */
export type SpamAction =
  | 'no action'
  | 'greylist'
  | 'add header'
  | 'rewrite subject'
  | 'soft reject'
  | 'reject'
  | (string & {});

export interface SpamSymbol {
  readonly score: number;
  readonly options?: readonly string[];
  readonly description?: string;
}

export type SpamVerdict =
  | {
      readonly status: 'ok';
      readonly action: SpamAction;
      readonly score: number;
      /** rspamd's `required_score` (the score of the reject action). */
      readonly required: number;
      /** Symbol name → score (and options). */
      readonly symbols: Readonly<Record<string, SpamSymbol>>;
      /** rspamd's `messages` (e.g. `smtp_message`: the text to send with a rejection). */
      readonly messages: Readonly<Record<string, string>>;
      /** The filter skipped the message (a pre-filter such as GTUBE decided alone). */
      readonly skipped: boolean;
      /** `X-Spam-*` header fields to prepend (folded, CRLF-terminated). */
      readonly headerText: string;
      readonly elapsedMs: number;
    }
  | { readonly status: 'unavailable'; readonly error: string; readonly elapsedMs: number };

export interface RspamdClientOptions {
  /** Base URL of the rspamd normal worker (or proxy), e.g. `http://127.0.0.1:11333`. */
  readonly url: string;
  /** Limit for the whole exchange in ms (default 15 000; rspamd's own task_timeout is 8 s). */
  readonly timeoutMs?: number;
  /** Sent as the `Password` header (rspamd's controller/proxy password). */
  readonly password?: string;
}

export interface SpamCheckInput {
  /** The client's IP address. */
  readonly ip: string;
  /** The EHLO/HELO argument. */
  readonly helo: string;
  /** MAIL FROM address ('' for the null sender). */
  readonly mailFrom: string;
  /** RCPT TO addresses. */
  readonly rcpt: readonly string[];
  /** The authenticated user (submission), if any. */
  readonly user?: string;
  /**
   * Authentication results of our own checks (checkInboundAuthentication().headers or its
   * authResultsHeader): prepended to the message rspamd sees, so its rules, logs and the
   * Authentication-Results of a temperror reach the filter.
   */
  readonly authResults?: string;
  /** The client's verified reverse-DNS name (`Hostname`); when absent rspamd looks it up itself. */
  readonly hostname?: string;
  /** Queue id for rspamd's log (`Queue-Id`). */
  readonly queueId?: string;
  /** rspamd settings id (`Settings-ID`), e.g. for outbound mail. */
  readonly settingsId?: string;
  /** Per-message settings (`Settings`, JSON), e.g. `{ symbols_disabled: [...] }`. */
  readonly settings?: Readonly<Record<string, unknown>>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

export class RspamdClient {
  readonly url: URL;
  readonly timeoutMs: number;
  private readonly password: string | undefined;

  constructor(options: RspamdClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new DimeError('BAD_INPUT', 'rspamd url is not a URL', { url: options.url });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new DimeError('BAD_INPUT', 'rspamd url must be http: or https:', { url: options.url });
    }
    this.url = url;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new DimeError('BAD_INPUT', 'timeoutMs must be a positive number');
    }
    this.password = options.password;
  }

  /** Scans one message. Never rejects: a filter that cannot answer gives `status: 'unavailable'`. */
  async check(message: Uint8Array, input: SpamCheckInput): Promise<SpamVerdict> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let reply: { status: number; body: Buffer };
    try {
      reply = await this.post('checkv2', this.body(message, input), this.headers(input));
    } catch (e) {
      return {
        status: 'unavailable',
        error: e instanceof Error ? e.message : String(e),
        elapsedMs: elapsed(),
      };
    }
    if (reply.status !== 200) {
      const text = reply.body.toString('utf8').slice(0, 200).replace(/\s+/g, ' ');
      return {
        status: 'unavailable',
        error: `rspamd answered HTTP ${reply.status}: ${text}`,
        elapsedMs: elapsed(),
      };
    }
    let json: unknown;
    try {
      json = JSON.parse(reply.body.toString('utf8'));
    } catch {
      return {
        status: 'unavailable',
        error: 'rspamd answered something that is not JSON',
        elapsedMs: elapsed(),
      };
    }
    const verdict = readVerdict(json);
    if (typeof verdict === 'string') return { status: 'unavailable', error: verdict, elapsedMs: elapsed() };
    return { status: 'ok', ...verdict, headerText: spamHeaderText(verdict), elapsedMs: elapsed() };
  }

  private body(message: Uint8Array, input: SpamCheckInput): Buffer {
    const m = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    if (input.authResults === undefined || input.authResults === '') return m;
    const prefix = input.authResults.endsWith('\n') ? input.authResults : `${input.authResults}\r\n`;
    return Buffer.concat([Buffer.from(prefix, 'utf8'), m]);
  }

  private headers(input: SpamCheckInput): Record<string, string | string[]> {
    const h: Record<string, string | string[]> = {};
    if (isIP(input.ip) !== 0) h.IP = input.ip;
    if (input.helo) h.Helo = headerSafe(input.helo);
    // The null sender: no From header (rspamd then treats the envelope sender as empty).
    if (input.mailFrom) h.From = headerSafe(input.mailFrom);
    const rcpt = input.rcpt.filter((r) => r !== '').map(headerSafe);
    if (rcpt.length > 0) h.Rcpt = rcpt; // one Rcpt header per recipient
    if (input.user) h.User = headerSafe(input.user);
    if (input.hostname) h.Hostname = headerSafe(input.hostname);
    if (input.queueId) h['Queue-Id'] = headerSafe(input.queueId);
    if (input.settingsId) h['Settings-ID'] = headerSafe(input.settingsId);
    if (input.settings) h.Settings = JSON.stringify(input.settings);
    if (this.password !== undefined) h.Password = headerSafe(this.password);
    return h;
  }

  private post(
    path: string,
    body: Buffer,
    headers: Record<string, string | string[]>,
  ): Promise<{ status: number; body: Buffer }> {
    const target = new URL(path, this.url.href.endsWith('/') ? this.url.href : `${this.url.href}/`);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const req = request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'Content-Length': String(body.length), Connection: 'close' },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_REPLY_BYTES) {
              req.destroy();
              finish(() => reject(new Error('rspamd reply too large')));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () =>
            finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) })),
          );
          res.on('error', (e) => finish(() => reject(e)));
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        finish(() => reject(new Error(`rspamd did not answer within ${this.timeoutMs} ms`)));
      }, this.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) =>
        finish(() => reject(new Error(`rspamd unreachable: ${e.code ?? e.message}`))),
      );
      req.end(body);
    });
  }
}

/** A value safe in one HTTP header line (no CR, LF or NUL; other controls dropped). */
function headerSafe(v: string): string {
  return v.replace(/[\x00-\x1f\x7f]/g, '');
}

type Verdict = Omit<Extract<SpamVerdict, { status: 'ok' }>, 'status' | 'headerText' | 'elapsedMs'>;

function readVerdict(json: unknown): Verdict | string {
  if (typeof json !== 'object' || json === null) return 'rspamd reply is not an object';
  const o = json as Record<string, unknown>;
  if (typeof o.error === 'string') return `rspamd error: ${o.error}`;
  if (typeof o.action !== 'string' || typeof o.score !== 'number') {
    return 'rspamd reply has no action or score';
  }
  const symbols: Record<string, SpamSymbol> = {};
  if (typeof o.symbols === 'object' && o.symbols !== null) {
    for (const [name, raw] of Object.entries(o.symbols as Record<string, unknown>)) {
      const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      symbols[name] = {
        score: typeof s.score === 'number' ? s.score : 0,
        ...(Array.isArray(s.options) ? { options: s.options.map(String) } : {}),
        ...(typeof s.description === 'string' ? { description: s.description } : {}),
      };
    }
  }
  const messages: Record<string, string> = {};
  if (typeof o.messages === 'object' && o.messages !== null) {
    for (const [k, v] of Object.entries(o.messages as Record<string, unknown>)) {
      if (typeof v === 'string') messages[k] = v;
    }
  }
  return {
    action: o.action,
    score: o.score,
    required: typeof o.required_score === 'number' ? o.required_score : Number.NaN,
    symbols,
    messages,
    skipped: o.is_skipped === true,
  };
}

const SPAM_ACTIONS: ReadonlySet<string> = new Set(['add header', 'rewrite subject', 'reject']);

/** `X-Spam`, `X-Spam-Action`, `X-Spam-Score`, `X-Spam-Symbols` for a verdict (folded, CRLF-terminated). */
export function spamHeaderText(v: Pick<Verdict, 'action' | 'score' | 'required' | 'symbols'>): string {
  const names = Object.entries(v.symbols)
    .sort((a, b) => b[1].score - a[1].score || a[0].localeCompare(b[0]))
    .map(([n, s]) => `${n}(${s.score.toFixed(2)})`);
  const lines = [
    `X-Spam: ${SPAM_ACTIONS.has(v.action) ? 'Yes' : 'No'}`,
    `X-Spam-Action: ${v.action}`,
    `X-Spam-Score: ${v.score.toFixed(2)} / ${Number.isFinite(v.required) ? v.required.toFixed(2) : '-'}`,
  ];
  if (names.length > 0) lines.push(fold(`X-Spam-Symbols: ${names.join(', ')}`));
  return lines.map((l) => `${l}\r\n`).join('');
}

/** Folds at ", " so that no line exceeds 78 characters where possible. */
function fold(line: string): string {
  const parts = line.split(', ');
  const out: string[] = [];
  let current = '';
  for (const p of parts) {
    const next = current === '' ? p : `${current}, ${p}`;
    if (current !== '' && next.length > 76) {
      out.push(`${current},`);
      current = ` ${p}`;
    } else current = next;
  }
  out.push(current);
  return out.join('\r\n');
}
