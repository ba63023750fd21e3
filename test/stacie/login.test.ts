import { describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { concatBytes, utf8 } from '../../src/encoding/bytes.js';
import { toHex } from '../../src/encoding/hex.js';
import { DimeError } from '../../src/errors/index.js';
import {
  decodeModifiedBase64,
  deriveToken,
  encodeModifiedBase64,
  fakeSalt,
  normalizeUsername,
  verifyEphemeral,
  verifyPasswordKey,
} from '../../src/stacie/index.js';
import { caseById, hex } from './vectors.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DimeError) return e.code;
    throw e;
  }
  throw new Error('expected a DimeError');
}

describe('normalizeUsername (stacie.md §2.1, magma auth_sanitize_username)', () => {
  it('the spec example', () => {
    expect(normalizeUsername(' John.Smith+news@Example.COM ', 'example.com')).toBe('john_smith');
  });

  it('keeps a foreign domain, with the local-part rules applied', () => {
    expect(normalizeUsername(' John.Smith+news@Example.COM ', 'lavabit.com')).toBe('john_smith@example.com');
    expect(normalizeUsername('John.Smith+news@Example.COM')).toBe('john_smith@example.com');
  });

  it('dots and dashes become underscores only in the local part', () => {
    expect(normalizeUsername('a.b-c@my-host.example.com')).toBe('a_b_c@my-host.example.com');
    expect(normalizeUsername('a.b-c')).toBe('a_b_c');
  });

  it('the + label runs to the end of the local part', () => {
    expect(normalizeUsername('bob+x.y-z')).toBe('bob');
    expect(normalizeUsername('bob+tag@x.org')).toBe('bob@x.org');
    expect(normalizeUsername('bob+a+b@x.org')).toBe('bob@x.org');
    expect(normalizeUsername('b.o+b@x.org')).toBe('b_o@x.org');
    expect(normalizeUsername('bob@x+y.org')).toBe('bob@x+y.org'); // a + in the domain stays
  });

  it('drops all six ASCII white-space characters, keeps other bytes', () => {
    expect(normalizeUsername(' \tA\nB\vC\fD\rE ')).toBe('abcde');
    expect(normalizeUsername('\u00a0Ä')).toBe('\u00a0Ä'); // non-ASCII: neither trimmed nor case-folded
  });

  it('strips the system domain only when it matches exactly (ASCII case-insensitive)', () => {
    expect(normalizeUsername('stacie@lavabit.com', 'lavabit.com')).toBe('stacie');
    expect(normalizeUsername('stacie@LAVABIT.com', 'Lavabit.COM')).toBe('stacie');
    expect(normalizeUsername('stacie@mail.lavabit.com', 'lavabit.com')).toBe('stacie@mail.lavabit.com');
    expect(normalizeUsername('stacie@', 'lavabit.com')).toBe('stacie@');
    expect(normalizeUsername('a@b@lavabit.com', 'lavabit.com')).toBe('a@b@lavabit.com');
  });

  it('rejects names that are empty after normalization', () => {
    expect(codeOf(() => normalizeUsername(''))).toBe('BAD_PARAMETER');
    expect(codeOf(() => normalizeUsername(' \t '))).toBe('BAD_PARAMETER');
    expect(codeOf(() => normalizeUsername('+x'))).toBe('BAD_PARAMETER');
    expect(codeOf(() => normalizeUsername('+x@lavabit.com', 'lavabit.com'))).toBe('BAD_PARAMETER');
  });
});

describe('fakeSalt (stacie.md §7.2)', () => {
  const secret = utf8('server secret of at least some length');

  it('is HMAC-SHA512(secret, name ‖ 00) ‖ HMAC-SHA512(secret, name ‖ 01)', () => {
    const s = fakeSalt(secret, 'nobody');
    expect(s.length).toBe(128);
    const c = crypto();
    const want = concatBytes(
      c.hmacSha512(secret, utf8('nobody\u0000')),
      c.hmacSha512(secret, utf8('nobody\u0001')),
    );
    expect(toHex(s)).toBe(toHex(want));
    expect(toHex(fakeSalt(secret, utf8('nobody')))).toBe(toHex(want));
  });

  it('is stable per name and differs between names and secrets', () => {
    expect(toHex(fakeSalt(secret, 'a'))).toBe(toHex(fakeSalt(secret, 'a')));
    expect(toHex(fakeSalt(secret, 'a'))).not.toBe(toHex(fakeSalt(secret, 'b')));
    expect(toHex(fakeSalt(secret, 'a'))).not.toBe(toHex(fakeSalt(utf8('other'), 'a')));
  });

  it('needs a secret', () => {
    expect(codeOf(() => fakeSalt(new Uint8Array(0), 'a'))).toBe('BAD_PARAMETER');
  });
});

