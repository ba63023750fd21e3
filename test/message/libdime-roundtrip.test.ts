import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { armor } from '../../src/encoding/armor.js';
import { serializeKeys } from '../../src/keys/index.js';
import {
  type Actor,
  kekBytes,
  type OpenedMessage,
  openMessage,
  type SealInput,
  type SealOptions,
  sealMessage,
  signAsOrigin,
} from '../../src/message/index.js';
import { TOOLS, toHexStr } from '../helpers/vectors.js';
import { ACTOR_LIST, enc, freshParties, type Parties, sealActors } from './helpers.js';

/**
 * Round trip ours → libdime (tools/libdime-check.md): the C reference opens our sealed and
 * origin-signed messages as every actor and sees what we see.
 */
const TOOL = resolve(TOOLS, 'libdime-check');
const dir = mkdtempSync(join(tmpdir(), 'dime-msg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function writeParties(p: Parties, tag: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const a of ACTOR_LIST) {
    const org = a === 'origin' || a === 'destination';
    const key = join(dir, `${tag}-${a}.keys`);
    writeFileSync(key, armor(org ? 'ORGANIZATIONAL KEY' : 'USER KEY', serializeKeys(p.keys[a])));
    const signet = join(dir, `${tag}-${a}.signet`);
    writeFileSync(signet, armor(org ? 'ORGANIZATIONAL SIGNET' : 'USER SIGNET', p.signets[a].bytes));
    files[`${a}-key`] = key;
    files[`${a}-signet`] = signet;
  }
  return files;
}

// biome-ignore lint/suspicious/noExplicitAny: libdime-check JSON
type ToolOut = Record<string, any>;

function libdimeOpen(msg: Uint8Array, actor: Actor, files: Record<string, string>, tag: string) {
  if (!existsSync(TOOL)) throw new Error(`libdime-check not found at ${TOOL}: the round trip cannot run`);
  const path = join(dir, `${tag}.msg`);
  writeFileSync(path, msg);
  const args = ['open', path, '--as', actor, '--key', files[`${actor}-key`]!];
  for (const a of ACTOR_LIST) args.push(`--${a}-signet`, files[`${a}-signet`]!);
  const r = spawnSync(TOOL, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`libdime-check cannot run: ${r.error.message}`);
  if (r.status === 2) throw new Error(`libdime-check usage error: ${r.stderr}`);
  const out = (r.stdout.trim() ? JSON.parse(r.stdout) : null) as ToolOut;
  return { status: r.status, signal: r.signal, out, stderr: r.stderr };
}

/** libdime's view against ours (mind libdime's envelope fingerprint bug: use signets_given). */
function compare(ours: OpenedMessage, out: ToolOut) {
  expect(out.ok).toBe(true);
  expect(out.kek_hex).toBe(toHexStr(kekBytes(ours.kek)));
  const env = out.envelope;
  const e = ours.envelope;
  expect(env.author).toBe(e.author);
  expect(env.recipient).toBe(e.recipient);
  expect(env.origin).toBe(e.origin);
  expect(env.destination).toBe(e.destination);
  expect(env.fingerprints.origin).toBe(e.originFingerprint);
  expect(env.fingerprints.destination).toBe(e.destinationFingerprint);
  if (e.authorFingerprint) expect(out.signets_given.author.crypto_fingerprint).toBe(e.authorFingerprint);
  if (e.recipientFingerprint)
    expect(out.signets_given.recipient.crypto_fingerprint).toBe(e.recipientFingerprint);
  const h = ours.commonHeaders?.fields;
  expect(out.headers).toEqual({
    date: h?.date ?? null,
    to: h?.to ?? null,
    cc: h?.cc ?? null,
    from: h?.from ?? null,
    organization: h?.organization ?? null,
    subject: h?.subject ?? null,
  });
  if (ours.otherHeaders) expect(out.other_headers).toBe(Buffer.from(ours.otherHeaders).toString('latin1'));
  // libdime knows no spanning: it lists every display chunk as its own piece
  const displayChunks = ours.chunks.filter((x) => x.type === 67 && x.data);
  expect(out.display.map((d: ToolOut) => [d.type, d.flags, d.hex])).toEqual(
    displayChunks.map((x) => [67, x.flags, toHexStr(x.data!)]),
  );
  const attachChunks = ours.chunks.filter((x) => x.type === 131 && x.data);
  expect(out.attachments.map((d: ToolOut) => [d.type, d.flags, d.length, d.sha256])).toEqual(
    attachChunks.map((x) => [131, x.flags, x.data!.length, sha256(x.data!)]),
  );
}

