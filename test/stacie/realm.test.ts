import { describe, expect, it } from 'vitest';
import { frame } from '../../src/crypto/shard-gcm.js';
import { concatBytes, utf8 } from '../../src/encoding/bytes.js';
import { toHex } from '../../src/encoding/hex.js';
import { DimeError } from '../../src/errors/index.js';
import {
  decodeModifiedBase64,
  deriveRealmKey,
  realmDecrypt,
  realmEncrypt,
  realmEnvelopeSerial,
  splitRealmKey,
} from '../../src/stacie/index.js';
import { caseById, envelopeCases, hex, type RealmKeyExpect } from './vectors.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DimeError) return e.code;
    throw e;
  }
  throw new Error('expected a DimeError');
}

const simple = caseById('magma-check-stacie-simple');
const master = hex(simple.expect.master_key_hex);
const shard = hex(simple.input.shard_hex ?? '');
const salt = hex(simple.input.salt_hex);
const label = simple.input.realm_label ?? '';

function checkParts(key: Uint8Array, e: RealmKeyExpect): void {
  expect(toHex(key)).toBe(e.realm_key_hex);
  const p = splitRealmKey(key);
  expect(toHex(p.vectorKey)).toBe(e.vector_key_hex);
  expect(toHex(p.tagKey)).toBe(e.tag_key_hex);
  expect(toHex(p.cipherKey)).toBe(e.cipher_key_hex);
  const lit = e.magma_test_literals_modified_base64;
  if (lit) {
    expect(toHex(decodeModifiedBase64(lit.vector_key, 16))).toBe(e.vector_key_hex);
    expect(toHex(decodeModifiedBase64(lit.tag_key, 16))).toBe(e.tag_key_hex);
    expect(toHex(decodeModifiedBase64(lit.cipher_key, 32))).toBe(e.cipher_key_hex);
  }
}

describe('deriveRealmKey (stacie.md §5, §9.1)', () => {
  it('uses the realm label "mail"', () => expect(label).toBe('mail'));

  it('legacy form (rotated = 0, S = shard) matches magma check_stacie_simple', () => {
    const e = simple.expect.realm_key_legacy;
    if (!e) throw new Error('vector lacks realm_key_legacy');
    expect(e.S).toBe('shard');
    checkParts(deriveRealmKey(master, label, shard, { rotated: false }), e);
    checkParts(deriveRealmKey(master, utf8(label), shard, { rotated: false, salt }), e); // salt ignored
  });

  it('rotated form (rotated = 1, S = salt)', () => {
    const e = simple.expect.realm_key_rotated;
    if (!e) throw new Error('vector lacks realm_key_rotated');
    expect(e.S).toBe('salt');
    checkParts(deriveRealmKey(master, label, shard, { rotated: true, salt }), e);
  });

  it('validates its inputs', () => {
    expect(codeOf(() => deriveRealmKey(master.subarray(1), label, shard, { rotated: false }))).toBe(
      'BAD_PARAMETER',
    );
    expect(codeOf(() => deriveRealmKey(master, '', shard, { rotated: false }))).toBe('BAD_PARAMETER');
    expect(codeOf(() => deriveRealmKey(master, label, shard.subarray(1), { rotated: false }))).toBe(
      'BAD_PARAMETER',
    );
    expect(codeOf(() => deriveRealmKey(master, label, shard, { rotated: true }))).toBe('BAD_PARAMETER');
    expect(codeOf(() => deriveRealmKey(master, label, shard, { rotated: true, salt: shard }))).toBe(
      'BAD_PARAMETER',
    );
    expect(codeOf(() => splitRealmKey(new Uint8Array(32)))).toBe('BAD_PARAMETER');
  });
});

