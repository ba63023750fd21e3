/**
 * Memory of `dime message` on large messages: the CLI runs in a child process (the built dist,
 * in-process, so that its own peak RSS can be read) sealing, origin-signing and opening a MIME
 * message with one attachment of N MiB. Growth = the command's peak RSS (Linux VmHWM, reset when
 * it starts) − its RSS when it starts, the program loaded; a tiny message gives the fixed cost. Shared by test/message/rss.test.ts and bench/messages.bench.ts.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { armor } from '../src/encoding/armor.js';
import { generateKeys, serializeKeys } from '../src/keys/index.js';
import type { Actor } from '../src/message/index.js';
import { createOrgSignet, createSsr, signRequest } from '../src/signet/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ACTORS: readonly Actor[] = ['author', 'origin', 'destination', 'recipient'];

/** The child: runs the CLI program from dist and prints its peak RSS last on stderr. */
const CHILD = `
import { readFileSync, writeFileSync } from 'node:fs';
const [{ buildProgram }, { runProgram }] = await Promise.all([
  import(${JSON.stringify(pathToFileURL(join(REPO, 'dist/cli/program.js')).href)}),
  import(${JSON.stringify(pathToFileURL(join(REPO, 'dist/cli/run.js')).href)}),
]);
const status = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+) kB').exec(readFileSync('/proc/self/status', 'utf8'))[1]);
// the command's own growth: the peak (VmHWM, reset here through clear_refs) over the RSS it starts
// with, the program loaded (getrusage's maxrss would even carry the parent's peak over exec)
let base = 0;
try {
  writeFileSync('/proc/self/clear_refs', '5');
  base = status('VmRSS');
} catch {}
const code = await runProgram(buildProgram(), ['node', 'dime', ...process.argv.slice(1)]);
let peak = process.resourceUsage().maxRSS;
try {
  peak = status('VmHWM');
} catch {}
process.stderr.write('\\nbase_rss_kb=' + base + ' max_rss_kb=' + peak + '\\n');
process.exitCode = code;
`;

export interface Measured {
  status: number;
  stdout: Buffer;
  stderr: string;
  maxRssMb: number;
  /** RSS when the command started (program loaded). */
  baseRssMb: number;
  seconds: number;
}

/** Runs `dime args…` in a child process; stdout goes to `stdoutFile` when given (else kept). */
export function runMeasured(args: string[], stdoutFile?: string): Promise<Measured> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const out = stdoutFile ? openSync(stdoutFile, 'w') : 'pipe';
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, '--', ...args], {
      stdio: ['ignore', out, 'pipe'],
    });
    const chunks: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => chunks.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code) => {
      if (typeof out === 'number') closeSync(out);
      const stderr = Buffer.concat(err).toString('utf8');
      const m = /base_rss_kb=(\d+) max_rss_kb=(\d+)\s*$/.exec(stderr);
      done({
        status: code ?? -1,
        stdout: Buffer.concat(chunks),
        stderr: stderr.replace(/\n?base_rss_kb=\d+ max_rss_kb=\d+\s*$/, ''),
        maxRssMb: m ? Number(m[2]) / 1024 : Number.NaN,
        baseRssMb: m ? Number(m[1]) / 1024 : Number.NaN,
        seconds: Number(process.hrtime.bigint() - start) / 1e9,
      });
    });
  });
}

export interface PartyFiles {
  key: Record<Actor, string>;
  signet: Record<Actor, string>;
}

/** Fresh keys (plain files) and ID signets for the four actors, written to `dir`. */
export function writeParties(dir: string): PartyFiles {
  const keys = {
    author: generateKeys('user'),
    origin: generateKeys('org'),
    destination: generateKeys('org'),
    recipient: generateKeys('user'),
  };
  const origin = createOrgSignet(keys.origin, { domain: 'origin.test' });
  const destination = createOrgSignet(keys.destination, { domain: 'dest.test' });
  const signets = {
    origin,
    destination,
    author: signRequest(createSsr(keys.author), keys.origin, { address: 'alice@origin.test' }),
    recipient: signRequest(createSsr(keys.recipient), keys.destination, { address: 'bob@dest.test' }),
  };
  const files: PartyFiles = { key: {} as Record<Actor, string>, signet: {} as Record<Actor, string> };
  for (const a of ACTORS) {
    const org = a === 'origin' || a === 'destination';
    files.key[a] = join(dir, `${a}.key`);
    files.signet[a] = join(dir, `${a}.signet`);
    writeFileSync(files.key[a], armor(org ? 'ORGANIZATIONAL KEY' : 'USER KEY', serializeKeys(keys[a])));
    writeFileSync(files.signet[a], armor(org ? 'ORGANIZATIONAL SIGNET' : 'USER SIGNET', signets[a].bytes));
  }
  return files;
}

/**
 * Writes a MIME message with a short text and one base64 attachment of `bytes` random bytes,
 * streamed in blocks; returns the attachment's SHA-256.
 */
