/**
 * SASL PLAIN (RFC 4616) and LOGIN for SMTP AUTH (RFC 4954): base64 decoding and message splitting.
 * Pure; the session drives the exchange and the hooks check the credentials.
 */

export type SaslMechanism = 'PLAIN' | 'LOGIN';

export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'LOGIN'];

export interface Credentials {
  mechanism: SaslMechanism;
  /** Authorization identity (PLAIN only; '' when absent). */
  authzid: string;
  username: string;
  password: string;
}

const STRICT_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Strict base64 (padded, canonical) to bytes; null if malformed. `=` alone is the empty string. */
export function decodeSaslBase64(text: string): Uint8Array | null {
  if (text === '=') return new Uint8Array(0);
  if (!STRICT_B64.test(text)) return null;
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  return Buffer.from(bytes).toString('base64') === text ? bytes : null;
}

export function encodeSaslBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function utf8(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/** RFC 4616 message `[authzid] NUL authcid NUL passwd`; null if malformed. */
export function parsePlainMessage(bytes: Uint8Array): Credentials | null {
  const first = bytes.indexOf(0);
  const second = first < 0 ? -1 : bytes.indexOf(0, first + 1);
  if (first < 0 || second < 0 || bytes.indexOf(0, second + 1) >= 0) return null;
  const authzid = utf8(bytes.subarray(0, first));
  const username = utf8(bytes.subarray(first + 1, second));
  const password = utf8(bytes.subarray(second + 1));
  if (authzid === null || username === null || password === null) return null;
  if (username.length === 0 || username.length > 255 || password.length > 255 || authzid.length > 255)
    return null;
  return { mechanism: 'PLAIN', authzid, username, password };
}

/** A LOGIN field (user name or password) from its base64 line; null if malformed. */
export function parseLoginField(text: string): string | null {
  const bytes = decodeSaslBase64(text);
  if (!bytes || bytes.length > 255 || bytes.includes(0)) return null;
  return utf8(bytes);
}

/** LOGIN's challenges: base64 of "Username:" and "Password:". */
export const LOGIN_USERNAME_CHALLENGE = 'VXNlcm5hbWU6';
export const LOGIN_PASSWORD_CHALLENGE = 'UGFzc3dvcmQ6';