describe('realm envelope (stacie.md §6, §9.1)', () => {
  const legacy = simple.expect.realm_key_legacy;
  if (!legacy) throw new Error('vector lacks realm_key_legacy');
  const realmKey = hex(legacy.realm_key_hex);

  it('stacie.json has the fixed envelope case', () => {
    expect(envelopeCases.map((c) => c.id)).toEqual(['stacie-envelope-attack-at-dawn']);
  });

  for (const c of envelopeCases) {
    const key = concatBytes(
      hex(c.input.vector_key_hex),
      hex(c.input.tag_key_hex),
      hex(c.input.cipher_key_hex),
    );
    const data = utf8(c.input.plaintext);
    const env = hex(c.expect.envelope_hex);

    it(`${c.id}: keys are the legacy realm key of check_stacie_simple`, () => {
      expect(toHex(key)).toBe(toHex(realmKey));
      expect(toHex(data)).toBe(c.input.plaintext_hex);
    });

    it(`${c.id}: framing (pad ${c.expect.pad})`, () => {
      const f = frame(data);
      expect(toHex(f)).toBe(c.expect.framed_plaintext_hex);
      expect(f[3]).toBe(c.expect.pad);
    });

    it(`${c.id}: encrypts to the fixed envelope with vshard 000102…0f`, () => {
      const out = realmEncrypt(key, data, c.input.serial, hex(c.input.vshard_hex));
      expect(out.length).toBe(c.expect.envelope_len);
      expect(toHex(out)).toBe(c.expect.envelope_hex);
      expect(realmEnvelopeSerial(out)).toBe(c.input.serial);
    });

    it(`${c.id}: decrypts the fixed envelope`, () => {
      expect(toHex(realmDecrypt(key, env))).toBe(c.input.plaintext_hex);
    });

    it(`${c.id}: bit flip fails, restoring succeeds (magma check_stacie_bitflip)`, () => {
      const flipped = env.slice();
      flipped[flipped.length - 1] = ((flipped[flipped.length - 1] as number) + 1) & 0xff;
      expect(toHex(flipped)).toBe(c.expect.bitflipped_envelope_hex);
      expect(codeOf(() => realmDecrypt(key, flipped))).toBe('DECRYPT_FAILED');
      flipped[flipped.length - 1] = ((flipped[flipped.length - 1] as number) - 1) & 0xff;
      expect(toHex(realmDecrypt(key, flipped))).toBe(c.input.plaintext_hex);
    });
  }

  it('round trip with a random vshard (magma check_stacie_simple)', () => {
    const data = utf8('Attack at dawn!');
    const a = realmEncrypt(realmKey, data);
    const b = realmEncrypt(realmKey, data);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(a.length).toBe(66);
    expect(realmEnvelopeSerial(a)).toBe(0);
    expect(toHex(realmDecrypt(realmKey, a))).toBe(toHex(data));
    expect(toHex(realmDecrypt(realmKey, b))).toBe(toHex(data));
  });

  it('the rotated realm key does not open a legacy-key envelope', () => {
    const rotated = hex(simple.expect.realm_key_rotated?.realm_key_hex ?? '');
    expect(codeOf(() => realmDecrypt(rotated, hex(envelopeCases[0]?.expect.envelope_hex ?? '')))).toBe(
      'DECRYPT_FAILED',
    );
  });

  it('50-byte envelopes (1 … 11 bytes of data) decrypt (the ≥ 50 decision)', () => {
    for (let n = 1; n <= 11; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => i + 1);
      const env = realmEncrypt(realmKey, data, 7);
      expect(env.length).toBe(50);
      expect(toHex(realmDecrypt(realmKey, env))).toBe(toHex(data));
    }
    const fixed = realmEncrypt(realmKey, utf8('x'), 0, new Uint8Array(16));
    expect(fixed.length).toBe(50);
    expect(toHex(realmDecrypt(realmKey, fixed))).toBe(toHex(utf8('x')));
  });

  it('sizes: 11 → 50, 12 → 66 (pad 16), 27 → 66 (pad 1), 28 → 82; total = 34 + L', () => {
    expect(realmEncrypt(realmKey, new Uint8Array(11)).length).toBe(50);
    expect(realmEncrypt(realmKey, new Uint8Array(12)).length).toBe(66);
    expect(realmEncrypt(realmKey, new Uint8Array(27)).length).toBe(66);
    expect(realmEncrypt(realmKey, new Uint8Array(28)).length).toBe(82);
  });

  it('serial is written big-endian and not checked on decrypt', () => {
    const env = realmEncrypt(realmKey, utf8('hello'), 0x1234);
    expect(toHex(env.subarray(0, 2))).toBe('1234');
    env[0] = 0xff;
    expect(toHex(realmDecrypt(realmKey, env))).toBe(toHex(utf8('hello')));
  });

  it('refuses impossible lengths with DECRYPT_FAILED', () => {
    const env = realmEncrypt(realmKey, new Uint8Array(40).fill(9));
    expect(env.length).toBe(82);
    for (const n of [0, 1, 2, 18, 34, 49, 51, 65, 81]) {
      expect(codeOf(() => realmDecrypt(realmKey, env.subarray(0, n)))).toBe('DECRYPT_FAILED');
    }
    // a well-sized prefix fails on the tag
    expect(codeOf(() => realmDecrypt(realmKey, env.subarray(0, 66)))).toBe('DECRYPT_FAILED');
    expect(codeOf(() => realmDecrypt(realmKey, concatBytes(env, new Uint8Array(1))))).toBe('DECRYPT_FAILED');
    expect(codeOf(() => realmDecrypt(realmKey, concatBytes(env, new Uint8Array(16))))).toBe('DECRYPT_FAILED');
  });

  it('encrypt validates data size, serial, vshard and key', () => {
    expect(codeOf(() => realmEncrypt(realmKey, new Uint8Array(0)))).toBe('BAD_PARAMETER');
    expect(codeOf(() => realmEncrypt(realmKey, new Uint8Array(0x1000000)))).toBe('BAD_PARAMETER');
    for (const s of [-1, 0x10000, 1.5]) {
      expect(codeOf(() => realmEncrypt(realmKey, utf8('x'), s))).toBe('BAD_PARAMETER');
    }
    expect(codeOf(() => realmEncrypt(realmKey, utf8('x'), 0, new Uint8Array(12)))).toBe('BAD_PARAMETER');
    expect(codeOf(() => realmEncrypt(realmKey.subarray(0, 32), utf8('x')))).toBe('BAD_PARAMETER');
    expect(codeOf(() => realmDecrypt(realmKey.subarray(0, 32), new Uint8Array(50)))).toBe('BAD_PARAMETER');
  });

  it('largest plaintext (16 777 215 bytes) round-trips', () => {
    const data = new Uint8Array(0xffffff).fill(0x5a);
    const env = realmEncrypt(realmKey, data);
    expect(env.length).toBe(34 + 0xffffff + 4 + 13);
    const back = realmDecrypt(realmKey, env);
    expect(back.length).toBe(0xffffff);
    expect(back[0]).toBe(0x5a);
    expect(back[back.length - 1]).toBe(0x5a);
  });
});
