import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { nativeModulePaths, secp256k1Native, sodium } from '../../src/crypto/native.js';
import { hex, loadJson, toHexStr } from '../helpers/vectors.js';

const require = createRequire(import.meta.url);

describe('native bindings', () => {
  it('libsecp256k1 is the compiled addon, not the elliptic.js fallback', () => {
    const { secp256k1 } = nativeModulePaths();
    expect(secp256k1).toMatch(/secp256k1[/\\]bindings\.js$/);
    // the module cache holds a .node addon for secp256k1, and elliptic was never loaded
    const loaded = Object.keys(require.cache);
    expect(loaded.some((p) => /secp256k1.*\.node$/.test(p))).toBe(true);
    expect(loaded.some((p) => /secp256k1[/\\]elliptic\.js$/.test(p))).toBe(false);
    expect(typeof secp256k1Native.ecdh).toBe('function');
  });

  it('sodium-native is the compiled addon', () => {
    const loaded = Object.keys(require.cache);
    expect(loaded.some((p) => /sodium-native.*\.node$/.test(p))).toBe(true);
    expect(typeof sodium.crypto_sign_verify_detached).toBe('function');
    expect(sodium.crypto_sign_PUBLICKEYBYTES).toBe(32);
  });

  it('the provider in use is the native one', () => {
    expect(crypto().name).toBe('node-native');
  });
});

describe('primitives', () => {
  const v = loadJson('spec-examples/magma-check-secp256k1.json');

  it('secp256k1 ECDH gives the raw x-coordinate (magma secp256k1_check.c)', () => {
    const c = crypto();
    expect(toHexStr(c.secp256k1PublicKey(hex(v.priv1_hex)))).toBe(v.pub1_compressed_hex);
    expect(toHexStr(c.secp256k1PublicKey(hex(v.priv2_hex)))).toBe(v.pub2_compressed_hex);
    expect(toHexStr(c.secp256k1EcdhX(hex(v.priv1_hex), hex(v.pub2_compressed_hex)))).toBe(v.kek_hex);
    expect(toHexStr(c.secp256k1EcdhX(hex(v.priv2_hex), hex(v.pub1_compressed_hex)))).toBe(v.kek_hex);
    for (const k of v.invalid_private_keys_hex) expect(c.secp256k1PrivateKeyValid(hex(k))).toBe(false);
    for (const k of v.valid_private_keys_hex) expect(c.secp256k1PrivateKeyValid(hex(k))).toBe(true);
    for (const k of v.invalid_public_keys_hex) expect(c.secp256k1PublicKeyValid(hex(k))).toBe(false);
  });

  it('Ed25519 matches RFC 8032 test 1 and node:crypto', () => {
    const c = crypto();
    const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    expect(toHexStr(c.ed25519PublicKey(seed))).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    const sig = c.ed25519Sign(seed, new Uint8Array(0));
    expect(toHexStr(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(c.ed25519Verify(c.ed25519PublicKey(seed), new Uint8Array(0), sig)).toBe(true);
    sig[0]! ^= 1;
    expect(c.ed25519Verify(c.ed25519PublicKey(seed), new Uint8Array(0), sig)).toBe(false);
  });

  it('constant-time compare and zeroize', () => {
    const c = crypto();
    expect(c.timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(c.timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(c.timingSafeEqual(Uint8Array.of(1), Uint8Array.of(1, 2))).toBe(false);
    const s = Uint8Array.of(9, 9, 9);
    c.zeroize(s);
    expect([...s]).toEqual([0, 0, 0]);
  });

  it('the module files are real (sanity for the assertion above)', () => {
    expect(readFileSync(nativeModulePaths().sodium).length).toBeGreaterThan(0);
  });
});
