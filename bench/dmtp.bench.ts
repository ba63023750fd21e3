/**
 * `npm run bench -- dmtp`: domain-to-domain DMTP delivery (issue 6), beside the raw TLS echo
 * throughput of the same machine measured in the same run.
 *
 * Two real domains (test/helpers/two-domains.ts in process mode: two `dime server start`
 * processes, Knot + Unbound with signed zones). Before the clock starts, this process writes 10 KB
 * DIME messages from alice@alpha.test to bob@beta.test exactly as alpha's submission path does
 * (alice's key from a STACIE login, alpha's org key for the origin signature), and warms the
 * caches (management record, DX address, the TLS session is new per connection). Then
 * BENCH_CONNECTIONS (default 4; then 1 and 8, BENCH_ALSO_CONNECTIONS) DMTP connections to beta's DX (port 26, TLS 1.2+/1.3, certificate
 * pinned by the DNSSEC-validated record) each send their share back to back: MAIL, RCPT, DATA; beta
 * checks the origin, opens the envelope as the destination, verifies the origin signatures and
 * commits the object before its 250. Latency is per message (MAIL to the final 250).
 *
 * TLS echo: the same number of TLS connections to a plain echo server, 10 KB out and back per
 * round trip, as the ceiling of a request/response over TLS on loopback here.
 *
 * Last stdout line: `{"msgs_per_s","p50_ms","p99_ms","tls_echo_per_s",…}`.
 */

import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { signAsOrigin } from '../src/message/origin-sign.js';
import { envelopeFingerprint } from '../src/message/parties.js';
import { sealMessage } from '../src/message/seal.js';
import { connectDmtp } from '../src/protocol/dmtp/client.js';
import { createSelfSignedCertificate } from '../src/protocol/tls/self-signed.js';
import { DimeResolver } from '../src/resolver/resolver.js';
import { SignetResolver } from '../src/resolver/signets.js';
import { openLocalDomain } from '../src/server/domains.js';
import { parseUserSignet } from '../src/signet/index.js';
import { verifyLogin } from '../src/store/index.js';
import { startTwoDomains, TWO_DOMAINS_PASSPHRASE } from '../test/helpers/two-domains.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '..');
/**
 * The headline figures use 4 connections: by Little's law, latency = connections in flight /
 * throughput, so 8 back-to-back connections at 600 msg/s cannot show a p50 under 13 ms however fast
 * each message is; 4 is the concurrency at which the two targets (≥ 500 msg/s, p50 < 10 ms)
 * are jointly meaningful. 1 and 8 connections are measured in the same run and reported beside it.
 */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const ALSO = (process.env.BENCH_ALSO_CONNECTIONS ?? '1,8')
  .split(',')
  .filter((s) => s !== '')
  .map(Number);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 3000);
const SIZE = 10 * 1024;

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

if (!existsSync(join(REPO, 'dist/cli/main.js'))) {
  process.stderr.write('dmtp bench: build first (npm run build)\n');
  process.exit(2);
}

/** TLS round trips of `size` bytes per second over `connections` connections for `seconds`. */
async function tlsEcho(connections: number, size: number, seconds: number): Promise<number> {
  const cert = await createSelfSignedCertificate({ hostnames: ['echo.test'] });
  const server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, minVersion: 'TLSv1.2' }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const payload = Buffer.alloc(size, 0x61);
  let rounds = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
      await new Promise<void>((r) => s.once('secureConnect', () => r()));
      let got = 0;
      let wake: (() => void) | null = null;
      s.on('data', (d: Buffer) => {
        got += d.length;
        wake?.();
      });
      while (performance.now() < until) {
        got = 0;
        s.write(payload);
        while (got < size) await new Promise<void>((r) => (wake = r));
        rounds++;
      }
      s.destroy();
    }),
  );
  await new Promise<void>((r) => server.close(() => r()));
  return rounds / seconds;
}

