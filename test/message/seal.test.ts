import { describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { concatBytes, readU24, readU32 } from '../../src/encoding/bytes.js';
import { DimeError } from '../../src/errors/index.js';
import {
  type Actor,
  BounceFlag,
  chunkKeyFor,
  chunkSpec,
  decodeChunkAt,
  decryptChunk,
  deriveKek,
  MAX_CHUNK_DATA,
  openMessage,
  paddingLength,
  parseMessage,
  reencryptChunk,
  type SealInput,
  sealMessage,
  serializeMessage,
  signAsOrigin,
  treeSignatureInput,
} from '../../src/message/index.js';
import { cryptoFingerprintB64 } from '../../src/signet/index.js';
import { ACTOR_LIST, enc, freshParties, type Parties, sealActors } from './helpers.js';

const c = crypto();
const parties = freshParties();

function input(p: Parties, over: Partial<SealInput> = {}): SealInput {
  return {
    ...sealActors(p),
    commonHeaders: {
      date: 'Thu, 26 Nov 2026 09:30:00 +0000',
      to: 'Bob <bob@dest.test>',
      cc: 'Carol <carol@dest.test>',
      from: 'Alice <alice@origin.test>',
      organization: 'Origin Org',
      subject: 'Quarterly numbers ✓',
    },
    otherHeaders: 'Message-ID: <1@origin.test>\r\nX-Test: yes\r\n',
    display: [{ data: 'Hello Bob.\r\n' }, { data: '<html><body>Hi</body></html>' }],
    attachments: [{ data: c.randomBytes(1000) }, { data: Uint8Array.of(0, 1, 2) }],
    ...over,
  };
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DimeError);
    return (e as DimeError).code;
  }
  throw new Error('expected a DimeError');
}

const EXPECTED_TYPES = [2, 4, 5, 33, 34, 67, 67, 131, 131, 225, 226, 248, 249, 255];

