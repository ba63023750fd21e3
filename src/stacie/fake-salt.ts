import { crypto } from '../crypto/index.js';
import { concatBytes } from '../encoding/bytes.js';
import { asBytes, requireNonEmpty } from './validate.js';

/**
 * Salt shown in the challenge for an unknown user (stacie.md §7.2), so that the SASL exchange does
 * not reveal whether an account exists:
 * `HMAC-SHA512(server_secret, name ‖ 00) ‖ HMAC-SHA512(server_secret, name ‖ 01)` (128 bytes).
 * `name` is the (normalized) login name the client sent; a string is taken as UTF-8.
 */
export function fakeSalt(serverSecret: Uint8Array, name: string | Uint8Array): Uint8Array {
  const nameBytes = asBytes(name);
  requireNonEmpty('server secret', serverSecret);
  const c = crypto();
  return concatBytes(
    c.hmacSha512(serverSecret, nameBytes, Uint8Array.of(0)),
    c.hmacSha512(serverSecret, nameBytes, Uint8Array.of(1)),
  );
}
