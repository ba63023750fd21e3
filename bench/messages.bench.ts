/**
 * DMIME message speed (`npm run bench -- messages`): seal for the four actors, and open as the
 * recipient with every signature checked, of 10 KB, 1 MB and 100 MB messages (one display part of
 * ASCII text, Date/To/From/Organization/Subject and one other header, like libdime-bench), beside,
 * in the same run and interleaved with them, the raw primitives our code calls for the same bytes
 * (ECDH, Ed25519, AES-256-CBC, SHA-512, the random bytes), and libdime-bench --size 10240. Then
 * the RSS growth of the CLI on a 100 MB attachment (bench/messages-rss.ts).
 */
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crypto } from '../src/crypto/index.js';
import { type DimeKeys, generateKeys } from '../src/keys/index.js';
import { CIPHER_SLICE } from '../src/message/chunk-cipher.js';
import {
  type Actor,
  ChunkType,
  chunkSpec,
  ed25519Verify,
  isContentChunk,
  type OpenedMessage,
  openMessage,
  parseMessage,
  type SealInput,
  SigningKey,
  sealMessage,
  signAsOrigin,
  signatureRange,
  slotIndex,
  treeSignatureInput,
} from '../src/message/index.js';
import { createOrgSignet, createSsr, type Signet, signRequest } from '../src/signet/index.js';
import { interleavedRates, machine, report, round, runLibdimeBench } from './lib.js';
import { measureRss, writeParties } from './messages-rss.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const c = crypto();
const libdime = runLibdimeBench(['--size', '10240']);

interface Fixture {
  bytes: number;
  input: SealInput;
  keys: Record<Actor, DimeKeys>;
  signets: Record<Actor, Signet>;
  final: Uint8Array;
}

function parties(): Pick<Fixture, 'keys' | 'signets'> {
  const keys = {
    author: generateKeys('user'),
    origin: generateKeys('org'),
    destination: generateKeys('org'),
    recipient: generateKeys('user'),
  };
  const origin = createOrgSignet(keys.origin, { domain: 'alpha.test' });
  const destination = createOrgSignet(keys.destination, { domain: 'beta.test' });
  return {
    keys,
    signets: {
      origin,
      destination,
      author: signRequest(createSsr(keys.author), keys.origin, { address: 'user@alpha.test' }),
      recipient: signRequest(createSsr(keys.recipient), keys.destination, { address: 'user@beta.test' }),
    },
  };
}

const P = parties();

function fixture(bytes: number): Fixture {
  const input: SealInput = {
    author: { keys: P.keys.author, signet: P.signets.author },
    recipient: { signet: P.signets.recipient },
    origin: { signet: P.signets.origin },
    destination: { signet: P.signets.destination },
    commonHeaders: {
      date: 'Wed, 25 Nov 2026 12:00:00 +0000',
      to: 'User <user@beta.test>',
      from: 'User <user@alpha.test>',
      organization: 'Alpha Org',
      subject: 'Benchmark',
    },
    otherHeaders: 'X-Test: 1\r\n',
    display: [{ data: new Uint8Array(bytes).fill(0x41) }],
  };
  const final = signAsOrigin(sealMessage(input), P.keys.origin, P.signets);
  return { bytes, input, ...P, final };
}

const sodiumSign = (key: SigningKey, m: Uint8Array) => key.sign(m);
const encryptAll = (key: Uint8Array, iv: Uint8Array, data: Uint8Array) => {
  const x = createCipheriv('aes-256-cbc', key, iv);
  x.setAutoPadding(false);
  for (let at = 0; at < data.length; at += CIPHER_SLICE) x.update(data.subarray(at, at + CIPHER_SLICE));
  x.final();
};
const decryptAll = (key: Uint8Array, iv: Uint8Array, data: Uint8Array) => {
  const x = createDecipheriv('aes-256-cbc', key, iv);
  x.setAutoPadding(false);
  for (let at = 0; at < data.length; at += CIPHER_SLICE) x.update(data.subarray(at, at + CIPHER_SLICE));
  x.final();
};

/**
 * The primitives a seal calls, on the same sizes: an ephemeral key and its public key, 4 ECDH +
 * SHA-512, one Ed25519 signature per STANDARD chunk and the tree and author full signatures,
 * AES-256-CBC of every payload and keyslot (one cipher per actor for the keyslots), SHA-512 of
 * every content chunk, and the random bytes.
 */
