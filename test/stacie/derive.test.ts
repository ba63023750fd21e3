import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/encoding/bytes.js';
import { toHex } from '../../src/encoding/hex.js';
import { DimeError } from '../../src/errors/index.js';
import {
  deriveEphemeralToken,
  deriveKey,
  deriveMasterKey,
  derivePasswordKey,
  deriveRounds,
  deriveSeed,
  deriveToken,
  deriveVerificationToken,
  stacieDerive,
} from '../../src/stacie/index.js';
import { caseById, derivationCases, hex } from './vectors.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DimeError) return e.code;
    throw e;
  }
  throw new Error('expected a DimeError');
}

describe('stacie.json derivation cases, step by step', () => {
  it('has both derivation cases', () => {
    expect(derivationCases.map((c) => c.id).sort()).toEqual([
      'magma-check-stacie-simple',
      'magma-data-sql-stacie',
    ]);
  });

  for (const c of derivationCases) {
    it(`${c.id}: rounds, seed, master key, password key, tokens`, () => {
      const username = utf8(c.input.username);
      const password = utf8(c.input.password);
      if (c.input.username_hex) expect(toHex(username)).toBe(c.input.username_hex);
      if (c.input.password_hex) expect(toHex(password)).toBe(c.input.password_hex);
      const salt = hex(c.input.salt_hex);

      const rounds = deriveRounds(password, c.input.bonus);
      expect(rounds).toBe(c.expect.rounds);
      const seed = deriveSeed(password, salt, rounds);
      expect(toHex(seed)).toBe(c.expect.seed_hex);
      const master = deriveMasterKey(seed, rounds, username, password, salt);
      expect(toHex(master)).toBe(c.expect.master_key_hex);
      expect(toHex(deriveKey(seed, rounds, username, password, salt))).toBe(c.expect.master_key_hex);
      const pwKey = derivePasswordKey(master, rounds, username, password, salt);
      expect(toHex(pwKey)).toBe(c.expect.password_key_hex);
      const verification = deriveVerificationToken(pwKey, username, salt);
      expect(toHex(verification)).toBe(c.expect.verification_token_hex);
      expect(toHex(deriveToken(pwKey, username, salt))).toBe(c.expect.verification_token_hex);
      if (c.input.nonce_hex && c.expect.ephemeral_token_hex) {
        const nonce = hex(c.input.nonce_hex);
        expect(toHex(deriveEphemeralToken(verification, username, salt, nonce))).toBe(
          c.expect.ephemeral_token_hex,
        );
        expect(toHex(deriveToken(verification, username, salt, nonce))).toBe(c.expect.ephemeral_token_hex);
      }
    });

    it(`${c.id}: stacieDerive`, () => {
      const nonce = c.input.nonce_hex ? hex(c.input.nonce_hex) : undefined;
      const v = stacieDerive({
        username: c.input.username,
        password: utf8(c.input.password),
        salt: hex(c.input.salt_hex),
        bonus: c.input.bonus,
        ...(nonce ? { nonce } : {}),
      });
      expect(v.rounds).toBe(c.expect.rounds);
      expect(toHex(v.seed)).toBe(c.expect.seed_hex);
      expect(toHex(v.masterKey)).toBe(c.expect.master_key_hex);
      expect(toHex(v.passwordKey)).toBe(c.expect.password_key_hex);
      expect(toHex(v.verification)).toBe(c.expect.verification_token_hex);
      if (nonce) expect(toHex(v.ephemeral ?? new Uint8Array(0))).toBe(c.expect.ephemeral_token_hex);
      else expect(v.ephemeral).toBeUndefined();
    });
  }
});

describe('stacie.md §9.2 sample account "stacie" (65 536 rounds)', () => {
  it('matches the stored verification token and is fast', () => {
    const c = caseById('magma-data-sql-stacie');
    const t0 = performance.now();
    const v = stacieDerive({
      username: 'stacie',
      password: 'password',
      salt: hex(c.input.salt_hex),
      bonus: 0,
    });
    const ms = performance.now() - t0;
    expect(v.rounds).toBe(65_536);
    expect(toHex(v.verification)).toBe(c.expect.verification_token_hex);
    // ~0.25 s on the development machine; the bound only catches an accidental per-round slowdown.
    expect(ms).toBeLessThan(3000);
  });
});

