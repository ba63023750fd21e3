/**
 * SessionHooks of the server's listeners (src/protocol/session/types.ts):
 *
 * * `mx` (port 25): inbound SMTP for local recipients (no relaying), and DMTP after
 *   `STARTTLS <dx> MODE=DMTPv1` (dual mode, dmtp.md §2.1);
 * * `submission` (587, STARTTLS; also the DMTP mode switch) and `submissions` (465, implicit TLS):
 *   AUTH PLAIN/LOGIN over TLS only, checked with STACIE in the worker pool; a trustful account's user
 *   key is open for the session only and wiped when it ends;
 * * `dmtp` (port 26): DMTP from the first byte.
 *
 * The DMTP side (SGNT/HIST/VRFY, the RCPT org check, MAIL origin check, DATA) is the same on every
 * listener that can speak it.
 */

import { DimeError } from '../errors/index.js';
import {
  type Decision,
  type DeliveryResult,
  type Envelope,
  type HookReply,
  type MailFrom,
  type MessageSink,
  type Recipient,
  refuse,
  type SessionHooks,
  type SessionInfo,
} from '../protocol/index.js';
import { type Session, type User, verifyLogin } from '../store/index.js';
import { bufferSink } from './buffer-sink.js';
import type { ServerContext } from './context.js';
import { checkDmtpOrigin, type DmtpOrigin, receiveDmtpObject } from './inbound/dmtp.js';
import { receiveLegacy } from './inbound/smtp.js';
import { canReceive } from './local-delivery.js';
import { submitMessage } from './submission/submit.js';

export type ListenerRole = 'mx' | 'submission' | 'dmtp';

interface SessionState {
  /** The connection ended: whatever a late hook brings is dropped (and a login wiped). */
  closed: boolean;
  login: Session | null;
  origin: DmtpOrigin | null;
  /** Local recipients accepted in the current SMTP transaction (port 25). */
  rcpts: Map<string, { address: string; user: User }>;
}

const SMTP_ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;
const POSTMASTER = /^postmaster$/i;

function lowerDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Sessions with a message being received or processed (draining waits for them). */
export class TransferTracker {
  private readonly busy = new Set<string>();
  private waiters: (() => void)[] = [];
  begin(id: string): void {
    this.busy.add(id);
  }
  end(id: string): void {
    this.busy.delete(id);
    if (this.busy.size === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }
  isBusy(id: string): boolean {
    return this.busy.has(id);
  }
  get size(): number {
    return this.busy.size;
  }
  idle(): Promise<void> {
    return this.busy.size === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

/**
 * Wraps a sink so the tracker knows the session is busy until its end() settles or it is aborted,
 * and a turn of the event loop more: the session sends its final reply after end() resolves, and a
 * draining server must not close the session before that reply is out.
 */
function tracked(tracker: TransferTracker, id: string, sink: MessageSink): MessageSink {
  tracker.begin(id);
  const done = () => setImmediate(() => tracker.end(id));
  return {
    write: (chunk) => sink.write(chunk),
    async end() {
      try {
        return await sink.end();
      } finally {
        done();
      }
    },
    abort(reason) {
      try {
        sink.abort(reason);
      } finally {
        done();
      }
    },
  };
}

export function createHooks(ctx: ServerContext, role: ListenerRole, tracker: TransferTracker): SessionHooks {
  const states = new Map<string, SessionState>();
  const state = (info: SessionInfo): SessionState => {
    let s = states.get(info.id);
    if (!s) {
      s = { closed: false, login: null, origin: null, rcpts: new Map() };
      states.set(info.id, s);
    }
    return s;
  };

  const dmtpMailFrom = async (from: Extract<MailFrom, { protocol: 'dmtp' }>, info: SessionInfo) => {
    const r = await checkDmtpOrigin(ctx, from);
    state(info).origin = r.origin;
    return r.decision;
  };

  const dmtpSink = (envelope: Envelope, info: SessionInfo): MessageSink => {
    const origin = state(info).origin;
    const rcpt = envelope.to[0];
    return bufferSink(async (bytes): Promise<DeliveryResult> => {
      if (!origin || !rcpt || rcpt.protocol !== 'dmtp') {
        return { accept: false, code: 503, message: 'no verified origin' };
      }
      return receiveDmtpObject(ctx, {
        bytes,
        origin,
        destinationDomain: rcpt.domain.toLowerCase(),
        sessionId: info.id,
      });
    });
  };

  function openSink(envelope: Envelope, info: SessionInfo): MessageSink {
    if (envelope.protocol === 'dmtp') return dmtpSink(envelope, info);
    const s = state(info);
    const from = envelope.from.protocol === 'smtp' ? envelope.from.address : '';
    if (role === 'submission') {
      const login = s.login;
      if (!login) throw new DimeError('NOT_AUTHORIZED', 'not authenticated');
      const recipients = envelope.to.flatMap((r) => (r.protocol === 'smtp' ? [r.address] : []));
      return bufferSink((message) =>
        submitMessage(ctx, { session: login, from, recipients, message, sessionId: info.id }),
      );
    }
    const recipients = envelope.to.flatMap((r) =>
      r.protocol === 'smtp' && s.rcpts.has(r.address.toLowerCase())
        ? [s.rcpts.get(r.address.toLowerCase())!]
        : [],
    );
    return bufferSink((message) =>
      receiveLegacy(ctx, {
        message,
        mailFrom: from,
        recipients,
        ip: info.remoteAddress ?? '',
        helo: info.helo ?? '',
        secure: info.secure,
        sessionId: info.id,
      }),
    );
  }

  const hooks: SessionHooks = {
    onConnect(info) {
      ctx.log.debug({ session: info.id, role, remote: info.remoteAddress }, 'connection');
      return null;
    },

    isLocalHostname(host) {
      const h = host.toLowerCase().replace(/\.$/, '');
      return h === ctx.config.hostname || ctx.tls.names.includes(h);
    },

    lookupSignet(query) {
      if (query.kind === 'org')
        return ctx.domains.lookupSignet({ kind: 'org', domain: query.domain.toLowerCase() });
      return ctx.domains.lookupSignet({
        kind: 'user',
        address: query.address,
        domain: query.domain.toLowerCase(),
      });
    },

    async authenticate(credentials, info): Promise<{ user: string } | HookReply | null> {
      if (role !== 'submission') return { code: 503, message: 'AUTH not available here' };
      if (
        credentials.authzid !== '' &&
        credentials.authzid.toLowerCase() !== credentials.username.toLowerCase()
      ) {
        return { code: 535, message: '5.7.8 authorization identity not allowed' };
      }
      const s = state(info);
      try {
        const login = await verifyLogin(ctx.store, credentials.username, credentials.password, {
          derive: ctx.stacie.derive,
          serverSecret: ctx.serverSecret,
          defaultDomain: ctx.config.domain,
        });
        if (s.closed) {
          // the client left while STACIE ran: nothing may keep the key
          login.destroy();
          return { code: 421, message: 'connection closed' };
        }
        s.login?.destroy();
        s.login = login;
        const address = `${login.user.username}@${login.domain.name}`;
        ctx.log.info({ session: info.id, domain: login.domain.name, mode: login.user.mode }, 'authenticated');
        return { user: address };
      } catch (e) {
        if (e instanceof DimeError && (e.code === 'BAD_CREDENTIALS' || e.code === 'ACCOUNT_DISABLED')) {
          ctx.log.info({ session: info.id, code: e.code }, 'authentication failed');
          return { code: 535, message: '5.7.8 Authentication credentials invalid' };
        }
        throw e;
      }
    },

    async mailFrom(from, info): Promise<Decision> {
      if (from.protocol === 'dmtp') return dmtpMailFrom(from, info);
      const s = state(info);
      s.rcpts.clear();
      if (role === 'submission') {
        const login = s.login;
        if (!login) return refuse(530, '5.7.0 Authentication required');
        if (from.address === '') return refuse(553, '5.7.1 a submission needs a sender address');
        const found = await ctx.domains.findUser(from.address);
        if (!found || found.user.id !== login.user.id) {
          return refuse(553, '5.7.1 sender address not owned by the authenticated user');
        }
        return null;
      }
      if (role === 'dmtp') return refuse(503, 'DMTP only');
      return null;
    },

    async rcptTo(rcpt: Recipient, from: MailFrom, info): Promise<Decision> {
      if (rcpt.protocol === 'dmtp') return null; // the session checked the org domain and fingerprint
      if (from.protocol !== 'smtp') return refuse(503, 'protocol mismatch');
      // RFC 5321 §4.5.1: an MX MUST accept RCPT TO:<Postmaster> (no domain): the primary domain's
      // postmaster (a user or an alias of that domain, like any other local part)
      const address =
        role === 'mx' && POSTMASTER.test(rcpt.address) ? `postmaster@${ctx.config.domain}` : rcpt.address;
      if (!SMTP_ADDRESS.test(address)) return refuse(501, '5.1.3 bad recipient address syntax');
      const domain = lowerDomain(address);
      const s = state(info);
      if (role === 'submission') {
        if (!s.login) return refuse(530, '5.7.0 Authentication required');
        if (ctx.domains.isLocalDomain(domain)) {
          const found = await ctx.domains.findUser(address);
          if (!found || !canReceive(found.user)) return refuse(550, '5.1.1 unknown recipient');
        }
        return null;
      }
      // port 25: local recipients only
      if (!ctx.domains.isLocalDomain(domain)) return refuse(554, '5.7.1 relay access denied');
      const found = await ctx.domains.findUser(address);
      if (!found || !canReceive(found.user)) return refuse(550, '5.1.1 unknown recipient');
      const q = found.user.quota;
      const size = from.params.size ?? 0;
      if (
        (q.bytes !== null && found.user.usedBytes + size > q.bytes) ||
        (q.messages !== null && found.user.usedMessages + 1 > q.messages)
      ) {
        return refuse(452, '4.2.2 mailbox full');
      }
      // keyed by the address as the envelope names it (openSink looks the envelope's up)
      s.rcpts.set(rcpt.address.toLowerCase(), { address: address.toLowerCase(), user: found.user });
      return null;
    },

    openMessageSink(envelope, info) {
      return tracked(tracker, info.id, openSink(envelope, info));
    },
    onEvent(event, info) {
      if (event.type === 'hook-error') {
        const err = event.error;
        ctx.log.error(
          { session: info.id, hook: event.hook, err: err instanceof Error ? err.message : String(err) },
          'session hook failed',
        );
      } else if (event.type === 'too-many-errors' || event.type === 'timeout') {
        ctx.log.info({ session: info.id, event: event.type }, 'session ended');
      } else {
        ctx.log.debug({ session: info.id, event: event.type }, 'session event');
      }
    },

    onClose(info) {
      const s = states.get(info.id);
      if (s) {
        s.closed = true;
        s.login?.destroy();
        s.login = null;
      }
      states.delete(info.id);
    },
  };
  return hooks;
}
