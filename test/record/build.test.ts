import { describe, expect, it } from 'vitest';
import { buildRecordText, parseRecord, type RecordContent, recordToJson } from '../../src/record/index.js';
import { b64, badRecordReason, bytesOf } from './helpers.js';

const pok = [bytesOf(32, 1), bytesOf(32, 2)];
const tls = [bytesOf(64, 3)];

describe('buildRecordText', () => {
  it('minimal record: ver, pok, pol, sub with defaults', () => {
    expect(buildRecordText({ pok: [pok[0]!] })).toBe(`ver=1 pok=${b64(pok[0]!)} pol=experimental sub=strict`);
  });

  it('fixed field order, single spaces, 43/86 base64 characters', () => {
    const text = buildRecordText({
      subdomain: 'relaxed',
      exp: 3650,
      dx: ['dx1.example.org', 'dx2.example.org'],
      syndicates: 'syn.example.org',
      policy: 'mixed',
      tls,
      pok,
    });
    expect(text).toBe(
      [
        'ver=1',
        `pok=${b64(pok[0]!)}`,
        `pok=${b64(pok[1]!)}`,
        `tls=${b64(tls[0]!)}`,
        'pol=mixed',
        'syn=syn.example.org',
        'dx=dx1.example.org',
        'dx=dx2.example.org',
        'exp=3650',
        'sub=relaxed',
      ].join(' '),
    );
    const words = text.split(' ');
    expect(words[1]!.length - 4).toBe(43);
    expect(words[3]!.length - 4).toBe(86);
    expect(text).not.toContain('=\u0020');
    expect(text).not.toMatch(/==/);
  });

  it('round trip: build → parse → build gives the same text and record', () => {
    const content: RecordContent = {
      pok,
      tls,
      policy: 'strict',
      syndicates: 'x=y',
      dx: ['a.example', 'b.example'],
      exp: 30,
      subdomain: 'explicit',
    };
    const text = buildRecordText(content);
    const parsed = parseRecord([text]);
    expect(recordToJson(parsed)).toEqual({
      version: 1,
      pok: pok.map((b) => Buffer.from(b).toString('hex')),
      tls: tls.map((b) => Buffer.from(b).toString('hex')),
      policy: 'strict',
      syndicates: 'x=y',
      dx: ['a.example', 'b.example'],
      exp: 30,
      subdomain: 'explicit',
    });
    expect(buildRecordText(parsed)).toBe(text);
  });

  it('rejects what the parser would reject, with the same reasons', () => {
    const r = (c: RecordContent) => badRecordReason(() => buildRecordText(c));
    expect(r({ pok: [] })).toBe('missing_pok');
    expect(r({ pok: [bytesOf(31, 1)] })).toBe('pok_length');
    expect(r({ pok, tls: [bytesOf(65, 1)] })).toBe('tls_length');
    expect(r({ pok: Array.from({ length: 9 }, (_, i) => bytesOf(32, i)) })).toBe('too_many');
    expect(r({ pok, tls: Array.from({ length: 9 }, (_, i) => bytesOf(64, i)) })).toBe('too_many');
    expect(r({ pok, dx: Array.from({ length: 9 }, (_, i) => `h${i}`) })).toBe('too_many');
    expect(r({ pok, policy: 'lenient' as never })).toBe('policy');
    expect(r({ pok, subdomain: 'inherit' as never })).toBe('subdomain');
    expect(r({ pok, version: 2 as never })).toBe('version');
    for (const exp of [0, -1, 3651, 1.5, Number.NaN]) expect(r({ pok, exp })).toBe('exp');
    for (const bad of ['', 'a b', 'a;b', 'a\tb']) {
      expect(r({ pok, dx: [bad] })).toBe('syntax');
      expect(r({ pok, syndicates: bad })).toBe('syntax');
    }
    expect(r({ pok, dx: ['x'.repeat(3800)], syndicates: 'y'.repeat(100) })).toBe('too_long');
  });

  it('the largest lists still fit in 4000 bytes', () => {
    const text = buildRecordText({
      pok: Array.from({ length: 8 }, (_, i) => bytesOf(32, i)),
      tls: Array.from({ length: 8 }, (_, i) => bytesOf(64, i)),
      dx: Array.from({ length: 8 }, (_, i) => `dx${i}.${'a'.repeat(200)}.example`),
      syndicates: 's'.repeat(200),
      exp: 3650,
    });
    expect(text.length).toBeLessThanOrEqual(4000);
    expect(parseRecord([text]).tls).toHaveLength(8);
  });
});