describe('sealMessage: libdime layout, chunk by chunk (message.md §1–§6)', () => {
  const inp = input(parties);
  const sealed = sealMessage(inp);
  const msg = parseMessage(sealed);
  const authorKek = deriveKek(parties.keys.author.encryptionPrivate, msg.chunks[0]!.payload);

  it('object framing: magic 1847, u32 body length, no tracing', () => {
    expect(sealed[0]).toBe(0x07);
    expect(sealed[1]).toBe(0x37);
    expect(readU32(sealed, 2)).toBe(sealed.length - 6);
    expect(msg.tracing).toBeNull();
  });

  it('chunk order, sizes and keyslot counts follow the table', () => {
    expect(msg.chunks.map((x) => x.type)).toEqual(EXPECTED_TYPES);
    let at = 6;
    for (const ch of msg.chunks) {
      const s = chunkSpec(ch.type)!;
      expect(ch.offset).toBe(at);
      const len = readU24(ch.serialized, 1);
      expect(ch.serialized.length).toBe(4 + len + 64 * s.slots.length);
      if (s.payload === 'signature') expect(len).toBe(64);
      if (s.payload === 'standard') expect(len % 16).toBe(0);
      at += ch.serialized.length;
    }
    expect(at).toBe(sealed.length);
  });

  it('chunk 2 is the plaintext compressed ephemeral key', () => {
    const e = msg.chunks[0]!;
    expect(e.payload.length).toBe(33);
    expect([2, 3]).toContain(e.payload[0]);
    expect(c.secp256k1PublicKeyValid(e.payload)).toBe(true);
  });

  it('every keyslot of a chunk carries the same AES key and IV for its actor', () => {
    const keks = Object.fromEntries(
      ACTOR_LIST.map((a) => [a, deriveKek(parties.keys[a].encryptionPrivate, msg.chunks[0]!.payload)]),
    ) as Record<Actor, ReturnType<typeof deriveKek>>;
    for (const ch of msg.chunks.slice(1)) {
      const s = chunkSpec(ch.type)!;
      const keys = s.slots.map((a) => chunkKeyFor(ch, a, keks[a]));
      for (const k of keys) {
        expect(Buffer.from(k.key).equals(Buffer.from(keys[0]!.key))).toBe(true);
        expect(Buffer.from(k.iv).equals(Buffer.from(keys[0]!.iv))).toBe(true);
      }
      // keyslot = AES-CBC(kek, rnd ‖ iv⊕rnd ‖ key): decrypt by hand for the author
      const slot = c.aes256CbcDecrypt(authorKek.key, authorKek.iv, ch.keyslots[0]!);
      const iv = slot.subarray(16, 32).map((b, i) => b ^ slot[i]!);
      expect(Buffer.from(iv).equals(Buffer.from(keys[0]!.iv))).toBe(true);
      expect(Buffer.from(slot.subarray(32)).equals(Buffer.from(keys[0]!.key))).toBe(true);
      // the payload is AES-256-CBC without padding under that key
      const plain = c.aes256CbcDecrypt(keys[0]!.key, keys[0]!.iv, ch.payload);
      expect(plain.length).toBe(ch.payload.length);
    }
  });

  /** Does P follow libdime's default padding algorithm for some random byte r? */
  const defaultRule = (d: number, p: number) => {
    const s = d + 69;
    const extra = s < 256 ? p - (256 - s) : p - (16 - (s % 16));
    const most = s < 256 ? Math.floor(s / 16) : 15;
    return extra >= 0 && extra % 16 === 0 && extra / 16 <= most;
  };

  it('STANDARD payloads: signature, data_len, flags 0, pad byte = P mod 256, libdime padding', () => {
    const datas: Record<number, string[]> = {};
    const lens: Record<number, [number, number][]> = {};
    for (const ch of msg.chunks) {
      if (chunkSpec(ch.type)!.payload !== 'standard') continue;
      const plain = decryptChunk(ch, 'author', authorKek);
      const d = readU24(plain, 64);
      const s = d + 69;
      const p = plain.length - s;
      expect(p).toBeGreaterThanOrEqual(1);
      expect(plain[67]).toBe(0);
      expect(plain[68]).toBe(p & 0xff);
      expect(plain.subarray(s).every((b) => b === (p & 0xff))).toBe(true);
      expect(
        c.ed25519Verify(parties.keys.author.signingPublic, plain.subarray(64), plain.subarray(0, 64)),
      ).toBe(true);
      datas[ch.type] = [
        ...(datas[ch.type] ?? []),
        Buffer.from(plain.subarray(69, 69 + d)).toString('latin1'),
      ];
      lens[ch.type] = [...(lens[ch.type] ?? []), [d, p]];
    }
    for (const [type, dp] of Object.entries(lens)) {
      if (dp.length === 1) {
        // single chunks: exactly libdime's default algorithm
        expect(defaultRule(dp[0]![0], dp[0]![1]), `type ${type}`).toBe(true);
      } else {
        // a repeated section: one payload length for all, that of the chunk with the largest default padding
        expect(new Set(dp.map(([d, p]) => d + 69 + p)).size).toBe(1);
        expect(dp.some(([d, p]) => defaultRule(d, p))).toBe(true);
      }
    }
    const fa = cryptoFingerprintB64(parties.signets.author);
    const fd = cryptoFingerprintB64(parties.signets.destination);
    const fr = cryptoFingerprintB64(parties.signets.recipient);
    const fo = cryptoFingerprintB64(parties.signets.origin);
    expect(datas[4]).toEqual([
      `Author: <alice@origin.test>\r\nAuthor-Signet: [${fa}]\r\nDestination: <dest.test>\r\nDestination-Signet: [${fd}]\r\n`,
    ]);
    expect(datas[5]).toEqual([
      `Recipient: <bob@dest.test>\r\nRecipient-Signet: [${fr}]\r\nOrigin: <origin.test>\r\nOrigin-Signet: [${fo}]\r\n`,
    ]);
    expect(Buffer.from(datas[33]![0]!, 'latin1').toString('utf8')).toBe(
      'Date: Thu, 26 Nov 2026 09:30:00 +0000\r\nTo: Bob <bob@dest.test>\r\nCC: Carol <carol@dest.test>\r\n' +
        'From: Alice <alice@origin.test>\r\nOrganization: Origin Org\r\nSubject: Quarterly numbers ✓\r\n',
    );
    expect(datas[34]).toEqual(['Message-ID: <1@origin.test>\r\nX-Test: yes\r\n']);
  });

  it('tree signature: libdime layout H(2) H(4) H(33) H(34) H(67)… H(131)… 0⁶⁴', () => {
    const h = (t: number, n = 0) => c.sha512(msg.chunks.filter((x) => x.type === t)[n]!.serialized);
    const want = concatBytes(
      h(2),
      h(4),
      h(33),
      h(34),
      h(67, 0),
      h(67, 1),
      h(131, 0),
      h(131, 1),
      new Uint8Array(64),
    );
    expect(Buffer.from(treeSignatureInput(msg.chunks, 'libdime')).equals(Buffer.from(want))).toBe(true);
    const tree = decryptChunk(msg.chunks.find((x) => x.type === 225)!, 'author', authorKek);
    expect(c.ed25519Verify(parties.keys.author.signingPublic, want, tree)).toBe(true);
  });

  it('author full signature covers ser(2) … ser(225)', () => {
    const upTo225 = msg.chunks.filter((x) => x.type <= 225).map((x) => x.serialized);
    const full = decryptChunk(msg.chunks.find((x) => x.type === 226)!, 'author', authorKek);
    expect(c.ed25519Verify(parties.keys.author.signingPublic, concatBytes(...upTo225), full)).toBe(true);
  });

  it('origin placeholders 248, 249, 255 hold a zero signature', () => {
    for (const t of [248, 249, 255]) {
      const sig = decryptChunk(msg.chunks.find((x) => x.type === t)!, 'author', authorKek);
      expect(sig.every((b) => b === 0)).toBe(true);
    }
  });

  it("signAsOrigin writes 248/249/255 in place (same keyslots) over libdime's inputs", () => {
    const signed = signAsOrigin(sealed, parties.keys.origin, parties.signets);
    const m2 = parseMessage(signed);
    expect(m2.chunks.map((x) => x.type)).toEqual(EXPECTED_TYPES);
    const pok = parties.keys.origin.signingPublic;
    const ser = (pred: (t: number) => boolean) =>
      concatBytes(...m2.chunks.filter((x) => pred(x.type)).map((x) => x.serialized));
    const sigOf = (t: number) => decryptChunk(m2.chunks.find((x) => x.type === t)!, 'author', authorKek);
    expect(
      c.ed25519Verify(
        pok,
        ser((t) => t <= 34),
        sigOf(248),
      ),
    ).toBe(true);
    expect(
      c.ed25519Verify(
        pok,
        ser((t) => t <= 67),
        sigOf(249),
      ),
    ).toBe(true);
    expect(
      c.ed25519Verify(
        pok,
        ser((t) => t <= 249),
        sigOf(255),
      ),
    ).toBe(true);
    for (const [i, ch] of m2.chunks.entries()) {
      const old = msg.chunks[i]!;
      if (ch.type < 248) expect(Buffer.from(ch.serialized).equals(Buffer.from(old.serialized))).toBe(true);
      else
        expect(
          Buffer.from(concatBytes(...ch.keyslots)).equals(Buffer.from(concatBytes(...old.keyslots))),
        ).toBe(true);
    }
  });

  it("'minimal' padding is the algorithm with r = 0 (sections padded to their largest chunk)", () => {
    const m = parseMessage(sealMessage(inp, { padding: 'minimal' }));
    const kek = deriveKek(parties.keys.author.encryptionPrivate, m.chunks[0]!.payload);
    const byType = new Map<number, number[]>();
    for (const ch of m.chunks) {
      if (chunkSpec(ch.type)!.payload !== 'standard') continue;
      const plain = decryptChunk(ch, 'author', kek);
      byType.set(ch.type, [...(byType.get(ch.type) ?? []), readU24(plain, 64)]);
      expect(ch.payload.length).toBe(plain.length);
    }
    for (const [type, ds] of byType) {
      const want = Math.max(...ds.map((d) => d + 69 + paddingLength(d, 0)));
      for (const ch of m.chunks.filter((x) => x.type === type)) expect(ch.payload.length).toBe(want);
    }
    expect(m.chunks.find((x) => x.type === 34)!.payload.length).toBe(256);
  });

  it("sectionPadding 'independent' pads every chunk by libdime's algorithm alone", () => {
    const m = parseMessage(sealMessage(inp, { sectionPadding: 'independent' }));
    const kek = deriveKek(parties.keys.author.encryptionPrivate, m.chunks[0]!.payload);
    for (const ch of m.chunks) {
      if (chunkSpec(ch.type)!.payload !== 'standard') continue;
      const d = readU24(decryptChunk(ch, 'author', kek), 64);
      expect(defaultRule(d, ch.payload.length - 69 - d)).toBe(true);
    }
  });

  it('an empty other-headers value becomes "\\r\\n" (message.md §2.1 Decision)', () => {
    const m = openMessage(sealMessage(input(parties, { otherHeaders: undefined })), {
      actor: 'author',
      keys: parties.keys.author,
      signets: parties.signets,
    });
    expect(Buffer.from(m.otherHeaders!).toString()).toBe('\r\n');
    expect(m.commonHeaders!.fields.cc).toBe('Carol <carol@dest.test>');
  });
});

