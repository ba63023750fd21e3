/**
 * `npm run bench -- smtp-ingest`: SMTP ingest, messages per second, our server against Postfix
 * from Debian, driven by the same load generator in the same run (issue 7).
 *
 * * dime: `dime server start` (the built CLI) with its SQLite store; a message counts once its 250
 *   came back, i.e. once it was checked (SPF/DKIM/DMARC/ARC through a real validating resolver on
 *   loopback — test/helpers/dns-harness.ts — with the sender's SPF and DMARC records in a signed
 *   zone), sealed for the recipient and committed to disk (group commit, synchronous = FULL).
 * * postfix: test/helpers/postfix-harness.ts in its Maildir sink mode; a message counts once it is
 *   in Maildir/new (Postfix's 250 only means "in the queue": the rate is taken up to the last
 *   delivery, the figure that matches ours).
 *
 * Load: 10 KB messages over 100 parallel connections, each sending messages back to back on one
 * session (MAIL, RCPT and DATA pipelined, as both servers offer PIPELINING). Rounds alternate
 * dime/postfix (BENCH_ROUNDS, default 2, BENCH_MESSAGES per round, default 3000); the median of each
 * side is reported. Last stdout line: one JSON object with dime_msgs_per_s, postfix_msgs_per_s, ratio.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dime } from '../test/helpers/cli.js';
import { startDnsHarness, txt } from '../test/helpers/dns-harness.js';
import { startPostfix } from '../test/helpers/postfix-harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SIZE = 10 * 1024;

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}

function message(i: number, to: string): Buffer {
  const head =
    `From: Load Generator <load@bench.test>\r\nTo: <${to}>\r\nSubject: ingest ${i}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${i}.${Date.now()}@bench.test>\r\n` +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again. 0123456789\r\n';
  let body = '';
  while (head.length + body.length < SIZE) body += line;
  return Buffer.from(head + body.slice(0, SIZE - head.length));
}

/** One SMTP session that sends messages until the shared counter runs out. */
async function session(port: number, to: string, take: () => number | null, ok: () => void): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  let buf = '';
  let wake: (() => void) | null = null;
  let failed: Error | null = null;
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    buf += d;
    wake?.();
  });
  sock.on('error', (e) => {
    failed = e;
    wake?.();
  });
  sock.on('close', () => {
    failed ??= new Error('closed');
    wake?.();
  });
  const reply = async (): Promise<number> => {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*(\d{3})(?: [^\n]*)?\r?\n/.exec(buf);
      if (m) {
        buf = buf.slice(m[0].length);
        return Number(m[1]);
      }
      if (failed) throw failed;
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = null;
    }
  };
  const expect = async (code: number, what: string) => {
    const c = await reply();
    if (c !== code) throw new Error(`${what}: ${c}`);
  };
  await expect(220, 'banner');
  sock.write('EHLO load.bench.test\r\n');
  await expect(250, 'EHLO');
  for (let i = take(); i !== null; i = take()) {
    sock.write(`MAIL FROM:<load@bench.test>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
    await expect(250, 'MAIL');
    await expect(250, 'RCPT');
    await expect(354, 'DATA');
    sock.write(Buffer.concat([message(i, to), Buffer.from('\r\n.\r\n')]));
    await expect(250, 'end of data');
    ok();
  }
  sock.write('QUIT\r\n');
  sock.end();
}

/** Sends `total` messages over `connections` sessions; resolves with the seconds it took. */
async function load(
  port: number,
  to: string,
  total: number,
  connections: number,
): Promise<{ seconds: number; acked: number }> {
  let next = 0;
  let acked = 0;
  const take = () => (next < total ? next++ : null);
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, () => session(port, to, take, () => acked++)));
  return { seconds: (performance.now() - started) / 1000, acked };
}

async function startDime(dns: string): Promise<{ port: number; stop: () => Promise<void>; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dime-bench-ingest-'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      domain: 'sink.test',
      ports: { smtp: 0, submission: 0, submissions: 0, dmtp: 0 },
      passphrase: 'bench passphrase',
      dns: { resolvers: [dns] },
      limits: { maxConnections: 1000 },
      log: { level: 'warn' },
    }),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [join(REPO, 'bin/dime.js'), 'server', 'start', '--data', dir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, DIME_SERVER_PASSPHRASE: '' },
    },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const ready = await new Promise<{ ports: { smtp: number } }>((res, rej) => {
    const t = setInterval(() => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearInterval(t);
        res(JSON.parse(line));
      }
    }, 20);
    exited.then((c) => {
      clearInterval(t);
      rej(new Error(`dime server exited (${c})`));
    });
  });
  const add = dime(['admin', '--data', dir, 'user', 'add', 'sink@sink.test', '--password-stdin'], {
    input: 'bench sink password\n',
  });
  if (add.status !== 0) throw new Error(`user add failed: ${add.stderr}`);
  return {
    port: ready.ports.smtp,
    dir,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

if (!existsSync(join(REPO, 'dist/cli/main.js'))) {
  process.stderr.write('smtp-ingest: build first (npm run build)\n');
  process.exit(2);
}

const dns = await startDnsHarness({
  zones: {
    'bench.test': [txt('@', 'v=spf1 ip4:127.0.0.1 -all'), txt('_dmarc', 'v=DMARC1; p=none')],
  },
});
const server = await startDime(dns.resolverAddress);
const postfix = await startPostfix({ mode: 'sink-maildir', smtpdForbidBareNewline: true });
const dimeRates: number[] = [];
const postfixRates: number[] = [];
let postfixDelivered = 0;
try {
  say(
    `smtp-ingest: ${MESSAGES} messages of ${SIZE} bytes over ${CONNECTIONS} connections, ${ROUNDS} rounds each`,
  );
  say(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; postfix ${postfix.version}`);
  // warm-up (JIT, caches, the resolver's cache)
  await load(server.port, 'sink@sink.test', 200, 20);
  await load(postfix.port, 'sink@sink.test', 200, 20);
  await postfix.waitForMessages(200, 60_000);
  for (let r = 0; r < ROUNDS; r++) {
    const d = await load(server.port, 'sink@sink.test', MESSAGES, CONNECTIONS);
    if (d.acked !== MESSAGES) throw new Error(`dime acknowledged ${d.acked} of ${MESSAGES}`);
    dimeRates.push(MESSAGES / d.seconds);
    say(`  dime    round ${r + 1}: ${(MESSAGES / d.seconds).toFixed(0)} msg/s (${d.seconds.toFixed(2)} s)`);

    const before = postfix.messageFiles().length;
    const started = performance.now();
    const p = await load(postfix.port, 'sink@sink.test', MESSAGES, CONNECTIONS);
    if (p.acked !== MESSAGES) throw new Error(`postfix acknowledged ${p.acked} of ${MESSAGES}`);
    await postfix.waitForMessages(before + MESSAGES, 300_000);
    const seconds = (performance.now() - started) / 1000;
    postfixDelivered += MESSAGES;
    postfixRates.push(MESSAGES / seconds);
    say(
      `  postfix round ${r + 1}: ${(MESSAGES / seconds).toFixed(0)} msg/s in Maildir (${seconds.toFixed(2)} s; 250s after ${p.seconds.toFixed(2)} s)`,
    );
  }
} finally {
  await server.stop();
  await postfix.stop();
  await dns.stop();
}
const d = median(dimeRates);
const p = median(postfixRates);
say(
  JSON.stringify({
    bench: 'smtp-ingest',
    message_bytes: SIZE,
    connections: CONNECTIONS,
    messages_per_round: MESSAGES,
    rounds: ROUNDS,
    dime_msgs_per_s: Math.round(d),
    postfix_msgs_per_s: Math.round(p),
    ratio: Number((d / p).toFixed(2)),
    dime_rounds: dimeRates.map((x) => Math.round(x)),
    postfix_rounds: postfixRates.map((x) => Math.round(x)),
    postfix_delivered: postfixDelivered,
  }),
);
