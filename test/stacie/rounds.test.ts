import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/encoding/bytes.js';
import { DimeError } from '../../src/errors/index.js';
import { deriveRounds, passwordCharacterCount } from '../../src/stacie/index.js';
import { hex, roundsCases } from './vectors.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DimeError) return e.code;
    throw e;
  }
  throw new Error('expected a DimeError');
}

describe('stacie.json rounds_cases (magma check_stacie_rounds)', () => {
  it('has the 19 cases', () => expect(roundsCases.length).toBe(19));

  for (const c of roundsCases) {
    const name = `${c.password_utf8 === null ? `hex ${c.password_hex}` : JSON.stringify(c.password_utf8)} bonus ${c.bonus}`;
    it(`${name} → ${c.rounds === 0 ? 'error' : c.rounds}`, () => {
      const pw = hex(c.password_hex);
      expect(passwordCharacterCount(pw)).toBe(c.characters);
      if (c.rounds === 0) expect(codeOf(() => deriveRounds(pw, c.bonus))).toBe('BAD_PASSWORD');
      else expect(deriveRounds(pw, c.bonus)).toBe(c.rounds);
    });
  }
});

describe('stacie.md §3 examples', () => {
  it('follows the table', () => {
    expect(deriveRounds(utf8('A'), 0)).toBe(8_388_608);
    expect(deriveRounds(utf8('password'), 0)).toBe(65_536);
    expect(deriveRounds(utf8('SiliconSally'), 0)).toBe(4_096);
    expect(deriveRounds(utf8('SiliconSally'), 128)).toBe(4_224);
    expect(deriveRounds(utf8('a'.repeat(23)), 0)).toBe(8);
    expect(deriveRounds(utf8('a'.repeat(23)), 8)).toBe(10);
    expect(deriveRounds(utf8('a'.repeat(22)), 0)).toBe(8); // 2^2 = 4 → 8
    expect(deriveRounds(utf8('a'.repeat(21)), 0)).toBe(8); // 2^3
    expect(deriveRounds(utf8('a'.repeat(20)), 0)).toBe(16);
    expect(deriveRounds(utf8('A'), 0xffffffff)).toBe(16_777_216);
  });
});

describe('passwordCharacterCount', () => {
  it('counts code points, not bytes or UTF-16 units', () => {
    expect(passwordCharacterCount(utf8('pässwörd'))).toBe(8);
    expect(passwordCharacterCount(utf8('😀😀'))).toBe(2); // astral: 4 bytes, 2 UTF-16 units each
    expect(passwordCharacterCount(utf8('\u0000x'))).toBe(2);
  });

  it('skips default-ignorable code points anywhere', () => {
    for (const ig of ['\ufeff', '\u200b', '\u200c', '\u200d', '\u00ad', '\u2060', '\u{e0001}']) {
      expect(passwordCharacterCount(utf8(`ab${ig}cd${ig}`))).toBe(4);
    }
    expect(passwordCharacterCount(hex('efbbbfefbbbf41'))).toBe(1); // two BOMs are both skipped
  });

  it('returns 0 for empty, ignorable-only or invalid UTF-8 passwords', () => {
    expect(passwordCharacterCount(new Uint8Array(0))).toBe(0);
    expect(passwordCharacterCount(utf8('\ufeff\u200b'))).toBe(0);
    for (const bad of ['c380c3', 'ff', 'c0af', 'eda080', 'f4908080', '80', 'e282']) {
      expect(passwordCharacterCount(hex(bad))).toBe(0);
    }
  });
});

describe('deriveRounds errors', () => {
  it('BAD_PASSWORD for empty, ignorable-only and invalid passwords', () => {
    expect(codeOf(() => deriveRounds(new Uint8Array(0), 0))).toBe('BAD_PASSWORD');
    expect(codeOf(() => deriveRounds(utf8('\u200b'), 0))).toBe('BAD_PASSWORD');
    expect(codeOf(() => deriveRounds(hex('c380c3'), 0))).toBe('BAD_PASSWORD');
  });

  it('BAD_PARAMETER for a bonus that is not a u32', () => {
    for (const b of [-1, 0.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(codeOf(() => deriveRounds(utf8('password'), b))).toBe('BAD_PARAMETER');
    }
  });
});
