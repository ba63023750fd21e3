/**
 * A scripted raw SMTP client for the conformance comparison (smtp-compare.test.ts): real TCP (and
 * a real client-side TLS upgrade after STARTTLS), bytes written exactly as the script says (bare
 * CR/LF, NUL, pipelined batches), and the replies that follow each step collected as they arrive.
 *
 * A step waits until the server gave the number of replies a conforming server gives to it (then a
 * short settle time, to catch extra replies), or closed the connection, or a timeout passed; a step
 * that expects no reply waits only the settle time. After a 221 or 421 (or with `mayClose`) it also
 * waits for the server to hang up, so whether it did is no matter of timing. Nothing is written
 * after the server closed.
 */

import net from 'node:net';
import tls from 'node:tls';

export interface ScriptStep {
  /** Bytes to write (a string is written as latin1). */
  send: string | Uint8Array;
  /** Replies a conforming server gives to these bytes (the step waits for that many). */
  replies: number;
  /** After this step's replies: the client side of STARTTLS (a TLS handshake on the same socket). */
  tls?: boolean;
  /** A server may hang up after this step's replies: wait up to CLOSE_WAIT_MS for that. */
  mayClose?: boolean;
}

export interface StepResult {
  /** The replies, each as its lines joined with '\n' (no CRLF). */
  replies: string[];
  /** The server had closed the connection when the step was over. */
  closed: boolean;
  /** The client-side TLS upgrade failed (or plaintext followed the 220). */
  tlsError?: string;
}

export interface ScriptResult {
  banner: string | null;
  steps: StepResult[];
}

const SETTLE_MS = 40;
const REPLY_TIMEOUT_MS = 8_000;
const CLOSE_WAIT_MS = 1_000;

/** Splits complete replies off the front of `buffer` (multi-line replies joined with '\n'). */
function takeReplies(state: { buffer: string; partial: string[] }, out: string[]): void {
  for (;;) {
    const nl = state.buffer.indexOf('\n');
    if (nl < 0) return;
    const line = state.buffer.slice(0, nl).replace(/\r$/, '');
    state.buffer = state.buffer.slice(nl + 1);
    state.partial.push(line);
    if (!/^\d{3}-/.test(line)) {
      out.push(state.partial.join('\n'));
      state.partial = [];
    }
  }
}

export async function runScript(
  port: number,
  steps: readonly ScriptStep[],
  host = '127.0.0.1',
): Promise<ScriptResult> {
  let socket: net.Socket = net.connect({ host, port });
  const state = { buffer: '', partial: [] as string[] };
  const received: string[] = [];
  let closed = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const attach = (s: net.Socket) => {
    s.on('data', (b: Buffer) => {
      state.buffer += b.toString('latin1');
      takeReplies(state, received);
      notify();
    });
    s.on('close', () => {
      closed = true;
      notify();
    });
    s.on('end', () => {
      closed = true;
      notify();
    });
    s.on('error', () => {
      closed = true;
      notify();
    });
  };
  attach(socket);
  /** Waits until `n` replies are buffered, the socket closed, or `ms` passed. */
  const waitFor = async (n: number, ms: number) => {
    const until = Date.now() + ms;
    while (received.length < n && !closed && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, until - Date.now()));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };
  const waitForClose = async (ms: number) => {
    const until = Date.now() + ms;
    while (!closed && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, until - Date.now()));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };
  const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

  await waitFor(1, REPLY_TIMEOUT_MS);
  const banner = received.shift() ?? null;
  const results: StepResult[] = [];
  try {
    for (const step of steps) {
      if (closed) {
        results.push({ replies: [], closed: true });
        continue;
      }
      const bytes = typeof step.send === 'string' ? Buffer.from(step.send, 'latin1') : step.send;
      if (bytes.length > 0) socket.write(bytes);
      if (step.replies > 0) await waitFor(step.replies, REPLY_TIMEOUT_MS);
      // 221 and 421 close the connection (RFC 5321 §3.8, §4.1.1.10): wait for it, then settle
      const last = received[received.length - 1];
      if (last !== undefined && /^(221|421)[ -]/.test(last.split('\n').pop()!)) {
        await waitForClose(REPLY_TIMEOUT_MS);
      } else if (step.mayClose) await waitForClose(CLOSE_WAIT_MS);
      await settle();
      const r: StepResult = { replies: received.splice(0), closed };
      results.push(r);
      if (step.tls && !closed) {
        if (state.buffer.length > 0 || state.partial.length > 0) {
          r.tlsError = `plaintext after the 220: ${JSON.stringify(state.buffer)}`;
        }
        const raw = socket;
        raw.removeAllListeners('data');
        raw.removeAllListeners('end');
        raw.removeAllListeners('close');
        try {
          socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
            const s = tls.connect({ socket: raw, rejectUnauthorized: false }, () => resolve(s));
            s.once('error', reject);
          });
          attach(socket);
        } catch (e) {
          r.tlsError = (e as Error).message;
          closed = true;
        }
      }
    }
  } finally {
    socket.destroy();
  }
  return { banner, steps: results };
}

/** A reply's code ('250'), or the first characters of a line that is not a reply. */
export function replyCode(reply: string): string {
  return /^\d{3}/.exec(reply)?.[0] ?? `?${reply.slice(0, 20)}`;
}

/**
 * The classes of a step's outcome: '2'/'3'/'4'/'5' per reply, then 'closed' when the server had
 * closed the connection, e.g. "5 closed" or "2 2 3".
 */
export function stepClasses(r: StepResult): string {
  const parts = r.replies.map((x) => replyCode(x)[0]!);
  if (r.closed) parts.push('closed');
  return parts.join(' ');
}
