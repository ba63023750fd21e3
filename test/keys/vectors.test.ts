import { describe, expect, it } from 'vitest';
import { dearmor } from '../../src/encoding/armor.js';
import { DimeError } from '../../src/errors/index.js';
import {
  generateKeys,
  loadKeys,
  openKeyObject,
  parseKeys,
  protectKeyObject,
  sealKeyObject,
  serializeKeys,
  unprotectKeyObject,
} from '../../src/keys/index.js';
import { hex, loadCases, toHexStr, type VectorCase } from '../helpers/vectors.js';

const keyCases: VectorCase[] = [
  ...loadCases('objects/gold.json'),
  ...loadCases('objects/silver-org_key.json'),
  ...loadCases('objects/silver-user_key.json'),
].filter((c) => c.kind === 'org_key' || c.kind === 'user_key');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DimeError) return e.code;
    throw e;
  }
  return undefined;
}

describe('key vectors', () => {
  for (const c of keyCases) {
    it(`${c.id}`, () => {
      if (!c.expect.valid) {
        expect(codeOf(() => parseKeys(hex(c.input.hex)))).toBe(c.expect.error);
        return;
      }
      const k = parseKeys(hex(c.input.hex));
      expect(k.kind).toBe(c.kind === 'org_key' ? 'org' : 'user');
      expect(k.form).toBe('prime');
      expect(toHexStr(k.signingPublic)).toBe(c.expect.derived_public.ed25519);
      expect(toHexStr(k.encryptionPublic)).toBe(c.expect.derived_public.secp256k1_compressed);
      // PRIME form re-encodes byte-exactly
      expect(toHexStr(serializeKeys(k, 'prime'))).toBe(c.input.hex);
      if (c.input.armored) expect(toHexStr(dearmor(c.input.armored).binary)).toBe(c.input.hex);
    });
  }

  for (const c of loadCases('objects/silver-encrypted_key.json')) {
    it(`${c.id}`, () => {
      const realm = hex(c.input.realm_key_hex);
      if (!c.expect.valid) {
        expect(codeOf(() => openKeyObject(hex(c.input.hex), realm))).toBe(c.expect.error);
        return;
      }
      const plain = openKeyObject(hex(c.input.hex), realm);
      expect(toHexStr(plain)).toBe(c.expect.decrypted_hex);
      const loaded = loadKeys(new TextEncoder().encode(c.input.armored), { realmKey: realm });
      expect(loaded.container).toBe('encrypted');
      // sealing again with the same vshard reproduces the object
      const bytes = hex(c.input.hex);
      expect(toHexStr(sealKeyObject(plain, realm, bytes.subarray(6, 22)))).toBe(c.input.hex);
    });
  }
});

describe('our key files', () => {
  it('libdime layout: 74 bytes, `03 00 20` encryption field, round trip', () => {
    const k = generateKeys('org');
    const bin = serializeKeys(k);
    expect(bin.length).toBe(74);
    expect(toHexStr(bin.subarray(0, 8))).toBe(`07a0000045012000`.slice(0, 12) + toHexStr(bin.subarray(6, 8)));
    expect(toHexStr(bin.subarray(39, 42))).toBe('030020');
    const back = parseKeys(bin);
    expect(back.form).toBe('libdime');
    expect(toHexStr(serializeKeys(back))).toBe(toHexStr(bin));
  });

  it('protected key file: right passphrase opens, wrong one is DECRYPT_FAILED', () => {
    const k = generateKeys('user');
    const text = protectKeyObject(serializeKeys(k), 'correct horse', { log2N: 10, r: 8, p: 1 });
    expect(text.startsWith('-----BEGIN DIME PROTECTED KEY-----\n')).toBe(true);
    const body = dearmor(text).binary;
    expect(toHexStr(unprotectKeyObject(body, 'correct horse'))).toBe(toHexStr(serializeKeys(k)));
    expect(codeOf(() => unprotectKeyObject(body, 'wrong'))).toBe('DECRYPT_FAILED');
    const enc = new TextEncoder().encode(text);
    expect(codeOf(() => loadKeys(enc))).toBe('PASSPHRASE_REQUIRED');
    expect(toHexStr(loadKeys(enc, { passphrase: () => 'correct horse' }).keys.signingSeed)).toBe(
      toHexStr(k.signingSeed),
    );
  });
});
