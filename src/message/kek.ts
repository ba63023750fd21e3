import { crypto } from '../crypto/index.js';
import { concatBytes } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';

/** A key-encryption key: AES-256-CBC key and IV for one actor's keyslots (message.md §3.1). */
export interface Kek {
  iv: Uint8Array;
  key: Uint8Array;
}

/**
 * libdime `_compute_aes256_kek`: h = SHA-512(x-coordinate of d·Q), iv = h[0..16) ⊕ h[16..32),
 * key = h[32..64). The same function serves both sides: (ephemeral private, actor public) when
 * sealing, (actor private, ephemeral public) when opening. `prechecked`: the caller has already
 * checked both keys (the ECDH itself still refuses a point that is not on the curve).
 */
export function deriveKek(privateKey: Uint8Array, publicKey: Uint8Array, prechecked = false): Kek {
  const c = crypto();
  if (!prechecked && !c.secp256k1PrivateKeyValid(privateKey)) {
    throw new DimeError('BAD_KEY', 'secp256k1 private key is not a valid scalar');
  }
  if (publicKey.length !== 33 || (publicKey[0] !== 2 && publicKey[0] !== 3)) {
    throw new DimeError('BAD_KEY', 'secp256k1 public key is not a compressed curve point');
  }
  if (!prechecked && !c.secp256k1PublicKeyValid(publicKey)) {
    throw new DimeError('BAD_KEY', 'secp256k1 public key is not a compressed curve point');
  }
  let x: Uint8Array;
  try {
    x = c.secp256k1EcdhX(privateKey, publicKey);
  } catch (e) {
    throw new DimeError('BAD_KEY', `ECDH failed: ${(e as Error).message}`);
  }
  const h = c.sha512(x);
  c.zeroize(x);
  const iv = new Uint8Array(16);
  for (let i = 0; i < 16; i++) iv[i] = h[i]! ^ h[16 + i]!;
  const key = h.slice(32, 64);
  c.zeroize(h);
  return { iv, key };
}

/** The 48-byte form libdime prints (`dime_dmsg_kek_in_derive`): iv ‖ key. */
export function kekBytes(kek: Kek): Uint8Array {
  return concatBytes(kek.iv, kek.key);
}

export function wipeKek(kek: Kek): void {
  crypto().zeroize(kek.iv);
  crypto().zeroize(kek.key);
}
