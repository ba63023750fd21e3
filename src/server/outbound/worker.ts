/**
 * The outbound queue worker (flow.md §1 step 5, §3, §3.2): claims due items from the durable queue
 * (leases: a crashed worker's items come back when the lease ends), and delivers them:
 *
 * * DMTP items, grouped per destination domain over one connection: connectDmtp (record, DNSSEC,
 *   DX choice, the record.md §5 certificate check), then deliverMessages, one transaction each.
 * * SMTP items (legacy fallback, DKIM-signed at submission; DSNs to remote senders) through
 *   src/server/mail's deliverSmtp (MX lookup, nodemailer's SMTP connection).
 *
 * Temporary failures (DX or MX unreachable, TLS or certificate failure — never an SMTP fallback after
 * one —, DNS temporary failure or DNSSEC bogus, 4xx) go back to the queue with the store's backoff
 * (config `queue`: 5 min doubling to 4 h, 5 days at most); permanent ones (5xx, no management record
 * any more, …) and items whose retry window is used up are bounced, and the item is removed: a
 * DIME item comes back to its author as a DIME bounce (flow.md §3.2, ./dime-bounce.ts), an SMTP
 * item as a DSN sealed into the author's INBOX (also the fallback when no DIME bounce can be
 * written, e.g. the author has no signet any more).
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DimeError } from '../../errors/index.js';
import { connectDmtp, type DmtpConnection, deliverMessages } from '../../protocol/dmtp/client.js';
import type { QueueItem } from '../../store/index.js';
import type { OutboundKick, ServerContext } from '../context.js';
import { bounceAppend, dimeBounceAppend } from '../local-delivery.js';
import type { SmtpRecipientResult } from '../mail-services.js';
import { type DmtpEnvelope, openEnvelope, type QueuedEnvelope, type SmtpEnvelope } from './envelope.js';

interface Job {
  item: QueueItem;
  env: QueuedEnvelope;
  blob: Uint8Array;
}

interface Failure {
  /** Short text for the queue row: codes and domains only. */
  text: string;
  /** For the DSN. */
  reason: string;
  temporary: boolean;
  code: number | null;
  status: string;
}