describe('determinism and sensitivity (magma check_stacie_determinism)', () => {
  const c = caseById('magma-check-stacie-simple');
  const salt = hex(c.input.salt_hex);
  const base = hex(c.expect.seed_hex);
  const user = utf8(c.input.username);
  const pw = utf8(c.input.password);

  it('same inputs give the same key; any change gives another', () => {
    const k = toHex(deriveKey(base, 16, user, pw, salt));
    expect(toHex(deriveKey(base, 16, user, pw, salt))).toBe(k);
    const salt2 = salt.slice();
    salt2[127] = (salt2[127] as number) ^ 1;
    const base2 = base.slice();
    base2[0] = (base2[0] as number) ^ 1;
    const others = [
      deriveKey(base, 17, user, pw, salt),
      deriveKey(base2, 16, user, pw, salt),
      deriveKey(base, 16, utf8('user@example.tle'), pw, salt),
      deriveKey(base, 16, user, utf8('SiliconSallz'), salt),
      deriveKey(base, 16, user, pw, salt2),
    ].map(toHex);
    expect(new Set([k, ...others]).size).toBe(6);
  });

  it('moving bytes between username and password changes the key (no length prefixes, but order)', () => {
    expect(toHex(deriveKey(base, 8, utf8('ab'), utf8('cd'), salt))).not.toBe(
      toHex(deriveKey(base, 8, utf8('cd'), utf8('ab'), salt)),
    );
  });

  it('the ephemeral token depends on the nonce', () => {
    const ver = hex(c.expect.verification_token_hex);
    const n1 = new Uint8Array(128);
    const n2 = new Uint8Array(128).fill(1);
    expect(toHex(deriveToken(ver, user, salt, n1))).not.toBe(toHex(deriveToken(ver, user, salt, n2)));
    expect(toHex(deriveToken(ver, user, salt, n1))).not.toBe(toHex(deriveToken(ver, user, salt)));
  });
});

describe('parameter checks (magma check_stacie_parameters)', () => {
  const salt = new Uint8Array(128).fill(7);
  const base = new Uint8Array(64).fill(3);
  const user = utf8('user');
  const pw = utf8('password');

  it('salt must be exactly 128 bytes', () => {
    for (const n of [0, 64, 127, 129, 256]) {
      const s = new Uint8Array(n);
      expect(codeOf(() => deriveSeed(pw, s, 8))).toBe('BAD_PARAMETER');
      expect(codeOf(() => deriveKey(base, 8, user, pw, s))).toBe('BAD_PARAMETER');
      expect(codeOf(() => deriveToken(base, user, s))).toBe('BAD_PARAMETER');
      expect(codeOf(() => stacieDerive({ username: user, password: pw, salt: s, bonus: 0 }))).toBe(
        'BAD_PARAMETER',
      );
    }
  });

  it('base must be exactly 64 bytes', () => {
    for (const n of [0, 32, 63, 65, 128]) {
      const b = new Uint8Array(n);
      expect(codeOf(() => deriveKey(b, 8, user, pw, salt))).toBe('BAD_PARAMETER');
      expect(codeOf(() => deriveToken(b, user, salt))).toBe('BAD_PARAMETER');
      expect(codeOf(() => deriveMasterKey(b, 8, user, pw, salt))).toBe('BAD_PARAMETER');
      expect(codeOf(() => derivePasswordKey(b, 8, user, pw, salt))).toBe('BAD_PARAMETER');
      expect(codeOf(() => deriveVerificationToken(b, user, salt))).toBe('BAD_PARAMETER');
    }
  });

  it('nonce, when given, must be exactly 128 bytes', () => {
    for (const n of [0, 64, 127, 129]) {
      const nonce = new Uint8Array(n);
      expect(codeOf(() => deriveToken(base, user, salt, nonce))).toBe('BAD_PARAMETER');
      expect(codeOf(() => deriveEphemeralToken(base, user, salt, nonce))).toBe('BAD_PARAMETER');
      expect(codeOf(() => stacieDerive({ username: user, password: pw, salt, bonus: 0, nonce }))).toBe(
        'BAD_PARAMETER',
      );
    }
  });

  it('username must not be empty; password must not be empty', () => {
    const empty = new Uint8Array(0);
    expect(codeOf(() => deriveKey(base, 8, empty, pw, salt))).toBe('BAD_PARAMETER');
    expect(codeOf(() => deriveToken(base, empty, salt))).toBe('BAD_PARAMETER');
    expect(codeOf(() => stacieDerive({ username: '', password: pw, salt, bonus: 0 }))).toBe('BAD_PARAMETER');
    expect(codeOf(() => deriveKey(base, 8, user, empty, salt))).toBe('BAD_PASSWORD');
    expect(codeOf(() => deriveSeed(empty, salt, 8))).toBe('BAD_PASSWORD');
    expect(codeOf(() => stacieDerive({ username: user, password: '', salt, bonus: 0 }))).toBe('BAD_PASSWORD');
    expect(codeOf(() => stacieDerive({ username: user, password: hex('c380c3'), salt, bonus: 0 }))).toBe(
      'BAD_PASSWORD',
    );
  });

  it('rounds must be an integer in 8 … 2^24', () => {
    for (const r of [0, 1, 7, 2 ** 24 + 1, 8.5, Number.NaN, -8]) {
      expect(codeOf(() => deriveSeed(pw, salt, r))).toBe('BAD_PARAMETER');
      expect(codeOf(() => deriveKey(base, r, user, pw, salt))).toBe('BAD_PARAMETER');
    }
  });

  it('errors have clear messages', () => {
    try {
      deriveSeed(pw, new Uint8Array(64), 8);
      throw new Error('unreachable');
    } catch (e) {
      expect((e as DimeError).message).toBe('STACIE salt must be exactly 128 bytes, got 64');
    }
  });
});
