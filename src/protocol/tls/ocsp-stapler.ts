/**
 * OCSP stapling by our server (the server side of record.md §5's OCSP step): the TLS listeners send
 * a fresh OCSP response for their certificate in the handshake, so that a DMTP client (ours, which
 * checks a staple first, see ocsp.ts) need not ask the responder itself.
 *
 * One OcspStapler per leaf certificate, built with the leaf's issuer (the next certificate of the
 * configured chain). It asks the leaf's first OCSP URL (as a client would; no nonce: a staple is
 * shared by every handshake), verifies the answer exactly as a client does (verifyOcspResponse:
 * signer is the issuer or a delegated responder, CertID, thisUpdate/nextUpdate) and keeps it:
 * * only a verified `successful` response with status `good` is stapled; `revoked`, `unknown`, a
 *   non-successful responseStatus or anything unverifiable is never sent (a `revoked`/`unknown`
 *   answer also drops the response kept so far);
 * * a response is refreshed at half of its remaining validity (nextUpdate), or an hour after
 *   thisUpdate when it has no nextUpdate; it is served until nextUpdate, or a day after thisUpdate
 *   without one (mozilla::pkix's limit for such responses);
 * * concurrent handshakes share one fetch; a failed fetch keeps the previous response while it is
 *   still valid, and otherwise staples nothing and waits `retryMs` before the next attempt (the
 *   responder is never asked per handshake);
 * * a handshake waits at most `handshakeWaitMs` for a fetch in progress; then it goes on without a
 *   staple and the fetch finishes in the background for the next handshakes;
 * * after start() the refreshes run on (unref'd) timers, so handshakes rarely wait at all;
 * * a leaf without an OCSP URL (or with one that is not http://, or without its issuer) disables
 *   the stapler: staple() answers null without touching the network.
 */

import type { X509Certificate } from 'node:crypto';
import {
  buildOcspRequest,
  type CertIdSource,
  certIdSource,
  OCSP_CLOCK_SKEW_SECONDS,
  OcspError,
  type OcspFailure,
  ocspUrls,
  parseOcspResponse,
  postOcspRequest,
  toX509,
  type VerifiedOcspResponse,
  verifyOcspResponse,
} from './ocsp.js';

export const STAPLE_HANDSHAKE_WAIT_MS = 2_000;
export const STAPLE_FETCH_TIMEOUT_MS = 10_000;
export const STAPLE_RETRY_MS = 60_000;
/** Refresh of a response without nextUpdate: this long after its thisUpdate. */
export const STAPLE_REFRESH_WITHOUT_NEXT_UPDATE_MS = 3_600_000;
/** A response without nextUpdate is served at most this long after its thisUpdate. */
export const STAPLE_MAX_AGE_WITHOUT_NEXT_UPDATE_MS = 86_400_000;

/** Why a stapler never staples. */
export type StaplerDisabledReason =
  /** the leaf names no OCSP responder */
  | 'no-url'
  /** its first OCSP URL is not http:// */
  | 'url'
  /** the issuer is not known, or did not issue the leaf */
  | 'no-issuer';

/** What a fetch brought (for the server's log; nothing secret in it). */
export type OcspStapleReport =
  | {
      readonly event: 'stapling';
      readonly url: string;
      readonly thisUpdate: Date;
      readonly nextUpdate: Date | null;
      readonly signer: 'issuer' | 'delegated';
      /** When the next fetch is due. */
      readonly refreshAt: Date;
    }
  /** A verified answer that must not be stapled: nothing is sent from now on. */
  | {
      readonly event: 'refused';
      readonly url: string;
      readonly status: 'revoked' | 'unknown';
      readonly message: string;
    }
  | {
      readonly event: 'failed';
      readonly url: string;
      /** An OcspFailure, or `declined` for a non-successful responseStatus. */
      readonly failure: OcspFailure | 'declined';
      readonly message: string;
      /** Failures in a row (1: the first since the last success). */
      readonly consecutive: number;
      /** Whether an earlier response is still being stapled. */
      readonly servingPrevious: boolean;
      readonly retryAt: Date;
    };