export function writeMimeWithAttachment(path: string, bytes: number): string {
  const fd = openSync(path, 'w');
  try {
    writeSync(
      fd,
      'From: Alice <alice@origin.test>\r\nTo: Bob <bob@dest.test>\r\nSubject: large\r\n' +
        'Date: Sat, 28 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
        '--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="large.bin"\r\n' +
        'Content-Transfer-Encoding: base64\r\n\r\n',
    );
    const h = createHash('sha256');
    const block = 57 * 16 * 1024; // whole 76-character base64 lines
    for (let left = bytes; left > 0; ) {
      const b = randomBytes(Math.min(block, left));
      h.update(b);
      left -= b.length;
      const text = b.toString('base64').replace(/.{76}/g, '$&\r\n');
      writeSync(fd, text.endsWith('\r\n') ? text : `${text}\r\n`);
    }
    writeSync(fd, '--b--\r\n');
    return h.digest('hex');
  } finally {
    closeSync(fd);
  }
}

export interface RssRun {
  /** Peak RSS (MiB) of each step on the large message. */
  peak: { seal: number; sign: number; open: number; mime: number };
  /** Growth of each step on the large message: its peak over the RSS it started with (MiB). */
  growth: { seal: number; sign: number; open: number; mime: number };
  /** The same on a tiny message (the fixed cost of a step). */
  tinyGrowth: { seal: number; sign: number; open: number; mime: number };
  seconds: { seal: number; sign: number; open: number; mime: number };
  /** What open --json reported for the attachment, and its expected SHA-256. */
  attachment: { size: number; sha256: string; chunks: number } | null;
  expectedSha256: string;
  sealWarning: string;
}

/** The run of a command with the least growth (garbage collection timing only ever adds). */
async function least(times: number, run: () => Promise<Measured>): Promise<Measured> {
  let best: Measured | null = null;
  for (let i = 0; i < times; i++) {
    const r = await run();
    if (r.status !== 0) return r;
    if (!best || r.maxRssMb - r.baseRssMb < best.maxRssMb - best.baseRssMb) best = r;
  }
  return best!;
}

async function steps(dir: string, tag: string, parties: PartyFiles, eml: string, repeat: number) {
  const sealed = join(dir, `${tag}.sealed`);
  const final = join(dir, `${tag}.final`);
  const signets = ACTORS.flatMap((a) => ['--signet', parties.signet[a]]);
  const check = (what: string, r: Measured) => {
    if (r.status !== 0) throw new Error(`${what} (${tag}) failed: ${r.stderr}`);
    return r;
  };
  const seal = check(
    'seal',
    await runMeasured([
      ...['message', 'seal', '--key', parties.key.author, '--signet', parties.signet.author],
      ...['--to', parties.signet.recipient, '--origin', parties.signet.origin],
      ...['--destination', parties.signet.destination, '--in', eml, '--out', sealed],
    ]),
  );
  const sign = check(
    'sign-origin',
    await least(repeat, () =>
      runMeasured([
        'message',
        'sign-origin',
        sealed,
        '--key',
        parties.key.origin,
        ...signets,
        '--out',
        final,
      ]),
    ),
  );
  const openArgs = [
    'message',
    'open',
    final,
    '--key',
    parties.key.recipient,
    '--as',
    'recipient',
    ...signets,
  ];
  const open = check('open', await least(repeat, () => runMeasured([...openArgs, '--json'])));
  const mime = check(
    'open --mime',
    await least(repeat, () => runMeasured([...openArgs, '--mime'], join(dir, `${tag}.mime`))),
  );
  return { seal, sign, open, mime };
}

/**
 * Seal, origin-sign, open --json and open --mime of a message with an attachment of `mib` MiB;
 * the steps after the seal run `repeat` times and the least growth counts.
 */
export async function measureRss(dir: string, parties: PartyFiles, mib: number, repeat = 1): Promise<RssRun> {
  const tinyEml = join(dir, 'tiny.eml');
  writeMimeWithAttachment(tinyEml, 1024);
  const bigEml = join(dir, `large-${mib}.eml`);
  const expectedSha256 = writeMimeWithAttachment(bigEml, mib * 1024 * 1024);
  const tiny = await steps(dir, 'tiny', parties, tinyEml, 1);
  const big = await steps(dir, `large-${mib}`, parties, bigEml, repeat);
  const keys = ['seal', 'sign', 'open', 'mime'] as const;
  const map = (f: (k: (typeof keys)[number]) => number) =>
    Object.fromEntries(keys.map((k) => [k, Math.round(f(k) * 10) / 10])) as RssRun['peak'];
  const att = JSON.parse(big.open.stdout.toString('utf8')).attachments?.[0] ?? null;
  return {
    peak: map((k) => big[k].maxRssMb),
    growth: map((k) => big[k].maxRssMb - big[k].baseRssMb),
    tinyGrowth: map((k) => tiny[k].maxRssMb - tiny[k].baseRssMb),
    seconds: map((k) => big[k].seconds),
    attachment: att ? { size: att.size, sha256: att.sha256, chunks: att.chunks } : null,
    expectedSha256,
    sealWarning: big.seal.stderr,
  };
}
