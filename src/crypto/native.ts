import { createRequire } from 'node:module';
import { DimeError } from '../errors/index.js';

/**
 * Loads the native bindings directly, never their JavaScript fallbacks: the `secp256k1` package's
 * index silently falls back to pure JS (elliptic) when its addon fails, which is ~15× slower.
 */
const require = createRequire(import.meta.url);

export interface Secp256k1Native {
  privateKeyVerify(seckey: Uint8Array): boolean;
  publicKeyCreate(seckey: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyVerify(pubkey: Uint8Array): boolean;
  ecdh(
    pubkey: Uint8Array,
    seckey: Uint8Array,
    options: { hashfn: (x: Uint8Array, y: Uint8Array) => Uint8Array; xbuf?: Uint8Array; ybuf?: Uint8Array },
    output: Uint8Array,
  ): Uint8Array;
}

export interface SodiumNative {
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void;
  crypto_sign_detached(sig: Buffer, message: Buffer, sk: Buffer): void;
  crypto_sign_verify_detached(sig: Uint8Array, message: Uint8Array, pk: Uint8Array): boolean;
  sodium_memzero(buf: Buffer): void;
  crypto_sign_PUBLICKEYBYTES: number;
  crypto_sign_SECRETKEYBYTES: number;
}

function load<T>(id: string, what: string): T {
  try {
    return require(id) as T;
  } catch (e) {
    throw new DimeError(
      'NATIVE_UNAVAILABLE',
      `${what} native binding failed to load: ${(e as Error).message}`,
    );
  }
}

export const secp256k1Native: Secp256k1Native = load('secp256k1/bindings.js', 'libsecp256k1 (secp256k1)');
export const sodium: SodiumNative = load('sodium-native', 'libsodium (sodium-native)');

/** Where each native module came from; a test asserts these are real addons. */
export function nativeModulePaths(): { secp256k1: string; sodium: string } {
  return { secp256k1: require.resolve('secp256k1/bindings.js'), sodium: require.resolve('sodium-native') };
}