function short(s: string, n = 300): string {
  const t = s.replace(/[\r\n]+/g, ' ');
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

/** A DMTP client error as a queue failure (flow.md §3 table). */
export function dmtpFailure(e: unknown): Failure {
  if (!(e instanceof DimeError)) {
    return {
      text: short(`ERROR ${String(e)}`),
      reason: 'local error',
      temporary: true,
      code: null,
      status: '4.3.0',
    };
  }
  const text = short(`${e.code} ${e.message}`);
  switch (e.code) {
    case 'DNS_BOGUS':
      return { text, reason: 'DNSSEC failure', temporary: true, code: null, status: '5.7.1' };
    case 'RECORD_MISSING':
    case 'RECORD_INVALID':
      return { text, reason: 'destination not DIME-capable', temporary: false, code: null, status: '5.7.1' };
    case 'TLS_UNTRUSTED':
      return {
        text,
        reason: `TLS certificate of the destination not trusted (${String(e.context.reason ?? 'check failed')})`,
        temporary: true,
        code: null,
        status: '4.7.5',
      };
    case 'TLS_FAILED':
      return {
        text,
        reason: 'TLS failure talking to the destination',
        temporary: true,
        code: null,
        status: '4.7.5',
      };
    case 'CONNECT_FAILED':
    case 'DMTP_TIMEOUT':
      return { text, reason: 'destination unreachable', temporary: true, code: null, status: '4.4.1' };
    case 'DNS_TEMPFAIL':
      return { text, reason: 'temporary DNS failure', temporary: true, code: null, status: '4.4.3' };
    case 'DMTP_PROTOCOL':
      return {
        text,
        reason: 'protocol error talking to the destination',
        temporary: true,
        code: null,
        status: '4.5.0',
      };
    case 'DMTP_REFUSED': {
      const c = typeof e.context.code === 'number' ? e.context.code : null;
      const reply = Array.isArray(e.context.reply) ? (e.context.reply as string[]).join(' ') : e.message;
      const temporary = c !== null && c >= 400 && c < 500;
      return {
        text,
        reason: `the destination refused the message: ${c ?? ''} ${short(reply, 200)}`.trim(),
        temporary,
        code: c,
        status: c === 552 ? '5.3.4' : temporary ? '4.0.0' : '5.0.0',
      };
    }
    default:
      return {
        text,
        reason: `delivery failed: ${e.code}`,
        temporary: e.context.temporary === true,
        code: null,
        status: '5.0.0',
      };
  }
}

export class OutboundWorker implements OutboundKick {
  readonly id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly ca: string | undefined;
  /** Deliveries done (tests, logs). */
  readonly stats = { delivered: 0, retried: 0, bounced: 0 };

  constructor(private readonly ctx: ServerContext) {
    const ca = ctx.config.outbound.ca;
    this.ca = ca ? readFileSync(ctx.paths.resolve(ca), 'utf8') : undefined;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.ctx.config.outbound.pollMs);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /**
   * Stops claiming; waits for the deliveries under way (their results are recorded) and gives the
   * claimed items that have not started back to the queue.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Waits until the worker has nothing in hand (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    const { ctx } = this;
    const limit = ctx.config.outbound.concurrency * 4;
    do {
      this.again = false;
      let items: QueueItem[];
      try {
        items = await ctx.store.claim({ worker: this.id, leaseMs: ctx.config.queue.leaseMs, limit });
      } catch (e) {
        ctx.log.error({ err: e instanceof Error ? e.message : String(e) }, 'queue claim failed');
        return;
      }
      if (items.length === 0) return;
      await this.process(items);
      if (items.length >= limit) this.again = true;
    } while (this.again && !this.stopped);
  }

  private async process(items: QueueItem[]): Promise<void> {
    const { ctx } = this;
    const jobs: Job[] = [];
    for (const item of items) {
      try {
        const blob = await ctx.store.readQueueBlob(item.id);
        if (!blob) continue;
        jobs.push({ item, env: openEnvelope(ctx.spool, item.envelope), blob: ctx.spool.open(blob) });
      } catch (e) {
        // not ours to read (another spool key?) or damaged: dead, kept for the administrator
        ctx.log.error(
          { item: item.id, code: e instanceof DimeError ? e.code : 'ERROR' },
          'queue item unreadable',
        );
        await ctx.store.fail(item.id, this.id, 'unreadable queue item');
      }
    }
    const groups = new Map<string, Job[]>();
    for (const j of jobs) {
      const env = j.env;
      const key =
        env.kind === 'dmtp'
          ? `dmtp\n${env.domain}\n${env.originFingerprint}\n${env.destinationFingerprint}`
          : `smtp\n${j.item.id}`;
      const g = groups.get(key) ?? [];
      g.push(j);
      groups.set(key, g);
    }
    const tasks = [...groups.values()];
    const width = Math.max(1, ctx.config.outbound.concurrency);
    let next = 0;
    const runOne = async (): Promise<void> => {
      while (next < tasks.length) {
        const g = tasks[next++]!;
        if (this.stopped) {
          // draining: what has not started goes back to the queue at once, its attempt not counted
          for (const j of g) await ctx.store.release(j.item.id, this.id).catch(() => false);
          continue;
        }
        try {
          if (g[0]!.env.kind === 'dmtp') await this.deliverDmtp(g);
          else await this.deliverSmtp(g[0]!);
        } catch (e) {
          ctx.log.error({ err: e instanceof Error ? e.message : String(e) }, 'delivery task failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, runOne));
  }

  private async deliverDmtp(group: Job[]): Promise<void> {
    const { ctx } = this;
    const env = group[0]!.env as DmtpEnvelope;
    let conn: DmtpConnection;
    try {
      conn = (
        await connectDmtp(env.domain, {
          resolver: ctx.resolver,
          ehlo: ctx.config.hostname,
          portOverrides: (host, port) => ctx.mapPort(host, port),
          ...(this.ca ? { ca: this.ca } : {}),
          ocspCache: ctx.ocspCache,
          timeouts: {
            connectMs: ctx.config.outbound.connectTimeoutMs,
            tlsMs: ctx.config.outbound.connectTimeoutMs,
            ocspMs: ctx.config.outbound.connectTimeoutMs,
            commandMs: ctx.config.outbound.commandTimeoutMs,
          },
        })
      ).connection;
    } catch (e) {
      const f = dmtpFailure(e);
      for (const j of group) await this.failed(j, f);
      return;
    }
    try {
      const outcomes = await deliverMessages(
        conn,
        {
          origin: env.originDomain,
          originFingerprint: env.originFingerprint,
          destination: env.domain,
          destinationFingerprint: env.destinationFingerprint,
        },
        group.map((j) => ({ id: j.item.id, body: j.blob })),
      );
      for (const o of outcomes) {
        const j = group.find((x) => x.item.id === o.id)!;
        if (o.delivered) await this.delivered(j, `dmtp ${o.transactionId ?? ''}`);
        else {
          const f = dmtpFailure(o.error);
          // refused for good (e.g. 554: not the recipient's current signet): the next message to
          // this recipient looks the signet up again instead of sealing to the cached one
          if (!f.temporary) ctx.signets.forgetUser(j.env.recipient);
          await this.failed(j, f);
        }
      }
    } finally {
      await conn.quit().catch(() => {});
    }
  }

  private async deliverSmtp(j: Job): Promise<void> {
    const { ctx } = this;
    const env = j.env as SmtpEnvelope;
    const mapped = ctx.mapPort(env.domain, 25);
    let r: { recipients: SmtpRecipientResult[] };
    try {
      r = await ctx.mail.deliverSmtp({
        from: env.mailFrom,
        to: [env.recipient],
        message: j.blob,
        domain: env.domain,
        heloName: ctx.config.hostname,
        ...(mapped !== 25 ? { portOverride: mapped } : {}),
      });
    } catch (e) {
      await this.failed(j, {
        text: short(`SMTP ${e instanceof Error ? e.message : String(e)}`),
        reason: 'destination unreachable',
        temporary: true,
        code: null,
        status: '4.4.1',
      });
      return;
    }
    const res = r.recipients[0];
    if (res?.ok) {
      await this.delivered(j, `smtp ${res.code ?? ''}`);
      return;
    }
    const c = res?.code ?? null;
    const temporary = res?.temporary ?? true;
    await this.failed(j, {
      text: short(`SMTP ${c ?? ''} ${res?.response ?? 'no result'}`),
      reason:
        c !== null
          ? `the destination refused the message: ${short(res?.response ?? '', 200)}`
          : `delivery failed: ${short(res?.response ?? 'no answer', 200)}`,
      temporary,
      code: c,
      status: res?.status ?? (temporary ? '4.0.0' : '5.0.0'),
    });
  }

  private async delivered(j: Job, how: string): Promise<void> {
    await this.ctx.store.complete(j.item.id, this.id);
    this.stats.delivered++;
    this.ctx.log.info({ item: j.item.id, domain: j.env.domain, how, attempts: j.item.attempts }, 'delivered');
  }

  private async failed(j: Job, f: Failure): Promise<void> {
    const { ctx } = this;
    if (f.temporary) {
      const r = await ctx.store.retry(j.item.id, this.id, f.text);
      if (!r) return; // the lease went to another worker
      if (r.state !== 'dead') {
        this.stats.retried++;
        ctx.log.warn(
          {
            item: j.item.id,
            domain: j.env.domain,
            error: f.text,
            next: new Date(r.nextAttemptAt).toISOString(),
          },
          'delivery deferred',
        );
        return;
      }
      f = { ...f, reason: `${f.reason}; gave up after ${r.attempts} attempts` };
    } else {
      const r = await ctx.store.fail(j.item.id, this.id, f.text);
      if (!r) return;
    }
    await this.bounce(j, f);
    await ctx.store.removeQueueItem(j.item.id);
  }

  private async bounce(j: Job, f: Failure): Promise<void> {
    const { ctx } = this;
    const env = j.env;
    this.stats.bounced++;
    ctx.log.warn({ item: j.item.id, domain: env.domain, error: f.text }, 'delivery failed: bouncing');
    if (env.authorUserId === null || (env.kind === 'smtp' && env.mailFrom === '')) return;
    const status = f.status.startsWith('4') ? `5${f.status.slice(1)}` : f.status;
    if (env.kind === 'dmtp') {
      // flow.md §3.2: the DIME object goes back whole, in a DIME message from the postmaster
      try {
        const d = await dimeBounceAppend(
          ctx,
          env.authorUserId,
          {
            originDomain: env.originDomain,
            author: env.author,
            recipient: env.recipient,
            reason: f.reason,
            code: f.code,
            status,
            subject: env.subject,
            original: j.blob,
            arrivalDate: new Date(j.item.createdAt),
          },
          j.item.id,
        );
        if (d) {
          await ctx.committer.append([d]);
          return;
        }
      } catch (e) {
        ctx.log.error(
          { item: j.item.id, code: e instanceof DimeError ? e.code : 'ERROR' },
          'DIME bounce not written: a DSN instead',
        );
      }
    }
    const b = await bounceAppend(
      ctx,
      env.authorUserId,
      {
        to: env.author,
        recipient: env.recipient,
        reason: f.reason,
        code: f.code,
        status,
        original: env.kind === 'smtp' ? j.blob : null,
        subject: env.subject,
        arrivalDate: new Date(j.item.createdAt),
      },
      j.item.id,
    );
    if (b) await ctx.committer.append([b]);
  }
}
