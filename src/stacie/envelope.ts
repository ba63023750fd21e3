import { crypto } from '../crypto/index.js';
import { frame, shardDecrypt, shardEncrypt, unframe } from '../crypto/shard-gcm.js';
import { DimeError, isDimeError } from '../errors/index.js';
import {
  STACIE_ENCRYPT_MAX,
  STACIE_ENCRYPT_MIN,
  STACIE_ENVELOPE_HEADER_LENGTH,
  STACIE_ENVELOPE_MIN_LENGTH,
  STACIE_KEY_LENGTH,
} from './constants.js';
import { requireLength } from './validate.js';

/**
 * Realm envelope (stacie.md §6, magma `stacie_encrypt`/`stacie_decrypt`):
 * `serial:u16be ‖ vshard(16) ‖ tshard(16) ‖ AES-256-GCM(cipher_key, vshard XOR vector_key) of
 * u24be(len) ‖ pad ‖ data ‖ pad × pad`, tshard = tag XOR tag_key.
 */
export function realmEncrypt(
  realmKey: Uint8Array,
  data: Uint8Array,
  serial = 0,
  vshard?: Uint8Array,
): Uint8Array {
  requireLength('realm key', realmKey, STACIE_KEY_LENGTH);
  if (data.length < STACIE_ENCRYPT_MIN || data.length > STACIE_ENCRYPT_MAX) {
    throw new DimeError(
      'BAD_PARAMETER',
      `STACIE realm encryption takes ${STACIE_ENCRYPT_MIN} to ${STACIE_ENCRYPT_MAX} bytes, got ${data.length}`,
      { length: data.length },
    );
  }
  if (!Number.isInteger(serial) || serial < 0 || serial > 0xffff) {
    throw new DimeError('BAD_PARAMETER', `STACIE envelope serial must be a u16, got ${serial}`, { serial });
  }
  if (vshard !== undefined) requireLength('vector shard', vshard, 16);

  const sealed = shardEncrypt(realmKey, frame(data), vshard);
  const out = new Uint8Array(STACIE_ENVELOPE_HEADER_LENGTH + sealed.ciphertext.length);
  out[0] = serial >>> 8;
  out[1] = serial & 0xff;
  out.set(sealed.vshard, 2);
  out.set(sealed.tshard, 18);
  out.set(sealed.ciphertext, STACIE_ENVELOPE_HEADER_LENGTH);
  return out;
}

/** The serial number of an envelope (not authenticated, not checked by realmDecrypt). */
export function realmEnvelopeSerial(envelope: Uint8Array): number {
  if (envelope.length < 2) throw new DimeError('DECRYPT_FAILED', 'STACIE envelope is too short');
  return ((envelope[0] as number) << 8) | (envelope[1] as number);
}

/**
 * Opens a realm envelope. Accepts any total length ≥ 50 with (total − 34) a multiple of 16 (the
 * §6 decision: magma and the Python reference wrongly demand 54). Every failure of the envelope
 * (size, tag, length, padding) is DECRYPT_FAILED; a realm key that is not 64 bytes is BAD_PARAMETER.
 */
export function realmDecrypt(realmKey: Uint8Array, envelope: Uint8Array): Uint8Array {
  requireLength('realm key', realmKey, STACIE_KEY_LENGTH);
  const total = envelope.length;
  if (total < STACIE_ENVELOPE_MIN_LENGTH || (total - STACIE_ENVELOPE_HEADER_LENGTH) % 16 !== 0) {
    throw new DimeError(
      'DECRYPT_FAILED',
      `STACIE envelope length ${total} is impossible (need 34 + a positive multiple of 16)`,
      { length: total },
    );
  }
  let plain: Uint8Array | undefined;
  try {
    plain = shardDecrypt(realmKey, {
      vshard: envelope.subarray(2, 18),
      tshard: envelope.subarray(18, 34),
      ciphertext: envelope.subarray(STACIE_ENVELOPE_HEADER_LENGTH),
    });
    return unframe(plain).slice();
  } catch (e) {
    if (isDimeError(e) && e.code === 'DECRYPT_FAILED') throw e;
    throw new DimeError('DECRYPT_FAILED', `STACIE envelope does not open: ${(e as Error).message}`);
  } finally {
    if (plain) crypto().zeroize(plain);
  }
}
