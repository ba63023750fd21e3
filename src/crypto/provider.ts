/**
 * The primitives every format uses (crypto.md), behind one small synchronous interface so a
 * browser build can back it with @noble/WebCrypto while Node uses native code.
 */
export interface CryptoProvider {
  readonly name: string;
  randomBytes(n: number): Uint8Array;
  sha512(...parts: Uint8Array[]): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  hmacSha512(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;

  /** RFC 8032 public key of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;

  /** Compressed SEC1 public key (33 bytes) of a private scalar. */
  secp256k1PublicKey(privateKey: Uint8Array): Uint8Array;
  secp256k1PrivateKeyValid(privateKey: Uint8Array): boolean;
  secp256k1PublicKeyValid(publicKey: Uint8Array): boolean;
  /** Raw 32-byte x-coordinate of d·Q (no KDF). */
  secp256k1EcdhX(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** A fresh private scalar in [1, n-1]. */
  secp256k1GeneratePrivate(): Uint8Array;

  /** AES-256-GCM, any IV length (DIME uses 16), no AAD. */
  aes256GcmEncrypt(
    key: Uint8Array,
    iv: Uint8Array,
    plaintext: Uint8Array,
  ): { ciphertext: Uint8Array; tag: Uint8Array };
  /** Returns null when the tag does not verify. */
  aes256GcmDecrypt(
    key: Uint8Array,
    iv: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
  ): Uint8Array | null;
  /** AES-256-CBC without padding (libdime `_encrypt_aes_256`); input must be a multiple of 16. */
  aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  aes256CbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;

  scrypt(password: Uint8Array, salt: Uint8Array, n: number, r: number, p: number, length: number): Uint8Array;
  /** Constant-time equality (false for different lengths). */
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  /** Overwrites a secret in place. */
  zeroize(buf: Uint8Array): void;
}
