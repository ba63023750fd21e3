import { describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import { parseRecord, recordToJson } from '../../src/record/index.js';
import { b64, badRecordReason, bytesOf } from './helpers.js';

const POK = b64(bytesOf(32, 1));
const POK2 = b64(bytesOf(32, 2));
const TLS = b64(bytesOf(64, 3));
const parse = (text: string) => recordToJson(parseRecord([text]));
const reason = (text: string) => badRecordReason(() => parseRecord([text]));

describe('parseRecord: tokens and names', () => {
  it('defaults: version 1, experimental, strict, no tls/dx/syn/exp', () => {
    expect(parse(`pok=${POK}`)).toEqual({
      version: 1,
      pok: [Buffer.from(bytesOf(32, 1)).toString('hex')],
      tls: [],
      policy: 'experimental',
      syndicates: null,
      dx: [],
      exp: null,
      subdomain: 'strict',
    });
  });

  it('names are case-insensitive, long aliases accepted', () => {
    const r = parse(
      `VERSION=1 Primary=${POK} TLS=${TLS} POLICY=STRICT Syndicates=Syn.Example DELIVER=DX.Example EXPIRY=7 SUBDOMAIN=Explicit`,
    );
    expect(r).toMatchObject({
      policy: 'strict',
      syndicates: 'Syn.Example',
      dx: ['DX.Example'],
      exp: 7,
      subdomain: 'explicit',
    });
    expect(r.tls).toHaveLength(1);
  });

  it('only ASCII case folding (the Kelvin sign is not a k)', () => {
    expect(reason(`po\u212a=${POK}`)).toBe('missing_pok');
    expect(parse(`pok=${POK} dx=\u212a`).dx).toEqual(['\u212a']);
  });

  it('separators: spaces, tabs, semicolons, runs of them, at both ends', () => {
    expect(parse(` \t;pok=${POK};;\t \tdx=a ; dx=b;`).dx).toEqual(['a', 'b']);
  });

  it('other white space is not a separator', () => {
    expect(parse(`pok=${POK} dx=a\nb`).dx).toEqual(['a\nb']);
    expect(reason(`pok=${POK}\npol=strict`)).toBe('pok_length');
  });

  it('splits at the first "=" (values may contain "=")', () => {
    expect(parse(`pok=${POK} syn=a=b==`).syndicates).toBe('a=b==');
    expect(reason(`pok==${POK.slice(1)}`)).toBe('pok_length');
  });

  it('unknown names are ignored, with or without value', () => {
    expect(parse(`foo=bar pok=${POK} bare x= =y = pokx=1 verx=2`).pok).toHaveLength(1);
  });

  it('known name without "=" or with empty value is a syntax error', () => {
    for (const n of ['ver', 'pok', 'primary', 'tls', 'pol', 'syn', 'dx', 'exp', 'sub', 'Deliver']) {
      expect(reason(`pok=${POK} ${n}`)).toBe('syntax');
      expect(reason(`pok=${POK} ${n}=`)).toBe('syntax');
    }
  });

  it('pok, tls, dx accumulate in order; single-valued fields last wins', () => {
    const r = parse(`pok=${POK} dx=one pok=${POK2} syn=a syn=b ver=1 ver=01 dx=two exp=3 exp=4 tls=${TLS}`);
    expect(r.pok).toEqual([bytesOf(32, 1), bytesOf(32, 2)].map((b) => Buffer.from(b).toString('hex')));
    expect(r.dx).toEqual(['one', 'two']);
    expect(r.syndicates).toBe('b');
    expect(r.exp).toBe(4);
  });

  it('every occurrence of a single-valued field is validated, even when overridden later', () => {
    expect(reason(`pok=${POK} pol=lenient pol=strict`)).toBe('policy');
    expect(reason(`pok=${POK} sub=none sub=strict`)).toBe('subdomain');
    expect(reason(`pok=${POK} ver=2 ver=1`)).toBe('version');
    expect(reason(`pok=${POK} exp=0 exp=5`)).toBe('exp');
  });
});

describe('parseRecord: values', () => {
  it('version must be the decimal integer 1', () => {
    for (const v of ['0', '2', 'one', '1abc', '+1', '-1', '1.0', ' 1', '11', '１']) {
      expect(reason(`ver=${v} pok=${POK}`), v).toBe(v === ' 1' ? 'syntax' : 'version');
    }
    expect(parse(`ver=001 pok=${POK}`).version).toBe(1);
  });

  it('pok: exactly 43 characters of the standard alphabet', () => {
    expect(reason(`pok=${POK}=`)).toBe('pok_length');
    expect(reason(`pok=${POK.slice(0, 42)}`)).toBe('pok_length');
    expect(reason(`pok=${POK}A`)).toBe('pok_length');
    expect(reason(`pok=${POK.slice(0, 42)}-`)).toBe('pok_length');
    expect(reason(`pok=${POK.slice(0, 20)}_${POK.slice(21)}`)).toBe('pok_length');
    expect(reason(`pok=${b64(bytesOf(33, 1))}`)).toBe('pok_length');
    expect(reason(`pok=${TLS}`)).toBe('pok_length');
  });

  it('pok: unused low bits of the last character are ignored', () => {
    const last = POK.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const v = alphabet.indexOf(last);
    const sloppy = POK.slice(0, 42) + alphabet[v | 3];
    expect(parse(`pok=${sloppy}`).pok).toEqual(parse(`pok=${POK}`).pok);
  });

  it('tls: exactly 86 characters', () => {
    expect(reason(`pok=${POK} tls=${TLS}==`)).toBe('tls_length');
    expect(reason(`pok=${POK} tls=${TLS.slice(1)}`)).toBe('tls_length');
    expect(reason(`pok=${POK} tls=${TLS.slice(1)}!`)).toBe('tls_length');
    expect(reason(`pok=${POK} tls=${POK}`)).toBe('tls_length');
  });

  it('pol and sub enumerations are case-insensitive and closed', () => {
    for (const p of ['experimental', 'Mixed', 'STRICT'])
      expect(parse(`pok=${POK} pol=${p}`).policy).toBe(p.toLowerCase());
    for (const s of ['strict', 'Relaxed', 'EXPLICIT'])
      expect(parse(`pok=${POK} sub=${s}`).subdomain).toBe(s.toLowerCase());
    for (const p of ['lenient', 'strict,', 'experimental2', 'relaxed'])
      expect(reason(`pok=${POK} pol=${p}`)).toBe('policy');
    for (const s of ['inherit', 'relax', 'mixed']) expect(reason(`pok=${POK} sub=${s}`)).toBe('subdomain');
  });

  it('exp: integer days 1…3650', () => {
    expect(parse(`pok=${POK} exp=1`).exp).toBe(1);
    expect(parse(`pok=${POK} exp=3650`).exp).toBe(3650);
    expect(parse(`pok=${POK} exp=030`).exp).toBe(30);
    for (const e of ['0', '3651', '-1', 'abc', '1.5', '1e3', '0x10', '99999999999999999999']) {
      expect(reason(`pok=${POK} exp=${e}`), e).toBe('exp');
    }
  });

  it('dx and syn are kept exactly as written', () => {
    const r = parse(`pok=${POK} dx=Mail.Example.ORG. dx=[::1] syn=https://s.example/x?a=b`);
    expect(r.dx).toEqual(['Mail.Example.ORG.', '[::1]']);
    expect(r.syndicates).toBe('https://s.example/x?a=b');
  });
});

describe('parseRecord: limits', () => {
  it('at most 8 pok, 8 tls, 8 dx', () => {
    const poks = Array.from({ length: 8 }, (_, i) => `pok=${b64(bytesOf(32, i + 10))}`).join(' ');
    const tls = Array.from({ length: 8 }, (_, i) => `tls=${b64(bytesOf(64, i + 20))}`).join(' ');
    const dx = Array.from({ length: 8 }, (_, i) => `dx=h${i}`).join(' ');
    const ok = parse(`${poks} ${tls} ${dx}`);
    expect([ok.pok.length, ok.tls.length, ok.dx.length]).toEqual([8, 8, 8]);
    expect(reason(`${poks} pok=${POK}`)).toBe('too_many');
    expect(reason(`pok=${POK} ${tls} tls=${TLS}`)).toBe('too_many');
    expect(reason(`pok=${POK} ${dx} dx=x`)).toBe('too_many');
  });

  it('the joined text may have 4000 bytes, not 4001', () => {
    const base = `pok=${POK} x=`;
    const at = (n: number) => base + 'a'.repeat(n - base.length);
    expect(parse(at(4000)).pok).toHaveLength(1);
    expect(reason(at(4001))).toBe('too_long');
    // counted in UTF-8 bytes over the joined strings
    const wide = `${base}${'é'.repeat((4000 - base.length) / 2)}`;
    expect(Buffer.byteLength(wide)).toBe(4000);
    expect(parse(wide).pok).toHaveLength(1);
    expect(reason(`${wide}a`)).toBe('too_long');
    expect(badRecordReason(() => parseRecord([at(2000), 'a'.repeat(2001)]))).toBe('too_long');
    expect(reason(`${base}${'😀'.repeat(1000)}`)).toBe('too_long');
  });

  it('empty input has no pok', () => {
    expect(badRecordReason(() => parseRecord([]))).toBe('missing_pok');
    expect(badRecordReason(() => parseRecord(['']))).toBe('missing_pok');
    expect(reason(' ; \t ')).toBe('missing_pok');
  });

  it('a non-string input is BAD_INPUT', () => {
    expect(() => parseRecord([1 as unknown as string])).toThrow(DimeError);
    expect(() => parseRecord('pok=x' as unknown as string[])).toThrow(DimeError);
  });
});