describe('padding length (message.md §2.2)', () => {
  it('follows the default algorithm and keeps payloads aligned', () => {
    for (const d of [1, 2, 50, 186, 187, 188, 200, 1000, 4095, 65536]) {
      for (const r of [0, 1, 7, 15, 16, 200, 255]) {
        const p = paddingLength(d, r);
        const s = d + 69;
        expect((s + p) % 16).toBe(0);
        expect(p).toBeGreaterThanOrEqual(1);
        if (s < 256) expect(p).toBe(256 - s + 16 * (r % (Math.floor(s / 16) + 1)));
        else expect(p).toBe(16 - (s % 16) + 16 * (r % 16));
      }
    }
  });

  it('never exceeds the u24 payload limit', () => {
    for (const r of [0, 15, 255]) {
      const p = paddingLength(MAX_CHUNK_DATA, r);
      expect(MAX_CHUNK_DATA + 69 + p).toBeLessThanOrEqual(0xffffff);
      expect((MAX_CHUNK_DATA + 69 + p) % 16).toBe(0);
    }
    expect(codeOf(() => paddingLength(MAX_CHUNK_DATA + 1, 0))).toBe('TOO_LARGE');
  });
});

describe('every actor opens our messages; each sees exactly its share (message.md §7)', () => {
  const inp = input(parties);
  const sealed = sealMessage(inp);
  const final = signAsOrigin(sealed, parties.keys.origin, parties.signets);
  const open = (bytes: Uint8Array, actor: Actor) =>
    openMessage(bytes, { actor, keys: parties.keys[actor], signets: parties.signets });

  it('author and origin open the author-stage message; destination and recipient refuse it', () => {
    const a = open(sealed, 'author');
    expect(a.signatures.originFull).toBe('absent');
    expect(a.display.map((d) => Buffer.from(d.data).toString())).toEqual([
      'Hello Bob.\r\n',
      '<html><body>Hi</body></html>',
    ]);
    expect(open(sealed, 'origin').signatures.tree).toBe('valid');
    expect(codeOf(() => open(sealed, 'destination'))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => open(sealed, 'recipient'))).toBe('BAD_SIGNATURE');
  });

  it('author and recipient see everything', () => {
    for (const actor of ['author', 'recipient'] as const) {
      const m = open(final, actor);
      expect(m.envelope).toEqual({
        author: 'alice@origin.test',
        authorFingerprint: cryptoFingerprintB64(parties.signets.author),
        recipient: 'bob@dest.test',
        recipientFingerprint: cryptoFingerprintB64(parties.signets.recipient),
        origin: 'origin.test',
        originFingerprint: cryptoFingerprintB64(parties.signets.origin),
        destination: 'dest.test',
        destinationFingerprint: cryptoFingerprintB64(parties.signets.destination),
      });
      expect(m.commonHeaders!.fields).toEqual({ ...inp.commonHeaders });
      expect(Buffer.from(m.otherHeaders!).toString()).toBe(inp.otherHeaders);
      expect(m.display.map((d) => Buffer.from(d.data).toString())).toEqual([
        'Hello Bob.\r\n',
        '<html><body>Hi</body></html>',
      ]);
      expect(m.attachments.map((d) => Buffer.from(d.data).toString('hex'))).toEqual(
        inp.attachments!.map((x) => Buffer.from(x.data as Uint8Array).toString('hex')),
      );
      expect(m.display.every((d) => d.flags === 0 && d.chunkCount === 1)).toBe(true);
      const s = m.signatures;
      expect([s.tree, s.treeLayout, s.authorFull, s.metaBounce, s.displayBounce, s.originFull]).toEqual([
        'valid',
        'libdime',
        'valid',
        'valid',
        'valid',
        'valid',
      ]);
      expect(s.chunks.map((x) => [x.type, x.status])).toEqual(
        [4, 5, 33, 34, 67, 67, 131, 131].map((t) => [t, 'valid']),
      );
      expect(m.chunks.every((x) => x.plain !== null)).toBe(true);
    }
  });

  it('the origin sees author and destination, and nothing of chunks 5, 33, 34, 67, 131', () => {
    const m = open(final, 'origin');
    expect(m.envelope).toEqual({
      author: 'alice@origin.test',
      authorFingerprint: cryptoFingerprintB64(parties.signets.author),
      recipient: null,
      recipientFingerprint: null,
      origin: null,
      originFingerprint: null,
      destination: 'dest.test',
      destinationFingerprint: cryptoFingerprintB64(parties.signets.destination),
    });
    expect([m.commonHeaders, m.otherHeaders, m.display, m.attachments]).toEqual([null, null, [], []]);
    expect(m.chunks.filter((x) => x.plain === null).map((x) => x.type)).toEqual([
      5, 33, 34, 67, 67, 131, 131,
    ]);
    expect(m.signatures.tree).toBe('valid');
    expect(m.signatures.originFull).toBe('valid');
    expect(m.signatures.chunks.map((x) => x.type)).toEqual([4]);
  });

  it('the destination sees recipient and origin, and nothing of 4, 33, 34, 67, 131, 225, 226', () => {
    const m = open(final, 'destination');
    expect(m.envelope).toEqual({
      author: null,
      authorFingerprint: null,
      recipient: 'bob@dest.test',
      recipientFingerprint: cryptoFingerprintB64(parties.signets.recipient),
      origin: 'origin.test',
      originFingerprint: cryptoFingerprintB64(parties.signets.origin),
      destination: null,
      destinationFingerprint: null,
    });
    expect([m.commonHeaders, m.otherHeaders, m.display, m.attachments]).toEqual([null, null, [], []]);
    expect(m.chunks.filter((x) => x.plain === null).map((x) => x.type)).toEqual([
      4, 33, 34, 67, 67, 131, 131, 225, 226,
    ]);
    expect([m.signatures.tree, m.signatures.authorFull]).toEqual(['unverified', 'unverified']);
    expect([m.signatures.metaBounce, m.signatures.displayBounce, m.signatures.originFull]).toEqual([
      'valid',
      'valid',
      'valid',
    ]);
    // with the author signet the destination also checks chunk 5's plaintext signature; without
    // it (its normal case, libdime skips the check) that signature stays unverified
    expect(m.signatures.chunks).toEqual([{ type: 5, index: 2, status: 'valid' }]);
    const { author: _a, ...noAuthor } = parties.signets;
    expect(
      openMessage(final, { actor: 'destination', keys: parties.keys.destination, signets: noAuthor })
        .signatures.chunks,
    ).toEqual([{ type: 5, index: 2, status: 'unverified' }]);
    expect(
      openMessage(final, { actor: 'destination', keys: parties.keys.destination, signets: noAuthor }).envelope
        .recipient,
    ).toBe('bob@dest.test');
  });

  it('decrypting a chunk without a keyslot is NOT_AUTHORIZED', () => {
    const msg = parseMessage(final);
    const kek = deriveKek(parties.keys.origin.encryptionPrivate, msg.chunks[0]!.payload);
    for (const t of [5, 33, 34, 67, 131]) {
      expect(codeOf(() => decryptChunk(msg.chunks.find((x) => x.type === t)!, 'origin', kek))).toBe(
        'NOT_AUTHORIZED',
      );
    }
    const dk = deriveKek(parties.keys.destination.encryptionPrivate, msg.chunks[0]!.payload);
    for (const t of [4, 33, 225, 226]) {
      expect(codeOf(() => decryptChunk(msg.chunks.find((x) => x.type === t)!, 'destination', dk))).toBe(
        'NOT_AUTHORIZED',
      );
    }
  });

  it("an actor's keys do not open another actor's view", () => {
    expect(
      codeOf(() =>
        openMessage(final, { actor: 'recipient', keys: parties.keys.origin, signets: parties.signets }),
      ),
    ).toBe('DECRYPT_FAILED');
    expect(
      codeOf(() =>
        openMessage(final, { actor: 'origin', keys: parties.keys.destination, signets: parties.signets }),
      ),
    ).toBe('DECRYPT_FAILED');
  });
});