export interface OcspStaplerOptions {
  /** The certificate the listeners send (X509Certificate, DER or PEM). */
  readonly certificate: X509Certificate | Uint8Array | string;
  /** Its issuer (the next certificate of the chain); null: not known, the stapler is disabled. */
  readonly issuer: X509Certificate | Uint8Array | string | null;
  /** Longest wait of a handshake for a fetch in progress, ms (default 2000). */
  readonly handshakeWaitMs?: number;
  /** Time limit of one request to the responder, ms (default 10 000). */
  readonly fetchTimeoutMs?: number;
  /** Pause after a failed fetch, ms (default 60 000). */
  readonly retryMs?: number;
  /** Clock skew allowed by the verification, seconds (default 300, as clients). */
  readonly skewSeconds?: number;
  /** Called after every fetch. */
  readonly onReport?: (report: OcspStapleReport) => void;
  /** The clock, ms since the epoch (default Date.now; tests move it to a response's later life). */
  readonly now?: () => number;
}

interface Held {
  readonly der: Buffer;
  readonly verified: VerifiedOcspResponse;
  readonly refreshAt: number;
  readonly expiresAt: number;
}

/** A handle that stops a timer from keeping the process alive. */
function unref(t: NodeJS.Timeout): NodeJS.Timeout {
  t.unref?.();
  return t;
}

export class OcspStapler {
  readonly leaf: X509Certificate;
  /** The responder asked (null when disabled for want of one). */
  readonly url: string | null;
  /** Non-null: this stapler never staples, and why. */
  readonly disabled: StaplerDisabledReason | null;
  readonly disabledMessage: string | null;

  private readonly issuer: X509Certificate | null;
  private readonly source: CertIdSource | null;
  private readonly handshakeWaitMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly retryMs: number;
  private readonly skewSeconds: number;
  private readonly onReport: ((r: OcspStapleReport) => void) | undefined;
  private readonly now: () => number;
  private held: Held | null = null;
  private inflight: Promise<void> | null = null;
  private retryAt = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;
  private fetchCount = 0;

  constructor(o: OcspStaplerOptions) {
    this.leaf = toX509(o.certificate);
    this.issuer = o.issuer === null ? null : toX509(o.issuer);
    this.handshakeWaitMs = o.handshakeWaitMs ?? STAPLE_HANDSHAKE_WAIT_MS;
    this.fetchTimeoutMs = o.fetchTimeoutMs ?? STAPLE_FETCH_TIMEOUT_MS;
    this.retryMs = o.retryMs ?? STAPLE_RETRY_MS;
    this.skewSeconds = o.skewSeconds ?? OCSP_CLOCK_SKEW_SECONDS;
    this.onReport = o.onReport;
    this.now = o.now ?? Date.now;

    let url: string | null = null;
    let disabled: StaplerDisabledReason | null = null;
    let message: string | null = null;
    let source: CertIdSource | null = null;
    try {
      const urls = ocspUrls(this.leaf);
      url = urls[0] ?? null;
      if (url === null) {
        disabled = 'no-url';
        message = 'the certificate names no OCSP responder';
      } else if (!/^http:\/\//i.test(url)) {
        disabled = 'url';
        message = `the OCSP URL ${url} is not http://`;
      } else if (!this.issuer) {
        disabled = 'no-issuer';
        message = 'the certificate chain holds no issuer after the leaf';
      } else {
        source = certIdSource(this.leaf, this.issuer);
      }
    } catch (e) {
      disabled = e instanceof OcspError && e.failure === 'malformed' ? 'no-url' : 'no-issuer';
      message = (e as Error).message;
    }
    this.url = url;
    this.disabled = disabled;
    this.disabledMessage = message;
    this.source = source;
  }

  /**
   * A stapler for a PEM chain (leaf first, then its issuer), as configured for the listeners.
   * Certificates that do not parse throw (the server's TLS material was read before).
   */
  static fromChain(chainPem: string, options: Omit<OcspStaplerOptions, 'certificate' | 'issuer'> = {}) {
    const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new OcspError('malformed', 'no PEM certificate in the chain');
    return new OcspStapler({ ...options, certificate: blocks[0]!, issuer: blocks[1] ?? null });
  }

  /** Fetches started so far. */
  get fetches(): number {
    return this.fetchCount;
  }

  /** The response stapled now (if one is held and valid), without fetching. */
  get current(): VerifiedOcspResponse | null {
    return this.usable(this.now())?.verified ?? null;
  }

  /** Starts the first fetch (not awaited) and keeps the response fresh on timers until stop(). */
  start(): void {
    if (this.disabled || this.stopped || this.started) return;
    this.started = true;
    void this.refresh();
  }

