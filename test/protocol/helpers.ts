/**
 * Test doubles for the protocol tests: an in-memory transport (the SessionTransport interface,
 * not a socket), in-memory signets made with the real key/signet code, and a SessionHooks
 * implementation with a recording message sink.
 */

import { createHash } from 'node:crypto';
import { toBase64Unpadded } from '../../src/encoding/base64.js';
import { generateKeys } from '../../src/keys/index.js';
import {
  type Envelope,
  MailSession,
  type MessageSink,
  refuse,
  type SessionConfig,
  type SessionEvent,
  type SessionHooks,
  type SessionTransport,
  type SignetQuery,
} from '../../src/protocol/index.js';
import {
  createOrgSignet,
  createSsr,
  cryptoFingerprintB64,
  fingerprint,
  type Signet,
  signRequest,
} from '../../src/signet/index.js';

// ------------------------------------------------------------------ signets

export interface OrgFixture {
  domain: string;
  keys: ReturnType<typeof generateKeys>;
  /** Oldest first. */
  chain: Signet[];
}

export interface UserFixture {
  address: string;
  chain: Signet[];
}

export function makeOrg(domain: string, links = 1): OrgFixture {
  const chain: Signet[] = [];
  let keys = generateKeys('org');
  for (let i = 0; i < links; i++) {
    if (i > 0) keys = generateKeys('org');
    chain.push(createOrgSignet(keys, { stage: 'id', domain }));
  }
  return { domain, keys, chain };
}

/** A user chain of `links` signets, each later one signed with custody from the previous key. */
export function makeUser(org: OrgFixture, local: string, links = 1): UserFixture {
  const address = `${local}@${org.domain}`;
  const chain: Signet[] = [];
  let prevKeys: ReturnType<typeof generateKeys> | null = null;
  for (let i = 0; i < links; i++) {
    const keys = generateKeys('user');
    const ssr = createSsr(keys, prevKeys ? { signingSeed: prevKeys.signingSeed } : undefined);
    const previous = chain[chain.length - 1];
    chain.push(signRequest(ssr, org.keys, { stage: 'id', address, ...(previous ? { previous } : {}) }));
    prevKeys = keys;
  }
  return { address, chain };
}

export function fp(s: Signet, kind: 'crypto' | 'full' | 'id' = 'crypto'): string {
  return kind === 'crypto' ? cryptoFingerprintB64(s) : toBase64Unpadded(fingerprint(s, kind)!);
}

export function sha512b64(b: Uint8Array): string {
  return toBase64Unpadded(new Uint8Array(createHash('sha512').update(b).digest()));
}

// ------------------------------------------------------------------ hooks

export interface RecordedMessage {
  envelope: Envelope;
  bytes: Uint8Array;
  pieces: number;
}

export class TestHooks implements SessionHooks {
  readonly orgs = new Map<string, Signet[]>();
  readonly users = new Map<string, Signet[]>();
  readonly messages: RecordedMessage[] = [];
  readonly aborted: { envelope: Envelope; reason: string; bytes: number }[] = [];
  readonly events: SessionEvent[] = [];
  readonly smtpUsers = new Map<string, string>([['alice', 'correct horse']]);
  readonly localMailboxes = new Set<string>(['bob@beta.test', 'carol@beta.test']);
  readonly localHostnames = new Set<string>(['dx.beta.test']);
  /** What the sink's end() answers. */
  deliveryVerdict: 'accept' | 'reject' = 'accept';
  closed = 0;
  /** Resolved by end() of each message (for tests that wait for socket deliveries). */
  private waiters: (() => void)[] = [];

  addOrg(o: OrgFixture): this {
    this.orgs.set(o.domain.toLowerCase(), o.chain);
    return this;
  }

  addUser(u: UserFixture): this {
    this.users.set(u.address.toLowerCase(), u.chain);
    return this;
  }

  isLocalHostname(host: string): boolean {
    return this.localHostnames.has(host.toLowerCase());
  }

  authenticate(c: { username: string; password: string }) {
    return this.smtpUsers.get(c.username) === c.password ? { user: c.username } : null;
  }

  rcptTo(rcpt: { protocol: 'smtp'; address: string } | { protocol: 'dmtp'; domain: string }) {
    if (rcpt.protocol === 'dmtp') return undefined;
    return this.localMailboxes.has(rcpt.address.toLowerCase()) ? undefined : refuse(550, 'No such user here');
  }

  lookupSignet(q: SignetQuery): Signet[] | null {
    return (
      (q.kind === 'org' ? this.orgs.get(q.domain.toLowerCase()) : this.users.get(q.address.toLowerCase())) ??
      null
    );
  }

  onEvent(e: SessionEvent): void {
    this.events.push(e);
  }

  onClose(): void {
    this.closed++;
  }

  openMessageSink(envelope: Envelope): MessageSink {
    const pieces: Uint8Array[] = [];
    return {
      write: (chunk) => {
        pieces.push(new Uint8Array(chunk));
      },
      end: async () => {
        const bytes = new Uint8Array(Buffer.concat(pieces));
        this.messages.push({ envelope, bytes, pieces: pieces.length });
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
        if (this.deliveryVerdict === 'reject')
          return { accept: false, code: 554, message: 'signature check failed' };
        return { accept: true, id: `tx-${this.messages.length}` };
      },
      abort: (reason) => {
        this.aborted.push({ envelope, reason, bytes: pieces.reduce((n, p) => n + p.length, 0) });
      },
    };
  }

  /** Resolves when `n` messages have been recorded. */
  async waitForMessages(n: number): Promise<void> {
    while (this.messages.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }
}

// ------------------------------------------------------------------ in-memory transport

export class MemoryTransport implements SessionTransport {
  output = '';
  private read = 0;
  tlsRequests: ('smtp' | 'dmtp')[] = [];
  closed = false;
  paused = false;

  send(bytes: Uint8Array): void {
    this.output += Buffer.from(bytes).toString('latin1');
  }
  startTls(profile: 'smtp' | 'dmtp'): void {
    this.tlsRequests.push(profile);
  }
  close(): void {
    this.closed = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** Output since the last call. */
  take(): string {
    const out = this.output.slice(this.read);
    this.read = this.output.length;
    return out;
  }
}

export interface Harness {
  session: MailSession;
  transport: MemoryTransport;
  hooks: TestHooks;
  /** Feeds bytes (a string is latin1), waits until the session is idle, returns the new output. */
  send(input: string | Uint8Array): Promise<string>;
  /** Completes a requested TLS handshake, returns the new output. */
  tls(): Promise<string>;
}

export async function harness(config: SessionConfig, hooks: TestHooks = new TestHooks()): Promise<Harness> {
  const session = new MailSession(config, hooks);
  const transport = new MemoryTransport();
  session.attach(transport, { remoteAddress: '127.0.0.1', remotePort: 40000 });
  session.start();
  await session.idle();
  const h: Harness = {
    session,
    transport,
    hooks,
    async send(input) {
      session.feed(typeof input === 'string' ? new Uint8Array(Buffer.from(input, 'latin1')) : input);
      await session.idle();
      return transport.take();
    },
    async tls() {
      session.tlsEstablished({ protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', servername: null });
      await session.idle();
      return transport.take();
    },
  };
  return h;
}

/** Reply lines of an output string. */
export function lines(out: string): string[] {
  return out.split('\r\n').filter((l) => l.length > 0);
}

/** Reply codes of complete replies (last lines only). */
export function codes(out: string): number[] {
  return lines(out)
    .filter((l) => l[3] === ' ' || l.length === 3)
    .map((l) => Number(l.slice(0, 3)));
}
