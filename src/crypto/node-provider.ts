import * as nodeCrypto from 'node:crypto';
import { secp256k1Native, sodium } from './native.js';
import type { CryptoProvider } from './provider.js';

const asBuf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const takeX = (x: Uint8Array): Uint8Array => x;

/** Node implementation: libsodium for Ed25519, libsecp256k1 for ECDH, OpenSSL for the rest. */
export const nodeCryptoProvider: CryptoProvider = {
  name: 'node-native',

  randomBytes(n) {
    return new Uint8Array(nodeCrypto.randomBytes(n));
  },

  sha512(...parts) {
    const h = nodeCrypto.createHash('sha512');
    for (const p of parts) h.update(p);
    return new Uint8Array(h.digest());
  },

  sha256(data) {
    return new Uint8Array(nodeCrypto.createHash('sha256').update(data).digest());
  },

  hmacSha512(key, ...parts) {
    const h = nodeCrypto.createHmac('sha512', key);
    for (const p of parts) h.update(p);
    return new Uint8Array(h.digest());
  },

  ed25519PublicKey(seed) {
    const pk = Buffer.alloc(32);
    const sk = Buffer.alloc(64);
    sodium.crypto_sign_seed_keypair(pk, sk, asBuf(seed));
    sodium.sodium_memzero(sk);
    return new Uint8Array(pk);
  },

  ed25519Sign(seed, message) {
    const pk = Buffer.alloc(32);
    const sk = Buffer.alloc(64);
    sodium.crypto_sign_seed_keypair(pk, sk, asBuf(seed));
    const sig = Buffer.alloc(64);
    sodium.crypto_sign_detached(sig, asBuf(message), sk);
    sodium.sodium_memzero(sk);
    return new Uint8Array(sig);
  },

  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    // sodium-native takes typed arrays as they are: no Buffer views to allocate on this hot path
    return sodium.crypto_sign_verify_detached(signature, message, publicKey);
  },

  secp256k1PublicKey(privateKey) {
    return secp256k1Native.publicKeyCreate(privateKey, true);
  },

  secp256k1PrivateKeyValid(privateKey) {
    return privateKey.length === 32 && secp256k1Native.privateKeyVerify(privateKey);
  },

  secp256k1PublicKeyValid(publicKey) {
    if (publicKey.length !== 33 || (publicKey[0] !== 2 && publicKey[0] !== 3)) return false;
    return secp256k1Native.publicKeyVerify(publicKey);
  },

  secp256k1EcdhX(privateKey, publicKey) {
    return secp256k1Native.ecdh(publicKey, privateKey, { hashfn: takeX }, new Uint8Array(32));
  },

  secp256k1GeneratePrivate() {
    for (;;) {
      const d = new Uint8Array(nodeCrypto.randomBytes(32));
      if (secp256k1Native.privateKeyVerify(d)) return d;
    }
  },

  aes256GcmEncrypt(key, iv, plaintext) {
    const c = nodeCrypto.createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return { ciphertext: new Uint8Array(ct), tag: new Uint8Array(c.getAuthTag()) };
  },

  aes256GcmDecrypt(key, iv, ciphertext, tag) {
    try {
      const d = nodeCrypto.createDecipheriv('aes-256-gcm', key, iv);
      d.setAuthTag(tag);
      return new Uint8Array(Buffer.concat([d.update(ciphertext), d.final()]));
    } catch {
      return null;
    }
  },

  aes256CbcEncrypt(key, iv, plaintext) {
    const c = nodeCrypto.createCipheriv('aes-256-cbc', key, iv);
    c.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(plaintext), c.final()]));
  },

  aes256CbcDecrypt(key, iv, ciphertext) {
    const d = nodeCrypto.createDecipheriv('aes-256-cbc', key, iv);
    d.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([d.update(ciphertext), d.final()]));
  },

  scrypt(password, salt, n, r, p, length) {
    const maxmem = 128 * n * r * p + 16 * 1024 * 1024;
    return new Uint8Array(nodeCrypto.scryptSync(password, salt, length, { N: n, r, p, maxmem }));
  },

  timingSafeEqual(a, b) {
    if (a.length !== b.length) return false;
    return nodeCrypto.timingSafeEqual(a, b);
  },

  zeroize(buf) {
    sodium.sodium_memzero(asBuf(buf));
  },
};