  /** Stops the timers; a fetch in progress ends on its own time limit and is then dropped. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * The DER OCSPResponse to staple in a handshake, or null (none: the handshake goes on without).
   * `certificate`, when given, is the leaf the handshake sends: another certificate (an SNI
   * context's) gets null. Never rejects; waits at most handshakeWaitMs.
   */
  async staple(certificate?: Uint8Array | null): Promise<Buffer | null> {
    if (this.disabled || this.stopped) return null;
    if (certificate && !Buffer.from(this.leaf.raw).equals(Buffer.from(certificate))) return null;
    const now = this.now();
    const held = this.usable(now);
    if (held && now < held.refreshAt) return held.der;
    if (now >= this.retryAt) void this.refresh();
    if (held) return held.der; // still valid: the refresh runs for the next handshakes
    if (!this.inflight) return null; // backing off after a failure
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.inflight,
      new Promise<void>((r) => {
        timer = unref(setTimeout(r, this.handshakeWaitMs));
      }),
    ]);
    clearTimeout(timer);
    return this.usable(this.now())?.der ?? null;
  }

  private usable(now: number): Held | null {
    const h = this.held;
    if (h && now >= h.expiresAt) this.held = null;
    return this.held;
  }

  /** One fetch at a time; concurrent callers share it. */
  private refresh(): Promise<void> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private schedule(at: number): void {
    if (!this.started || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = unref(
      setTimeout(
        () => {
          this.timer = null;
          if (!this.stopped) void this.refresh();
        },
        Math.max(0, at - this.now()),
      ),
    );
  }

  private async fetch(): Promise<void> {
    const url = this.url!;
    const source = this.source!;
    this.fetchCount++;
    try {
      const body = await postOcspRequest(url, buildOcspRequest(source, { nonce: false }).der, {
        timeoutMs: this.fetchTimeoutMs,
      });
      const parsed = parseOcspResponse(body);
      if (parsed.status !== 'successful') {
        this.failed('declined', `the OCSP responder answered ${parsed.status}`);
        return;
      }
      const now = this.now();
      const v = verifyOcspResponse(parsed, {
        source,
        issuer: this.issuer!,
        nonce: null,
        now,
        skewSeconds: this.skewSeconds,
      });
      if (v.status !== 'good') {
        this.held = null;
        this.failures++;
        this.retryAt = now + this.retryMs;
        this.schedule(this.retryAt);
        this.report({
          event: 'refused',
          url,
          status: v.status,
          message:
            v.status === 'revoked'
              ? `the OCSP responder says the certificate is revoked${v.revocationReason ? ` (${v.revocationReason})` : ''}: nothing is stapled`
              : 'the OCSP responder does not know the certificate: nothing is stapled',
        });
        return;
      }
      const thisUpdate = v.thisUpdate.getTime();
      const next = v.nextUpdate?.getTime() ?? null;
      const expiresAt = next ?? thisUpdate + STAPLE_MAX_AGE_WITHOUT_NEXT_UPDATE_MS;
      if (expiresAt <= now) {
        this.failed(
          'stale',
          `the OCSP response is too old to staple (${next ? 'nextUpdate' : 'thisUpdate + 1 day'} ${new Date(expiresAt).toISOString()} has passed)`,
        );
        return;
      }
      // half of the remaining validity (at least retryMs unless it expires sooner)
      const due =
        next !== null
          ? (next - now) / 2
          : Math.min(thisUpdate + STAPLE_REFRESH_WITHOUT_NEXT_UPDATE_MS, expiresAt) - now;
      const refreshAt = now + Math.max(due, Math.min(this.retryMs, expiresAt - now));
      this.held = { der: Buffer.from(body), verified: v, refreshAt, expiresAt };
      this.failures = 0;
      this.retryAt = 0;
      this.schedule(refreshAt);
      this.report({
        event: 'stapling',
        url,
        thisUpdate: v.thisUpdate,
        nextUpdate: v.nextUpdate,
        signer: v.signer,
        refreshAt: new Date(refreshAt),
      });
    } catch (e) {
      const err =
        e instanceof OcspError
          ? e
          : new OcspError('malformed', `OCSP fetch failed: ${(e as Error)?.message ?? String(e)}`);
      this.failed(err.failure, err.message);
    }
  }

  private report(r: OcspStapleReport): void {
    try {
      this.onReport?.(r);
    } catch {
      // a logger's failure must not stop the stapling
    }
  }

  private failed(failure: OcspFailure | 'declined', message: string): void {
    const now = this.now();
    this.failures++;
    this.retryAt = now + this.retryMs;
    const held = this.usable(now);
    this.schedule(this.retryAt);
    this.report({
      event: 'failed',
      url: this.url!,
      failure,
      message,
      consecutive: this.failures,
      servingPrevious: held !== null,
      retryAt: new Date(this.retryAt),
    });
  }
}