function rawSeal(f: Fixture): () => void {
  const msg = parseMessage(f.final);
  const opened = openMessage(f.final, { actor: 'author', keys: f.keys.author, signets: f.signets });
  const plains = opened.chunks.map((x) => x.plain);
  const pubs = (['author', 'origin', 'destination', 'recipient'] as const).map(
    (a) => f.signets[a].encryptionKey,
  );
  const key = c.randomBytes(32);
  const iv = c.randomBytes(16);
  const slot = c.randomBytes(64);
  const treeInput = treeSignatureInput(msg.chunks, 'libdime');
  const r226 = signatureRange(
    ChunkType.AUTHOR_FULL_SIG,
    msg.chunks.map((x) => ({ ...x, size: x.serialized.length })),
  );
  const fullInput = f.final.subarray(r226.start, r226.end);
  const randomNeeded = msg.chunks.reduce((n, x) => n + 48 + 16 * chunkSpec(x.type)!.slots.length + 1, 0);
  const pool = new Uint8Array(randomNeeded);
  const hashOnly = (x: Uint8Array) => createHash('sha512').update(x).digest();
  return () => {
    const signer = SigningKey.fromSeed(f.keys.author.signingSeed);
    const e = c.secp256k1GeneratePrivate();
    c.secp256k1PublicKey(e);
    for (const pub of pubs) hashOnly(c.secp256k1EcdhX(e, pub));
    randomFillSync(pool);
    const slotCiphers = pubs.map(() => {
      const x = createCipheriv('aes-256-cbc', key, iv);
      x.setAutoPadding(false);
      return x;
    });
    msg.chunks.forEach((w, i) => {
      if (w.type === ChunkType.EPHEMERAL) return;
      const plain = plains[i]!;
      if (chunkSpec(w.type)!.payload === 'standard') sodiumSign(signer, plain.subarray(64));
      encryptAll(key, iv, plain);
      for (let s = 0; s < w.keyslots.length; s++) slotCiphers[s]!.update(slot);
      if (isContentChunk(w.type)) hashOnly(w.serialized);
    });
    sodiumSign(signer, treeInput);
    sodiumSign(signer, fullInput);
    signer.destroy();
  };
}

/**
 * The primitives a recipient's open calls, on the same sizes: ECDH + SHA-512, the keyslots (one
 * ECB decipher) and payloads it decrypts, SHA-512 of every content chunk, and every verification:
 * one per STANDARD chunk, the tree, the author full and the three origin signatures.
 */
function rawOpen(f: Fixture): () => void {
  const msg = parseMessage(f.final);
  const opened: OpenedMessage = openMessage(f.final, {
    actor: 'recipient',
    keys: f.keys.recipient,
    signets: f.signets,
  });
  const ePub = msg.chunks[0]!.payload;
  const authorKey = f.signets.author.signingKey;
  const originKey = f.signets.origin.signingKey;
  const key = c.randomBytes(32);
  const iv = c.randomBytes(16);
  const spans = msg.chunks.map((x) => ({ ...x, size: x.serialized.length }));
  const checks: (() => boolean)[] = [];
  msg.chunks.forEach((w, i) => {
    const plain = opened.chunks[i]!.plain;
    if (w.type === ChunkType.EPHEMERAL || !plain) return;
    if (chunkSpec(w.type)!.payload === 'standard') {
      checks.push(() => ed25519Verify(authorKey, plain.subarray(64), plain.subarray(0, 64)));
    }
  });
  const sigOf = (t: number) => opened.chunks.find((x) => x.type === t)!.plain!;
  const treeInput = treeSignatureInput(msg.chunks, 'libdime');
  checks.push(() => ed25519Verify(authorKey, treeInput, sigOf(ChunkType.AUTHOR_TREE_SIG)));
  for (const [t, k] of [
    [ChunkType.AUTHOR_FULL_SIG, authorKey],
    [ChunkType.ORIGIN_META_BOUNCE_SIG, originKey],
    [ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG, originKey],
    [ChunkType.ORIGIN_FULL_SIG, originKey],
  ] as const) {
    const r = signatureRange(t, spans);
    const range = f.final.subarray(r.start, r.end);
    checks.push(() => ed25519Verify(k, range, sigOf(t)));
  }
  const visible = msg.chunks.filter(
    (w) => w.type !== ChunkType.EPHEMERAL && slotIndex(w.type, 'recipient') >= 0,
  );
  return () => {
    c.sha512(c.secp256k1EcdhX(f.keys.recipient.encryptionPrivate, ePub));
    const ecb = createDecipheriv('aes-256-ecb', key, null);
    ecb.setAutoPadding(false);
    for (const w of visible) {
      ecb.update(w.keyslots[0]!);
      decryptAll(key, iv, w.payload);
      if (isContentChunk(w.type)) createHash('sha512').update(w.serialized).digest();
    }
    for (const check of checks) if (!check()) throw new Error('raw verification failed');
  };
}

