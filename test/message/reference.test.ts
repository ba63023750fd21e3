import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import {
  type Actor,
  ChunkType,
  chunkSpec,
  deriveKek,
  kekBytes,
  openMessage,
  parseMessage,
  serializeMessage,
  signAsOrigin,
  slotIndex,
  treeSignatureInput,
} from '../../src/message/index.js';
import { cryptoFingerprintB64 } from '../../src/signet/index.js';
import { afterDecryptHeaders, hex, loadCases, toHexStr, type VectorCase } from '../helpers/vectors.js';
import { ACTOR_LIST, partiesOf } from './helpers.js';

const messages = loadCases('reference/libdime-message.json');
const negatives = loadCases('reference/libdime-message-negative.json');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const text = (b: Uint8Array | null) => (b ? Buffer.from(b).toString('utf8') : null);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DimeError);
    return (e as DimeError).code;
  }
  throw new Error('expected a DimeError, got success');
}

/** The envelope an actor should see, with libdime's fingerprint bug undone (README quirk 1). */
function expectedEnvelope(c: VectorCase, actor: Actor, env: Record<string, string | null>) {
  const p = partiesOf(c);
  const seesOrigin = slotIndex(ChunkType.ORIGIN, actor) >= 0;
  const seesDest = slotIndex(ChunkType.DESTINATION, actor) >= 0;
  return {
    author: seesOrigin ? env.author : null,
    authorFingerprint: seesOrigin ? cryptoFingerprintB64(p.signets.author) : null,
    destination: seesOrigin ? env.destination : null,
    destinationFingerprint: seesOrigin ? env.fp_destination : null,
    recipient: seesDest ? env.recipient : null,
    recipientFingerprint: seesDest ? cryptoFingerprintB64(p.signets.recipient) : null,
    origin: seesDest ? env.origin : null,
    originFingerprint: seesDest ? env.fp_origin : null,
  };
}