function sealInput(p: Parties, over: Partial<SealInput> = {}): SealInput {
  return {
    ...sealActors(p),
    commonHeaders: {
      date: 'Fri, 27 Nov 2026 10:00:00 +0000',
      to: 'Bob <bob@dest.test>',
      cc: 'Carol <carol@dest.test>',
      from: 'Alice <alice@origin.test>',
      organization: 'Origin Org',
      subject: 'Round trip',
    },
    otherHeaders: 'Message-ID: <rt@origin.test>\r\nX-Mailer: dime-ts\r\n',
    display: [{ data: 'Hello Bob.\r\nThis is our DIME test.\r\n' }, { data: '<p>second part</p>' }],
    attachments: [{ data: crypto().randomBytes(5000) }, { data: Uint8Array.of(0, 255, 10, 13) }],
    ...over,
  };
}

const scenarios: [string, Partial<SealInput>, SealOptions][] = [
  ['full message', {}, {}],
  [
    'minimal headers, no other headers, no attachments, minimal padding',
    {
      commonHeaders: {
        date: 'Fri, 27 Nov 2026 10:00:00 +0000',
        to: 'b@dest.test',
        from: 'a@origin.test',
        subject: '',
      },
      otherHeaders: null,
      attachments: [],
      display: [{ data: 'x' }],
    },
    { padding: 'minimal' },
  ],
  ['a 200 kB attachment', { attachments: [{ data: crypto().randomBytes(200_000) }] }, {}],
  [
    'a largest-size chunk (16,777,130 data bytes)',
    { attachments: [{ data: new Uint8Array(16_777_130).fill(0x5a) }] },
    {},
  ],
  ['tracing prefix', {}, { tracing: enc('Received: from origin.test by dest.test') }],
  [
    'a display part spanning 3 chunks',
    { display: [{ data: crypto().randomBytes(700) }] },
    { maxChunkData: 256 },
  ],
];

describe('round trip: our messages opened by libdime (libdime-check open)', () => {
  const p = freshParties();
  const files = writeParties(p, 'rt');
  scenarios.forEach(([name, over, opts], n) => {
    const sealed = sealMessage(sealInput(p, over), opts);
    const final = signAsOrigin(sealed, p.keys.origin, p.signets);
    for (const actor of ACTOR_LIST) {
      it(`${name}: ${actor} (origin-signed)`, () => {
        const ours = openMessage(final, { actor, keys: p.keys[actor], signets: p.signets });
        const r = libdimeOpen(final, actor, files, `final-${n}-${actor}`);
        expect(r.status, r.stderr).toBe(0);
        compare(ours, r.out);
      });
    }
    it(`${name}: author-stage message is accepted by author and origin, refused by destination and recipient`, () => {
      for (const actor of ['author', 'origin'] as const) {
        const r = libdimeOpen(sealed, actor, files, `author-${n}-${actor}`);
        expect(r.status, r.stderr).toBe(0);
        compare(openMessage(sealed, { actor, keys: p.keys[actor], signets: p.signets }), r.out);
      }
      for (const actor of ['destination', 'recipient'] as const) {
        expect(libdimeOpen(sealed, actor, files, `author-${n}-${actor}`).status).toBe(1);
      }
    });
  });

  it('why sections are padded to one payload length: libdime cannot read display chunks of different lengths', () => {
    const inp = sealInput(p, {
      display: [{ data: 'a' }, { data: 'b'.repeat(500) }, { data: 'c'.repeat(300) }],
    });
    const independent = signAsOrigin(
      sealMessage(inp, { padding: 'minimal', sectionPadding: 'independent' }),
      p.keys.origin,
      p.signets,
    );
    // dmsg_section_deserialize takes the first chunk's payload length for all: libdime fails or crashes
    expect(libdimeOpen(independent, 'recipient', files, 'independent').status).not.toBe(0);
    expect(
      openMessage(independent, { actor: 'recipient', keys: p.keys.recipient, signets: p.signets }).display
        .length,
    ).toBe(3);
    const equal = signAsOrigin(sealMessage(inp, { padding: 'minimal' }), p.keys.origin, p.signets);
    const r = libdimeOpen(equal, 'recipient', files, 'equal');
    expect(r.status, r.stderr).toBe(0);
    compare(openMessage(equal, { actor: 'recipient', keys: p.keys.recipient, signets: p.signets }), r.out);
  });

  it('libdime refuses our message with a flipped byte, as we do', () => {
    const final = signAsOrigin(sealMessage(sealInput(p)), p.keys.origin, p.signets);
    for (const pos of [50, Math.floor(final.length / 2), final.length - 1]) {
      const bad = new Uint8Array(final);
      bad[pos]! ^= 1;
      expect(libdimeOpen(bad, 'recipient', files, `flip-${pos}`).status).toBe(1);
      expect(() =>
        openMessage(bad, { actor: 'recipient', keys: p.keys.recipient, signets: p.signets }),
      ).toThrow();
    }
  });
});