describe('signets and verification', () => {
  const final = signAsOrigin(sealMessage(input(parties)), parties.keys.origin, parties.signets);

  it('a missing needed signet is SIGNET_REQUIRED, unless verify is false', () => {
    const { author: _a, ...noAuthor } = parties.signets;
    expect(
      codeOf(() =>
        openMessage(final, { actor: 'recipient', keys: parties.keys.recipient, signets: noAuthor }),
      ),
    ).toBe('SIGNET_REQUIRED');
    const { origin: _o, ...noOrigin } = parties.signets;
    expect(
      codeOf(() =>
        openMessage(final, { actor: 'destination', keys: parties.keys.destination, signets: noOrigin }),
      ),
    ).toBe('SIGNET_REQUIRED');
    const m = openMessage(final, {
      actor: 'recipient',
      keys: parties.keys.recipient,
      signets: {},
      verify: false,
    });
    expect(Buffer.from(m.display[0]!.data).toString()).toBe('Hello Bob.\r\n');
    const s = m.signatures;
    expect([s.tree, s.authorFull, s.metaBounce, s.displayBounce, s.originFull]).toEqual(
      Array(5).fill('unverified'),
    );
    expect(s.chunks.every((x) => x.status === 'unverified')).toBe(true);
  });

  it('a signet that is not the one in the envelope is SIGNET_MISMATCH', () => {
    const other = freshParties();
    for (const party of ['author', 'recipient', 'origin', 'destination'] as const) {
      const signets = { ...parties.signets, [party]: other.signets[party] };
      expect(
        codeOf(() => openMessage(final, { actor: 'recipient', keys: parties.keys.recipient, signets })),
      ).toBe('SIGNET_MISMATCH');
    }
  });

  it('a signet of the wrong kind is BAD_INPUT', () => {
    const signets = { ...parties.signets, origin: parties.signets.author };
    expect(
      codeOf(() => openMessage(final, { actor: 'recipient', keys: parties.keys.recipient, signets })),
    ).toBe('BAD_INPUT');
  });

  it('an origin signature by another key is BAD_SIGNATURE for every actor that checks it', () => {
    const other = freshParties();
    // a rogue origin with its own keys but the real origin's encryption slot cannot sign: keys must match its signet
    expect(codeOf(() => signAsOrigin(sealMessage(input(parties)), other.keys.origin, parties.signets))).toBe(
      'BAD_KEY',
    );
    // re-sign 255 with a foreign key, using the real origin's keyslot
    const msg = parseMessage(final);
    const kek = deriveKek(parties.keys.origin.encryptionPrivate, msg.chunks[0]!.payload);
    const chunks = [...msg.chunks];
    const i = chunks.findIndex((x) => x.type === 255);
    const bad = c.ed25519Sign(
      other.keys.origin.signingSeed,
      concatBytes(...chunks.slice(0, i).map((x) => x.serialized)),
    );
    chunks[i] = decodeChunkAt(reencryptChunk(chunks[i]!, 'origin', kek, bad), 0);
    const forged = serializeMessage(chunks.map((x) => x.serialized));
    for (const actor of ACTOR_LIST) {
      expect(
        codeOf(() => openMessage(forged, { actor, keys: parties.keys[actor], signets: parties.signets })),
      ).toBe('BAD_SIGNATURE');
    }
  });

  it("a tree signature over the spec's intended layout is accepted and flagged", () => {
    const sealed = sealMessage(input(parties));
    const msg = parseMessage(sealed);
    const kek = deriveKek(parties.keys.author.encryptionPrivate, msg.chunks[0]!.payload);
    const chunks = [...msg.chunks];
    const seed = parties.keys.author.signingSeed;
    const i225 = chunks.findIndex((x) => x.type === 225);
    chunks[i225] = decodeChunkAt(
      reencryptChunk(
        chunks[i225]!,
        'author',
        kek,
        c.ed25519Sign(seed, treeSignatureInput(chunks, 'intended')),
      ),
      0,
    );
    const full = c.ed25519Sign(seed, concatBytes(...chunks.slice(0, i225 + 1).map((x) => x.serialized)));
    chunks[i225 + 1] = decodeChunkAt(reencryptChunk(chunks[i225 + 1]!, 'author', kek, full), 0);
    const final2 = signAsOrigin(
      serializeMessage(chunks.map((x) => x.serialized)),
      parties.keys.origin,
      parties.signets,
    );
    const m = openMessage(final2, {
      actor: 'recipient',
      keys: parties.keys.recipient,
      signets: parties.signets,
    });
    expect(m.signatures.tree).toBe('valid');
    expect(m.signatures.treeLayout).toBe('intended');
  });
});