describe('libdime-made messages (vectors/reference/libdime-message.json)', () => {
  for (const c of messages) {
    const bytes = hex(c.input.hex);
    for (const [actor, exp] of Object.entries(c.expect.actors) as [Actor, VectorCase][]) {
      it(`${c.id} as ${actor}: ${exp.result}`, () => {
        const p = partiesOf(c);
        if (!exp.ok) {
          // -from-author: the origin signatures are still zero
          expect(codeOf(() => openMessage(bytes, { actor, keys: p.keys[actor], signets: p.signets }))).toBe(
            'BAD_SIGNATURE',
          );
          expect(toHexStr(kekBytes(deriveKek(p.keys[actor].encryptionPrivate, bytes.subarray(10, 43))))).toBe(
            exp.kek_hex,
          );
          return;
        }
        const m = openMessage(bytes, { actor, keys: p.keys[actor], signets: p.signets });
        expect(toHexStr(kekBytes(m.kek))).toBe(exp.kek_hex);
        expect(m.envelope).toEqual(expectedEnvelope(c, actor, exp.envelope));
        // the wire fingerprints the actor reads equal the libdime-correct ones
        if (m.envelope.originFingerprint)
          expect(m.envelope.originFingerprint).toBe(exp.after_decrypt.fp_origin);
        const ad = exp.after_decrypt;
        if (actor === 'author' || actor === 'recipient') {
          expect(m.commonHeaders?.fields).toEqual(afterDecryptHeaders(ad));
          expect(text(m.otherHeaders)).toBe(ad.other_headers);
          const disp = Object.keys(ad).filter((k) => /^display_\d+_hex$/.test(k));
          expect(m.display.map((d) => toHexStr(d.data))).toEqual(disp.map((k) => ad[k]));
          expect(m.display.map((d) => d.flags)).toEqual(disp.map((_, i) => ad[`display_${i}_flags`]));
          const att = Object.keys(ad).filter((k) => /^attach_\d+_hex$/.test(k));
          expect(m.attachments.map((a) => sha256(a.data))).toEqual(att.map((k) => sha256(hex(ad[k]))));
          expect(m.attachments.map((a) => a.flags)).toEqual(att.map((_, i) => ad[`attach_${i}_flags`]));
          expect(m.signatures.tree).toBe('valid');
          expect(m.signatures.treeLayout).toBe('libdime');
          expect(m.signatures.authorFull).toBe('valid');
        } else {
          // actor isolation: no metadata or content for the servers
          expect(m.commonHeaders).toBeNull();
          expect(m.otherHeaders).toBeNull();
          expect(m.display).toEqual([]);
          expect(m.attachments).toEqual([]);
        }
        const final = c.expect.valid === true;
        const originStatus = final ? 'valid' : 'absent';
        expect(m.signatures.originFull).toBe(originStatus);
        expect(m.signatures.metaBounce).toBe(originStatus);
        expect(m.signatures.displayBounce).toBe(originStatus);
        // chunk by chunk: wire payload and the plaintext this actor decrypts
        const rows = exp.chunks as VectorCase[];
        for (const [i, ch] of m.chunks.entries()) {
          const mine = rows.filter((r) => Number(r.index) === i);
          expect(Number(mine[0]!.chunk_type)).toBe(ch.type);
          expect(toHexStr(ch.payload)).toBe(mine.find((r) => r.what === 'wire_payload')!.hex);
          if (ch.type === ChunkType.EPHEMERAL) continue;
          const plain = mine.find((r) => r.what === 'plain_payload');
          if (plain) {
            expect(toHexStr(ch.plain!)).toBe(plain.hex);
            expect(toHexStr(ch.data!)).toBe(mine.find((r) => r.what === 'plain_data')!.hex);
          } else {
            expect(mine.some((r) => r.what === 'decrypt_failed')).toBe(true);
            expect(ch.plain).toBeNull();
          }
        }
        expect(m.chunks.length).toBe(new Set(rows.map((r) => r.index)).size);
      });
    }

    if (!c.expect.valid) {
      it(`${c.id} is refused by the destination (zero origin signatures)`, () => {
        const p = partiesOf(c);
        expect(
          codeOf(() =>
            openMessage(bytes, { actor: 'destination', keys: p.keys.destination, signets: p.signets }),
          ),
        ).toBe('BAD_SIGNATURE');
      });

      it(`${c.id}: our origin signing makes it acceptable to destination and recipient`, () => {
        const p = partiesOf(c);
        const signed = signAsOrigin(bytes, p.keys.origin, p.signets);
        expect(signed.length).toBe(bytes.length);
        for (const actor of ACTOR_LIST) {
          const m = openMessage(signed, { actor, keys: p.keys[actor], signets: p.signets });
          expect(m.signatures.originFull).toBe('valid');
          expect(m.signatures.metaBounce).toBe('valid');
          expect(m.signatures.displayBounce).toBe('valid');
        }
        // Ed25519 is deterministic: our origin signatures equal libdime's in the -final message
        const finalCase = messages.find((x) => x.id === c.id.replace('-from-author', '-final'))!;
        const finalMsg = hex(finalCase.input.hex);
        // -final is the same author message, signed by libdime's origin: byte-identical result
        const firstOriginSig = parseMessage(bytes).chunks.find((x) => x.type >= 248)!.offset;
        expect(toHexStr(finalMsg.subarray(0, firstOriginSig))).toBe(
          toHexStr(bytes.subarray(0, firstOriginSig)),
        );
        expect(toHexStr(signed)).toBe(finalCase.input.hex);
      });
    } else {
      it(`${c.id}: sections and re-serialization match libdime`, () => {
        const msg = parseMessage(bytes);
        expect(toHexStr(serializeMessage(msg.chunks.map((x) => x.serialized)))).toBe(c.input.hex);
        const sections = {
          envelope: 'envelope',
          metadata: 'metadata',
          display: 'display',
          attach: 'attach',
          sig: 'sig',
        };
        for (const [name, section] of Object.entries(sections)) {
          const want = c.expect.sections_hex[name];
          const picked = msg.chunks
            .filter((x) => chunkSpec(x.type)!.section === section)
            .map((x) => x.serialized);
          if (want === null) expect(picked.length).toBe(0);
          else expect(toHexStr(serializeMessage(picked))).toBe(want);
        }
        // the tree signature input has n × 64 bytes and ends in 64 zero bytes (libdime layout)
        const tree = treeSignatureInput(msg.chunks, 'libdime');
        expect(tree.length % 64).toBe(0);
        expect(tree.subarray(tree.length - 64).every((b) => b === 0)).toBe(true);
      });
    }
  }
});

describe('libdime message negatives (vectors/reference/libdime-message-negative.json)', () => {
  const allowed: Record<string, string[]> = {
    deserialize_failed: ['BAD_MAGIC', 'TRUNCATED', 'LENGTH_MISMATCH', 'BAD_MESSAGE'],
    envelope_failed: ['DECRYPT_FAILED'],
    decrypt_failed: ['BAD_SIGNATURE'],
  };
  for (const c of negatives) {
    it(`${c.id}: refused (${c.expect.actors.recipient.result})`, () => {
      const p = partiesOf(c);
      const exp = c.expect.actors.recipient;
      const keys = String(c.mutation).includes('wrong_key') ? p.keys.author : p.keys.recipient;
      const bytes = hex(c.input.hex);
      const code = codeOf(() => openMessage(bytes, { actor: 'recipient', keys, signets: p.signets }));
      expect(allowed[exp.result]).toContain(code);
      if (exp.kek_hex) {
        expect(toHexStr(kekBytes(deriveKek(keys.encryptionPrivate, bytes.subarray(10, 43))))).toBe(
          exp.kek_hex,
        );
      }
    });
  }
});