const world = await startTwoDomains({ mode: 'process' });
try {
  await world.alpha.addUser('alice@alpha.test', 'alice bench password');
  await world.beta.addUser('bob@beta.test', 'bob bench password');
  const ports: Record<string, number> = {
    'dx.beta.test:26': world.beta.ports.dmtp,
    'dx.alpha.test:26': world.alpha.ports.dmtp,
  };
  const resolver = new DimeResolver({ servers: [world.dns.resolverAddress] });
  const portOverrides = (host: string, port: number) => ports[`${host}:${port}`] ?? port;
  const signets = new SignetResolver({ resolver, portOverrides });
  const bob = await signets.resolveUser('bob@beta.test');

  // alpha's side of the submission: alice's key and the org key
  const { openServerStore } = await import('../src/server/store.js');
  const { loadServerConfig } = await import('../src/server/config.js');
  const { DataPaths } = await import('../src/server/data-dir.js');
  const alphaConfig = loadServerConfig({ dataDir: world.alpha.dataDir, env: {} });
  const alphaStore = await openServerStore(alphaConfig, new DataPaths(world.alpha.dataDir));
  const session = await verifyLogin(alphaStore, 'alice@alpha.test', 'alice bench password');
  const row = (await alphaStore.getDomain('alpha.test'))!;
  const org = openLocalDomain(new DataPaths(world.alpha.dataDir), row, TWO_DOMAINS_PASSPHRASE, 'dime');
  const author = parseUserSignet(session.user.signet!);
  const text = 'The quick brown fox jumps over the lazy dog. 0123456789 ';
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const display = `Content-Type: text/plain; charset=utf-8\r\n\r\nmessage ${i}\r\n${text.repeat(Math.ceil(SIZE / text.length)).slice(0, SIZE - 64)}\r\n`;
    const sealed = sealMessage({
      author: { keys: session.userKeys!, signet: author, address: 'alice@alpha.test' },
      recipient: { signet: bob.signet, address: 'bob@beta.test' },
      origin: { signet: org.orgSignet, domain: 'alpha.test' },
      destination: { signet: bob.org.signet, domain: 'beta.test' },
      commonHeaders: {
        date: new Date().toUTCString(),
        to: 'bob@beta.test',
        from: 'alice@alpha.test',
        subject: `bench ${i}`,
      },
      display: [{ data: display }],
    });
    bodies.push(
      signAsOrigin(sealed, org.orgKeys, { author, origin: org.orgSignet, destination: bob.org.signet }),
    );
  }
  session.destroy();
  await alphaStore.close();
  const envelope = {
    origin: 'alpha.test',
    originFingerprint: envelopeFingerprint(org.orgSignet),
    destination: 'beta.test',
    destinationFingerprint: envelopeFingerprint(bob.org.signet),
  };
  say(
    `dmtp: ${MESSAGES} DIME messages of ~${Math.round(bodies[0]!.length / 1024)} KB over ${CONNECTIONS} connections`,
  );
  say(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);

  // warm-up: record, DX address, beta's origin lookup of alpha (its own caches)
  const warm = await connectDmtp('beta.test', { resolver, portOverrides, ehlo: 'dx.alpha.test' });
  await warm.connection.send(envelope, bodies[0]!);
  await warm.connection.quit();

  /** Sends bodies[from..to) over `connections` connections, back to back on each. */
  async function run(connections: number, from: number, to: number) {
    const latencies: number[] = [];
    let next = from;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        const { connection } = await connectDmtp('beta.test', {
          resolver,
          portOverrides,
          ehlo: 'dx.alpha.test',
        });
        try {
          for (let i = next++; i < to; i = next++) {
            const t = performance.now();
            await connection.send(envelope, bodies[i]!);
            latencies.push(performance.now() - t);
          }
        } finally {
          await connection.quit();
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      connections,
      messages: latencies.length,
      seconds,
      msgs_per_s: Math.round(latencies.length / seconds),
      p50_ms: Number(percentile(latencies, 50).toFixed(2)),
      p99_ms: Number(percentile(latencies, 99).toFixed(2)),
    };
  }

  // the headline run first (on the warm caches), then the others on the rest of the messages
  // untimed: beta's JIT, SQLite's page cache and the allocator settle (the first few hundred
  // messages run at about three quarters of the steady rate)
  const warmCount = Math.min(1000, Math.floor((bodies.length - 1) * 0.25));
  await run(CONNECTIONS, 1, 1 + warmCount);
  const headlineCount = Math.floor((bodies.length - 1 - warmCount) * (ALSO.length > 0 ? 0.6 : 1));
  const main = await run(CONNECTIONS, 1 + warmCount, 1 + warmCount + headlineCount);
  say(
    `  ${main.connections} connections: delivered ${main.messages} in ${main.seconds.toFixed(2)} s: ${main.msgs_per_s} msg/s`,
  );
  say(`  latency p50 ${main.p50_ms} ms, p99 ${main.p99_ms} ms`);
  const others: Awaited<ReturnType<typeof run>>[] = [];
  const share = Math.floor((bodies.length - 1 - warmCount - headlineCount) / Math.max(1, ALSO.length));
  let at = 1 + warmCount + headlineCount;
  for (const c of ALSO) {
    const r = await run(c, at, at + share);
    at += share;
    others.push(r);
    say(
      `  ${c} connection(s): ${r.msgs_per_s} msg/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms (${r.messages} messages)`,
    );
  }
  const echo = await tlsEcho(CONNECTIONS, SIZE, 3);
  say(`  raw TLS echo of ${SIZE} bytes: ${echo.toFixed(0)} round trips/s`);
  say(
    JSON.stringify({
      bench: 'dmtp',
      message_bytes: bodies[0]!.length,
      connections: main.connections,
      messages: main.messages,
      msgs_per_s: main.msgs_per_s,
      p50_ms: main.p50_ms,
      p99_ms: main.p99_ms,
      tls_echo_per_s: Math.round(echo),
      target_met: main.msgs_per_s >= 500 && main.p50_ms < 10,
      by_connections: Object.fromEntries(
        others.map((r) => [
          String(r.connections),
          { msgs_per_s: r.msgs_per_s, p50_ms: r.p50_ms, p99_ms: r.p99_ms },
        ]),
      ),
    }),
  );
} finally {
  await world.stop();
}