describe('messages without chunk 34 (libdime encoder skips it when there are no other headers)', () => {
  it('are accepted by every actor, with the libdime tree layout over the chunks present', () => {
    const msg = parseMessage(sealMessage(input(parties)));
    const kek = deriveKek(parties.keys.author.encryptionPrivate, msg.chunks[0]!.payload);
    const chunks = msg.chunks.filter((x) => x.type !== 34);
    const seed = parties.keys.author.signingSeed;
    const i225 = chunks.findIndex((x) => x.type === 225);
    const tree = treeSignatureInput(chunks, 'libdime');
    // n = 8 chunks (2, 4, 5, 33, 67, 67, 131, 131): 8 × 64 bytes, H(5) overwritten, last 64 zero
    expect(tree.length).toBe(8 * 64);
    expect(tree.subarray(7 * 64).every((b) => b === 0)).toBe(true);
    chunks[i225] = decodeChunkAt(reencryptChunk(chunks[i225]!, 'author', kek, c.ed25519Sign(seed, tree)), 0);
    const full = c.ed25519Sign(seed, concatBytes(...chunks.slice(0, i225 + 1).map((x) => x.serialized)));
    chunks[i225 + 1] = decodeChunkAt(reencryptChunk(chunks[i225 + 1]!, 'author', kek, full), 0);
    const signed = signAsOrigin(
      serializeMessage(chunks.map((x) => x.serialized)),
      parties.keys.origin,
      parties.signets,
    );
    for (const actor of ACTOR_LIST) {
      const m = openMessage(signed, { actor, keys: parties.keys[actor], signets: parties.signets });
      expect(m.otherHeaders).toBeNull();
      if (actor === 'author' || actor === 'recipient') expect(m.signatures.treeLayout).toBe('libdime');
    }
  });
});

