import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armor } from '../../src/encoding/armor.js';
import { type Actor, ChunkType, slotIndex } from '../../src/message/index.js';
import { tempDir } from '../helpers/cli.js';
import { afterDecryptHeaders, hex, loadCases, type VectorCase } from '../helpers/vectors.js';
import {
  ACTORS,
  dimeAsync,
  firstJson,
  referenceFiles as refFiles,
  trueFingerprint,
} from '../message/cli-helpers.js';

/**
 * `dime message open` / `verify` over libdime's own messages (vectors/reference): every actor whose
 * key is there sees what libdime showed it (its envelope fingerprint bug aside); every negative
 * case is refused.
 */
const messages = loadCases('reference/libdime-message.json');
const negatives = loadCases('reference/libdime-message-negative.json');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

let dir: string;
beforeAll(() => {
  dir = tempDir('dime-cli-msgref-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);
const referenceFiles = (c: VectorCase) => refFiles(dir, c);

const signetArgs = (files: Record<Actor, { signet: string }>, order: readonly Actor[] = ACTORS) =>
  order.flatMap((a) => ['--signet', files[a].signet]);

describe('libdime-made messages open through the CLI (vectors/reference/libdime-message.json)', () => {
  for (const c of messages) {
    for (const [actor, exp] of Object.entries(c.expect.actors) as [Actor, VectorCase][]) {
      it(`${c.id} as ${actor}: ${exp.result}`, async () => {
        const files = referenceFiles(c);
        const msg = p(`${c.id}.bin`);
        writeFileSync(msg, hex(c.input.hex));
        // the signets in another order than the actors': they are picked by fingerprint
        const args = ['message', 'open', msg, '--key', files[actor].key, '--as', actor];
        const r = await dimeAsync([...args, ...signetArgs(files, [...ACTORS].reverse()), '--json']);
        if (!exp.ok) {
          expect(r.status).toBe(1);
          expect(r.json).toMatchObject({ valid: false, code: 'BAD_SIGNATURE' });
          return;
        }
        expect(r.status, r.stderr).toBe(0);
        const j = r.json;
        const ad = exp.after_decrypt;
        const seesOrigin = slotIndex(ChunkType.ORIGIN, actor) >= 0;
        const seesDest = slotIndex(ChunkType.DESTINATION, actor) >= 0;
        expect(j.actor).toBe(actor);
        expect(j.envelope).toEqual({
          author: seesOrigin ? ad.author : null,
          recipient: seesDest ? ad.recipient : null,
          origin: seesDest ? ad.origin : null,
          destination: seesOrigin ? ad.destination : null,
          fingerprints: {
            // the true wire values (libdime's in-memory object swaps them, README quirk 1)
            author: seesOrigin ? trueFingerprint(c.keys.author_signet_armored) : null,
            recipient: seesDest ? trueFingerprint(c.keys.recipient_signet_armored) : null,
            origin: seesDest ? ad.fp_origin : null,
            destination: seesOrigin ? ad.fp_destination : null,
          },
        });
        const content = actor === 'author' || actor === 'recipient';
        expect(j.headers).toEqual(afterDecryptHeaders(ad));
        expect(j.other_headers).toBe(content ? ad.other_headers : null);
        const displays = Object.keys(ad).filter((k) => /^display_\d+_hex$/.test(k));
        const attachments = Object.keys(ad).filter((k) => /^attach_\d+_hex$/.test(k));
        expect(j.display.length).toBe(displays.length);
        expect(j.attachments.length).toBe(attachments.length);
        displays.forEach((_, i) => {
          expect(j.display[i].data).toBe(ad[`display_${i}_text`]);
          expect(j.display[i].chunk_sha256).toBe(sha256(hex(ad[`display_${i}_hex`])));
          expect(j.display[i].flags).toBe(ad[`display_${i}_flags`]);
        });
        attachments.forEach((_, i) => {
          const data = hex(ad[`attach_${i}_hex`]);
          expect(j.attachments[i]).toMatchObject({
            name: `attachment-${i + 1}`,
            type: 'application/octet-stream',
            size: data.length,
            sha256: sha256(data),
            chunk_sha256: sha256(data),
          });
        });
        if (content) expect(j.body).toBe(ad.display_0_text);
        const sigs = j.signatures;
        if (actor === 'destination') {
          expect(sigs).toMatchObject({ chunks: 'unverified', tree: 'unverified', author_full: 'unverified' });
        } else expect(sigs).toMatchObject({ chunks: 'valid', tree: 'valid', author_full: 'valid' });
        const origin = c.id.endsWith('-from-author') ? 'absent' : 'valid';
        expect(sigs).toMatchObject({ meta_bounce: origin, display_bounce: origin, origin_full: origin });

        const v = await dimeAsync([
          'message',
          'verify',
          msg,
          '--key',
          files[actor].key,
          '--as',
          actor,
          ...signetArgs(files),
        ]);
        expect(v.status, v.stderr).toBe(0);
      });
    }
  }

  it('the author-stage message: verify lists the unsigned origin signatures (unchecked for the author, invalid for the recipient)', async () => {
    const c = messages.find((x) => x.id === 'pub-msg1-from-author')!;
    const files = referenceFiles(c);
    const msg = p('from-author.bin');
    writeFileSync(msg, hex(c.input.hex));
    const a = await dimeAsync([
      ...['message', 'verify', msg, '--key', files.author.key, '--as', 'author'],
      ...signetArgs(files),
      '--json',
    ]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.json.signatures).toMatchObject({
      tree: 'valid',
      author_full: 'valid',
      origin_full: 'unchecked',
    });
    const r = await dimeAsync([
      ...['message', 'verify', msg, '--key', files.recipient.key, '--as', 'recipient'],
      ...signetArgs(files),
      '--json',
    ]);
    expect(r.status).toBe(1);
    const report = firstJson(r);
    expect(report).toMatchObject({ valid: false, signatures: { tree: 'valid', origin_full: 'invalid' } });
    expect(r.json).toMatchObject({ valid: false, code: 'BAD_SIGNATURE' });
  });

  it('armored and stdin input open like binary', async () => {
    const c = messages.find((x) => x.id === 'pub-msg2-final')!;
    const files = referenceFiles(c);
    const armored = p('msg2.armored');
    writeFileSync(armored, armor('ENCRYPTED MESSAGE', hex(c.input.hex)));
    const base = ['--key', files.recipient.key, '--as', 'recipient', ...signetArgs(files), '--json'];
    const a = await dimeAsync(['message', 'open', armored, ...base]);
    expect(a.status, a.stderr).toBe(0);
    const s = await dimeAsync(['message', 'open', '-', ...base], { input: hex(c.input.hex) });
    expect(s.status, s.stderr).toBe(0);
    expect(s.json).toEqual(a.json);
  });
});

describe('negative libdime messages are refused by the CLI', () => {
  for (const c of negatives) {
    it(c.id, async () => {
      const files = referenceFiles(c);
      const msg = p(`${c.id}.bin`);
      writeFileSync(msg, hex(c.input.hex));
      // the wrong-key case gives the recipient role the author's encryption key
      const key = c.id.includes('wrong-key') ? files.author.key : files.recipient.key;
      const r = await dimeAsync([
        'message',
        'open',
        msg,
        '--key',
        key,
        '--as',
        'recipient',
        ...signetArgs(files),
        '--json',
      ]);
      expect(r.status).toBe(1);
      expect(r.json.valid).toBe(false);
      expect(r.stderr).toMatch(/^error: [A-Z_]+: /);
    });
  }
});
