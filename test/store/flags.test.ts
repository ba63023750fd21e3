import { describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import { parseLogin, stacieUsername } from '../../src/store/accounts/address.js';
import { applyFlags, decodeFlags, encodeFlags } from '../../src/store/flags.js';
import { exponentialBackoff, nextAttempt } from '../../src/store/queue-policy.js';

describe('stored flags', () => {
  it('keeps system flags as bits and keywords sorted, case-insensitively unique; drops \\Recent', () => {
    const f = encodeFlags(['\\SEEN', 'Zeta', '$Forwarded', 'zeta', '\\Recent', '\\deleted']);
    expect(f).toEqual({ bits: 1 | 8, keywords: '$Forwarded Zeta' });
    expect(decodeFlags(f.bits, f.keywords)).toEqual(['\\Seen', '\\Deleted', '$Forwarded', 'Zeta']);
    expect(decodeFlags(0, '')).toEqual([]);
  });

  it('applies STORE modes', () => {
    const cur = encodeFlags(['\\Seen', 'Work']);
    expect(
      decodeFlags(
        ...(Object.values(applyFlags(cur, 'add', ['\\Flagged', 'work', 'Home'])) as [number, string]),
      ),
    ).toEqual(['\\Seen', '\\Flagged', 'Home', 'Work']);
    expect(applyFlags(cur, 'remove', ['WORK', '\\Seen'])).toEqual({ bits: 0, keywords: '' });
    expect(applyFlags(cur, 'replace', ['\\Draft'])).toEqual({ bits: 16, keywords: '' });
  });

  it('refuses what is not a flag', () => {
    for (const bad of ['\\Unknown', 'two words', '', 'a(b', 'x'.repeat(129), 'nul\x00']) {
      expect(() => encodeFlags([bad])).toThrow(DimeError);
    }
  });
});

describe('queue policy', () => {
  it('doubles the delay up to the cap and gives up by attempts or age', () => {
    const p = exponentialBackoff({
      initialMs: 1000,
      factor: 2,
      maxMs: 5000,
      maxAttempts: 6,
      maxAgeMs: 60_000,
    });
    expect([1, 2, 3, 4, 5].map((a) => p.backoffMs(a))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(nextAttempt(p, { attempts: 1, createdAt: 0 }, 10)).toBe(1010);
    expect(nextAttempt(p, { attempts: 6, createdAt: 0 }, 10)).toBeNull();
    expect(nextAttempt(p, { attempts: 2, createdAt: 0 }, 58_500)).toBeNull();
    expect(() => exponentialBackoff({ initialMs: 0 })).toThrow(DimeError);
  });
});

describe('login names', () => {
  it('normalizes as magma does and names the STACIE username local@domain', () => {
    const a = parseLogin(' John.Smith+news@Example.COM ');
    expect(a).toEqual({ local: 'john_smith', domain: 'example.com' });
    expect(stacieUsername(a)).toBe('john_smith@example.com');
    expect(parseLogin('alice', 'Example.org')).toEqual({ local: 'alice', domain: 'example.org' });
    expect(() => parseLogin('alice')).toThrow(DimeError);
    expect(() => parseLogin('alice@bad_domain!')).toThrow(DimeError);
  });
});