function measure(f: Fixture, secs: number) {
  const seal = () => sealMessage(f.input);
  const open = () => openMessage(f.final, { actor: 'recipient', keys: f.keys.recipient, signets: f.signets });
  const fns = { seal, open, rawSeal: rawSeal(f), rawOpen: rawOpen(f) };
  if (f.bytes <= 2 * 1024 * 1024) return interleavedRates(fns, secs);
  // 100 MB: a few whole calls each, alternating
  const times: Record<string, number[]> = { seal: [], open: [], rawSeal: [], rawOpen: [] };
  for (let r = 0; r < 2; r++) {
    for (const [k, fn] of Object.entries(fns)) {
      const t = process.hrtime.bigint();
      fn();
      times[k]!.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
  }
  return Object.fromEntries(
    Object.entries(times).map(([k, v]) => [k, v.length / v.reduce((a, b) => a + b, 0)]),
  );
}

// BENCH_SIZES=10k,1m limits the sizes and BENCH_RSS=0 skips the CLI memory run (for quick looks)
const only = process.env.BENCH_SIZES?.split(',');
const sizes = [
  { name: '10k', bytes: 10240 },
  { name: '1m', bytes: 1024 * 1024 },
  { name: '100m', bytes: 100 * 1024 * 1024 },
].filter((s) => !only || only.includes(s.name));
const figures: Record<string, unknown> = {};
for (const { name, bytes } of sizes) {
  const f = fixture(bytes);
  const r = measure(f, name === '10k' ? seconds * 3 : seconds * 2);
  const mb = bytes / 1e6;
  const ours = 1 / r.seal! + 1 / r.open!;
  const raw = 1 / r.rawSeal! + 1 / r.rawOpen!;
  Object.assign(figures, {
    [`seal_${name}_per_s`]: round(r.seal!, name === '100m' ? 3 : 1),
    [`open_${name}_per_s`]: round(r.open!, name === '100m' ? 3 : 1),
    [`seal_${name}_mb_per_s`]: round(r.seal! * mb),
    [`open_${name}_mb_per_s`]: round(r.open! * mb),
    [`raw_seal_${name}_per_s`]: round(r.rawSeal!, name === '100m' ? 3 : 1),
    [`raw_open_${name}_per_s`]: round(r.rawOpen!, name === '100m' ? 3 : 1),
    [`raw_${name}_per_s`]: round(1 / raw, name === '100m' ? 3 : 1),
    [`overhead_${name}`]: round(ours / raw, 3),
    [`overhead_seal_${name}`]: round(r.rawSeal! / r.seal!, 3),
    [`overhead_open_${name}`]: round(r.rawOpen! / r.open!, 3),
    [`wire_${name}_bytes`]: f.final.length,
  });
}

const ref = libdime();
let rss: Awaited<ReturnType<typeof measureRss>> | null = null;
if (process.env.BENCH_RSS !== '0') {
  const rssDir = mkdtempSync(join(tmpdir(), 'dime-bench-rss-'));
  try {
    rss = await measureRss(rssDir, writeParties(rssDir), 100);
  } finally {
    rmSync(rssDir, { recursive: true, force: true });
  }
}

report('messages', {
  ...figures,
  libdime_encrypt_per_s: ref?.encrypt_per_s ?? null,
  libdime_decrypt_per_s: ref?.decrypt_per_s ?? null,
  seal_vs_libdime:
    ref && figures.seal_10k_per_s ? round((figures.seal_10k_per_s as number) / ref.encrypt_per_s, 3) : null,
  open_vs_libdime:
    ref && figures.open_10k_per_s ? round((figures.open_10k_per_s as number) / ref.decrypt_per_s, 3) : null,
  rss_100m_mb: rss ? Math.max(rss.growth.seal, rss.growth.open) : null,
  rss_100m_tiny_mb: rss?.tinyGrowth ?? null,
  rss_100m_steps_mb: rss?.growth ?? null,
  rss_100m_seconds: rss?.seconds ?? null,
  baseline:
    'overhead = our time ÷ raw primitive time for seal + open (interleaved, same bytes); libdime-bench --size 10240 encrypt/decrypt (recipient) in the same run; rss = growth of the CLI RSS (peak over start, max of seal and open --json) on a 100 MiB attachment',
  machine: machine(),
});