describe('origin bounce flags (message.md §6.2 Decision)', () => {
  const sealed = sealMessage(input(parties));
  for (const [flags, types] of [
    [0, [255]],
    [BounceFlag.META, [248, 255]],
    [BounceFlag.DISPLAY, [249, 255]],
    [BounceFlag.META | BounceFlag.DISPLAY, [248, 249, 255]],
  ] as const) {
    it(`bounce ${flags}: keeps ${types.join(', ')} and every actor verifies`, () => {
      const signed = signAsOrigin(sealed, parties.keys.origin, parties.signets, { bounce: flags });
      const msg = parseMessage(signed);
      expect(msg.chunks.filter((x) => x.type >= 248).map((x) => x.type)).toEqual([...types]);
      for (const actor of ACTOR_LIST) {
        const m = openMessage(signed, { actor, keys: parties.keys[actor], signets: parties.signets });
        expect(m.signatures.originFull).toBe('valid');
        expect(m.signatures.metaBounce).toBe(flags & BounceFlag.META ? 'valid' : 'absent');
        expect(m.signatures.displayBounce).toBe(flags & BounceFlag.DISPLAY ? 'valid' : 'absent');
      }
    });
  }
});

describe('spanning parts, tracing and input checks', () => {
  it('a part larger than the chunk limit spans chunks flagged 128 and is joined back', () => {
    const big = c.randomBytes(1000);
    const sealed = sealMessage(
      input(parties, { display: [{ data: 'short' }, { data: big }], attachments: [{ data: big }] }),
      {
        maxChunkData: 300,
      },
    );
    const msg = parseMessage(sealed);
    expect(msg.chunks.filter((x) => x.type === 67).length).toBe(5);
    const m = openMessage(signAsOrigin(sealed, parties.keys.origin, parties.signets), {
      actor: 'recipient',
      keys: parties.keys.recipient,
      signets: parties.signets,
    });
    expect(m.display.map((d) => d.chunkCount)).toEqual([1, 4]);
    expect(Buffer.from(m.display[1]!.data).equals(Buffer.from(big))).toBe(true);
    expect(m.attachments.map((d) => [d.chunkCount, d.flags])).toEqual([[4, 0]]);
    expect(m.chunks.filter((x) => x.type === 67).map((x) => x.flags)).toEqual([0, 128, 128, 128, 0]);
  });

  it('a part of exactly MAX_CHUNK_DATA bytes fits one chunk even with the largest random padding', () => {
    const worst = (n: number) => new Uint8Array(n).fill(255).map((v, i) => (i === 0 && n === 32 ? 1 : v));
    for (const [size, payloads] of [
      [MAX_CHUNK_DATA, [16_777_200]],
      [MAX_CHUNK_DATA + 1, [8_388_880, 8_388_880]],
    ] as const) {
      const data = new Uint8Array(size).fill(7);
      const sealed = sealMessage(input(parties, { attachments: [{ data }] }), { rng: worst });
      const msg = parseMessage(sealed);
      expect(msg.chunks.filter((x) => x.type === 131).map((x) => x.payload.length)).toEqual([...payloads]);
      const m = openMessage(signAsOrigin(sealed, parties.keys.origin, parties.signets), {
        actor: 'recipient',
        keys: parties.keys.recipient,
        signets: parties.signets,
      });
      expect(m.attachments[0]!.data.length).toBe(size);
      expect(m.attachments[0]!.chunkCount).toBe(payloads.length);
    }
  }, 60_000);

  it('tracing is carried and excluded from signatures', () => {
    const tracing = enc('Received: by origin.test');
    const sealed = sealMessage(input(parties), { tracing });
    expect(sealed[0]).toBe(0x07);
    expect(sealed[1]).toBe(0x2d);
    const signed = signAsOrigin(sealed, parties.keys.origin, parties.signets);
    const m = openMessage(signed, {
      actor: 'recipient',
      keys: parties.keys.recipient,
      signets: parties.signets,
    });
    expect(Buffer.from(m.tracing!).toString()).toBe('Received: by origin.test');
    const dropped = signAsOrigin(sealed, parties.keys.origin, parties.signets, { keepTracing: false });
    expect(
      openMessage(dropped, { actor: 'recipient', keys: parties.keys.recipient, signets: parties.signets })
        .tracing,
    ).toBeNull();
  });

  it('rejects bad seal inputs with DimeError', () => {
    const other = freshParties();
    const cases: [Partial<SealInput>, string][] = [
      [{ display: [] }, 'BAD_INPUT'],
      [{ display: [{ data: '' }] }, 'BAD_INPUT'],
      [{ display: [{ data: 'x', flags: 128 }] }, 'BAD_INPUT'],
      [{ display: [{ data: 'x', flags: 4 }] }, 'BAD_INPUT'],
      [{ commonHeaders: { date: 'd', to: 't', from: 'f', subject: 'a\r\nBcc: x' } }, 'BAD_INPUT'],
      [{ commonHeaders: { date: 'd', to: 't', from: 'f' } as never }, 'BAD_INPUT'],
      [{ author: { keys: other.keys.author, signet: parties.signets.author } }, 'BAD_KEY'],
      [
        { author: { keys: parties.keys.author, signet: parties.signets.author, address: 'a>b' } },
        'BAD_INPUT',
      ],
      [{ origin: { signet: parties.signets.author } }, 'BAD_INPUT'],
      [{ recipient: { signet: parties.signets.destination } }, 'BAD_INPUT'],
      // an org signet may author (the origin's bounces, flow.md §3.2), with its org keys only
      [
        { author: { keys: parties.keys.author, signet: parties.signets.origin, address: 'p@o.test' } },
        'BAD_INPUT',
      ],
      [{ author: { keys: parties.keys.origin, signet: parties.signets.author } }, 'BAD_INPUT'],
      [
        { author: { keys: other.keys.origin, signet: parties.signets.origin, address: 'p@o.test' } },
        'BAD_KEY',
      ],
    ];
    for (const [over, code] of cases) expect(codeOf(() => sealMessage(input(parties, over)))).toBe(code);
  });

  it('open rejects bad options with DimeError', () => {
    const final = signAsOrigin(sealMessage(input(parties)), parties.keys.origin, parties.signets);
    expect(codeOf(() => openMessage(final, { actor: 'nobody' as Actor, keys: parties.keys.author }))).toBe(
      'BAD_INPUT',
    );
    expect(codeOf(() => openMessage(final, { actor: 'author', keys: {} as never }))).toBe('BAD_INPUT');
    expect(codeOf(() => openMessage('x' as never, { actor: 'author', keys: parties.keys.author }))).toBe(
      'BAD_INPUT',
    );
  });

  it('the ephemeral chunk must be a curve point', () => {
    const sealed = sealMessage(input(parties));
    const bad = new Uint8Array(sealed);
    bad[10] = 0x04;
    expect(
      codeOf(() =>
        openMessage(bad, { actor: 'author', keys: parties.keys.author, signets: parties.signets }),
      ),
    ).toBe('BAD_KEY');
  });
});
