import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeObjectInput } from '../../src/encoding/input.js';
import { loadKeys } from '../../src/keys/index.js';
import {
  type Actor,
  ChunkType,
  openMessage,
  parseMessage,
  reencryptChunk,
  serializeMessage,
} from '../../src/message/index.js';
import { parseSignet } from '../../src/signet/index.js';
import { libdimeCheck, tempDir } from '../helpers/cli.js';
import { hex } from '../helpers/vectors.js';
import {
  ACTORS,
  type CliParties,
  cliParties,
  dimeAsync,
  firstJson,
  libdimeSignets,
} from '../message/cli-helpers.js';

/**
 * Round trip with the reference through the CLI: messages our CLI seals and origin-signs (keys and
 * signets from our CLI, plain key files) open in libdime-check for every actor, showing the same
 * envelope, headers, display parts and chunk hashes as our own `open --json`. Also actor isolation,
 * signet selection, verify and --mime.
 */
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

let dir: string;
beforeAll(() => {
  dir = tempDir('dime-cli-msgrt-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);

const MAIL = [
  'From: Alice <alice@origin.test>',
  'To: Bob <bob@dest.test>',
  'Cc: Carol <carol@dest.test>',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and numbers',
  'Date: Sat, 28 Nov 2026 10:00:00 +0000',
  'Message-ID: <m1@origin.test>',
  'Organization: Origin Org',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary="alt"',
  '',
  '--alt',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Hello Bob =E2=9C=93',
  '--alt',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Hello Bob &#10003;</p>',
  '--alt--',
  '--outer',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'A second inline text.',
  '--outer',
  'Content-Type: application/octet-stream',
  'Content-Disposition: attachment; filename="data.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff)).toString('base64'),
  '--outer--',
  '',
].join('\r\n');

describe('our CLI seals and origin-signs; libdime-check and our open see the same', () => {
  let cli: CliParties;
  let sealed: string;
  let final: string;
  beforeAll(async () => {
    cli = await cliParties(dir, 'rt');
    const eml = p('rt.eml');
    writeFileSync(eml, MAIL);
    sealed = p('rt-sealed.dime');
    final = p('rt-final.dime');
    const s = await dimeAsync([
      ...[
        'message',
        'seal',
        '--key',
        cli.key.author,
        '--signet',
        cli.signet.author,
        '--to',
        cli.signet.recipient,
      ],
      ...[
        '--origin',
        cli.signet.origin,
        '--destination',
        cli.signet.destination,
        '--in',
        eml,
        '--out',
        sealed,
      ],
    ]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toBe('');
    const o = await dimeAsync([
      ...['message', 'sign-origin', sealed, '--key', cli.key.origin],
      ...['--signet', cli.signet.destination, '--signet', cli.signet.author, '--signet', cli.signet.origin],
      ...['--out', final],
    ]);
    expect(o.status, o.stderr).toBe(0);
  });

  const libdimeArgs = (actor: Actor) => ['--as', actor, '--key', cli.key[actor], ...libdimeSignets(cli)];
  const ours = (file: string, actor: Actor) =>
    dimeAsync([
      ...['message', 'open', file, '--key', cli.key[actor], '--as', actor],
      ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
      '--json',
    ]);

  for (const actor of ACTORS) {
    it(`${actor}: libdime-check open accepts it and shows what our open --json shows`, async () => {
      const ref = libdimeCheck(['open', final, ...libdimeArgs(actor)]);
      expect(ref.status, ref.stderr).toBe(0);
      const r = await ours(final, actor);
      expect(r.status, r.stderr).toBe(0);
      const j = r.json;
      const L = ref.json;
      // envelope: names as libdime shows them; fingerprints: libdime's origin/destination ones, and
      // the given signets' for author/recipient (libdime's object swaps those, quirk 1)
      expect({
        author: j.envelope.author,
        recipient: j.envelope.recipient,
        origin: j.envelope.origin,
        destination: j.envelope.destination,
      }).toEqual({
        author: L.envelope.author,
        recipient: L.envelope.recipient,
        origin: L.envelope.origin,
        destination: L.envelope.destination,
      });
      expect(j.envelope.fingerprints.origin).toBe(L.envelope.fingerprints.origin);
      expect(j.envelope.fingerprints.destination).toBe(L.envelope.fingerprints.destination);
      if (j.envelope.fingerprints.author !== null) {
        expect(j.envelope.fingerprints.author).toBe(L.signets_given.author.crypto_fingerprint);
      }
      if (j.envelope.fingerprints.recipient !== null) {
        expect(j.envelope.fingerprints.recipient).toBe(L.signets_given.recipient.crypto_fingerprint);
      }
      expect(j.headers).toEqual(L.headers);
      expect(j.other_headers).toBe(L.other_headers);
      expect(j.display.length).toBe(L.display.length);
      L.display.forEach((d: { text: string | null; hex: string; flags: number }, i: number) => {
        expect(j.display[i].data).toBe(d.text);
        expect(j.display[i].chunk_sha256).toBe(sha256(hex(d.hex)));
        expect(j.display[i].flags).toBe(d.flags);
      });
      expect(j.attachments.length).toBe(L.attachments.length);
      L.attachments.forEach((a: { sha256: string; length: number }, i: number) => {
        expect(j.attachments[i].chunk_sha256).toBe(a.sha256);
        expect(j.attachments[i].chunk_size).toBe(a.length);
      });
    });
  }

  it('what our CLI made holds the mail: two display parts, the attachment decoded, the body text', async () => {
    const j = (await ours(final, 'recipient')).json;
    // header values are stored as they are (encoded words too): lossless
    expect(j.headers).toMatchObject({
      subject: '=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and numbers',
      cc: 'Carol <carol@dest.test>',
    });
    expect(j.display.map((d: { type: string }) => d.type)).toEqual(['multipart/alternative', 'text/plain']);
    expect(j.attachments).toHaveLength(1);
    expect(j.attachments[0]).toMatchObject({
      name: 'data.bin',
      type: 'application/octet-stream',
      size: 3000,
      sha256: sha256(Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff))),
    });
    expect(j.body).toContain('Hello Bob ✓');
    expect(j.body).toContain('A second inline text.');
    expect(j.signatures).toEqual({
      chunks: 'valid',
      tree: 'valid',
      author_full: 'valid',
      meta_bounce: 'valid',
      display_bounce: 'valid',
      origin_full: 'valid',
    });
  });

  it('the author-stage message: libdime and we accept it as author and origin, refuse it as destination and recipient', async () => {
    for (const actor of ACTORS) {
      const ref = libdimeCheck(['open', sealed, ...libdimeArgs(actor)]);
      const r = await ours(sealed, actor);
      const accepted = actor === 'author' || actor === 'origin';
      expect(ref.status).toBe(accepted ? 0 : 1);
      expect(r.status, r.stderr).toBe(accepted ? 0 : 1);
      if (accepted) expect(r.json.signatures.origin_full).toBe('absent');
    }
  });

  it('--mime gives back the mail: headers, texts and the attachment bytes', async () => {
    const r = await dimeAsync([
      ...['message', 'open', final, '--key', cli.key.recipient, '--as', 'recipient'],
      ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
      '--mime',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const back = await PostalMime.parse(r.stdout);
    const orig = await PostalMime.parse(MAIL);
    expect(back.subject).toBe(orig.subject);
    expect(back.from).toEqual(orig.from);
    expect(back.cc).toEqual(orig.cc);
    expect(back.messageId).toBe(orig.messageId);
    expect(back.text).toBe(orig.text);
    expect(back.html).toBe(orig.html);
    expect(
      back.attachments.map((a) => [a.filename, sha256(new Uint8Array(a.content as ArrayBuffer))]),
    ).toEqual(orig.attachments.map((a) => [a.filename, sha256(new Uint8Array(a.content as ArrayBuffer))]));
  });

  it('actor isolation: a key opens only as its own actor; the servers get no content', async () => {
    for (const actor of ACTORS) {
      for (const as of ACTORS) {
        if (as === actor) continue;
        const r = await dimeAsync([
          'message',
          'open',
          final,
          '--key',
          cli.key[actor],
          '--as',
          as,
          '--no-verify',
          '--json',
        ]);
        expect(r.status, `${actor} key as ${as}`).toBe(1);
        expect(r.json.valid).toBe(false);
      }
    }
    for (const server of ['origin', 'destination'] as const) {
      const r = await dimeAsync([
        ...['message', 'open', final, '--key', cli.key[server], '--as', server],
        ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
        '--mime',
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('NOT_AUTHORIZED');
    }
  });

  it('a needed signet missing is SIGNET_REQUIRED, unless --no-verify (signatures then unverified)', async () => {
    const base = ['message', 'open', final, '--key', cli.key.recipient, '--as', 'recipient'];
    const r = await dimeAsync([...base, '--signet', cli.signet.origin, '--json']);
    expect(r.status).toBe(1);
    expect(r.json).toMatchObject({ valid: false, code: 'SIGNET_REQUIRED' });
    const n = await dimeAsync([...base, '--no-verify', '--json']);
    expect(n.status, n.stderr).toBe(0);
    expect(Object.values(n.json.signatures).every((s) => s === 'unverified')).toBe(true);
    const d = await dimeAsync([
      'message',
      'open',
      final,
      '--key',
      cli.key.destination,
      '--as',
      'destination',
      '--json',
    ]);
    expect(d.json).toMatchObject({ valid: false, code: 'SIGNET_REQUIRED' });
    const so = await dimeAsync([
      'message',
      'sign-origin',
      sealed,
      '--key',
      cli.key.origin,
      '--signet',
      cli.signet.origin,
    ]);
    expect(so.status).toBe(1);
    expect(so.stderr).toContain('SIGNET_REQUIRED');
  });

  it('verify reports a forged origin signature invalid (exit 1) and the rest valid', async () => {
    const bytes = new Uint8Array(readFileSync(final));
    const keys = loadKeys(new Uint8Array(readFileSync(cli.key.origin))).keys;
    const signets = Object.fromEntries(
      ACTORS.map((a) => [
        a,
        parseSignet(decodeObjectInput(new Uint8Array(readFileSync(cli.signet[a]))).binary),
      ]),
    );
    const kek = openMessage(bytes, { actor: 'origin', keys, signets }).kek;
    const forged = serializeMessage(
      parseMessage(bytes).chunks.map((x) =>
        x.type === ChunkType.ORIGIN_FULL_SIG
          ? reencryptChunk(x, 'origin', kek, new Uint8Array(64).fill(9))
          : x.serialized,
      ),
    );
    const f = p('forged.dime');
    writeFileSync(f, forged);
    const v = await dimeAsync([
      ...['message', 'verify', f, '--key', cli.key.destination, '--as', 'destination'],
      ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
      '--json',
    ]);
    expect(v.status).toBe(1);
    const report = firstJson(v);
    expect(report.signatures).toEqual({
      chunks: 'unchecked',
      meta_bounce: 'valid',
      display_bounce: 'valid',
      origin_full: 'invalid',
    });
    const o = await dimeAsync([
      ...['message', 'open', f, '--key', cli.key.recipient, '--as', 'recipient'],
      ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
    ]);
    expect(o.status).toBe(1);
    expect(o.stdout).toBe('');
    expect(o.stderr).toContain('error: BAD_SIGNATURE');
  });
});