describe('verifyEphemeral / verifyPasswordKey (stacie.md §7)', () => {
  const c = caseById('magma-check-stacie-simple');
  const user = utf8(c.input.username);
  const salt = hex(c.input.salt_hex);
  const nonce = hex(c.input.nonce_hex ?? '');
  const verification = hex(c.expect.verification_token_hex);
  const ephemeral = hex(c.expect.ephemeral_token_hex ?? '');

  it('accepts the §9.1 ephemeral token', () => {
    expect(verifyEphemeral(verification, user, salt, nonce, ephemeral)).toBe(true);
  });

  it('refuses any other proof', () => {
    const wrong = ephemeral.slice();
    wrong[63] = (wrong[63] as number) ^ 1;
    expect(verifyEphemeral(verification, user, salt, nonce, wrong)).toBe(false);
    expect(verifyEphemeral(verification, user, salt, nonce, ephemeral.subarray(0, 63))).toBe(false);
    expect(verifyEphemeral(verification, user, salt, nonce, new Uint8Array(0))).toBe(false);
    expect(verifyEphemeral(verification, user, salt, nonce, verification)).toBe(false);
    const otherNonce = nonce.slice();
    otherNonce[0] = (otherNonce[0] as number) ^ 1;
    expect(verifyEphemeral(verification, user, salt, otherNonce, ephemeral)).toBe(false);
    expect(verifyEphemeral(verification, utf8('user@example.tle'), salt, nonce, ephemeral)).toBe(false);
  });

  it('bad stored values are BAD_PARAMETER', () => {
    expect(codeOf(() => verifyEphemeral(verification, user, salt, nonce.subarray(1), ephemeral))).toBe(
      'BAD_PARAMETER',
    );
    expect(codeOf(() => verifyEphemeral(verification.subarray(1), user, salt, nonce, ephemeral))).toBe(
      'BAD_PARAMETER',
    );
  });

  it('the password key proves the verification token (password change)', () => {
    const pwKey = hex(c.expect.password_key_hex);
    expect(toHex(deriveToken(pwKey, user, salt))).toBe(toHex(verification));
    expect(verifyPasswordKey(verification, user, salt, pwKey)).toBe(true);
    expect(verifyPasswordKey(verification, user, salt, hex(c.expect.master_key_hex))).toBe(false);
    expect(verifyPasswordKey(verification, user, salt, pwKey.subarray(1))).toBe(false);
  });
});

describe('modified base64 (stacie.md §1)', () => {
  const c = caseById('magma-data-sql-stacie');

  it('decodes the Data.sql salt (171 chars) and verification token (86 chars)', () => {
    const saltText = c.input.salt_modified_base64 ?? '';
    const tokenText = c.expect.verification_token_modified_base64 ?? '';
    expect(saltText.length).toBe(171);
    expect(tokenText.length).toBe(86);
    expect(toHex(decodeModifiedBase64(saltText, 128))).toBe(c.input.salt_hex);
    expect(toHex(decodeModifiedBase64(tokenText, 64))).toBe(c.expect.verification_token_hex);
    expect(encodeModifiedBase64(hex(c.input.salt_hex))).toBe(saltText);
    expect(encodeModifiedBase64(hex(c.expect.verification_token_hex))).toBe(tokenText);
  });

  it('encodes without padding in the URL-safe alphabet; accepts padded input', () => {
    const b = Uint8Array.of(0xfb, 0xff, 0xbf);
    expect(encodeModifiedBase64(b)).toBe('-_-_');
    expect(encodeModifiedBase64(Uint8Array.of(0xff))).toBe('_w');
    expect(toHex(decodeModifiedBase64('_w=='))).toBe('ff');
    expect(encodeModifiedBase64(new Uint8Array(64)).length).toBe(86);
  });

  it('rejects bad text and wrong sizes with BAD_INPUT', () => {
    expect(codeOf(() => decodeModifiedBase64('ab+/'))).toBe('BAD_INPUT');
    expect(codeOf(() => decodeModifiedBase64('a'))).toBe('BAD_INPUT');
    expect(codeOf(() => decodeModifiedBase64('_x'))).toBe('BAD_INPUT'); // non-canonical trailing bits
    expect(codeOf(() => decodeModifiedBase64('_w', 2))).toBe('BAD_INPUT');
  });
});
