import { describe, expect, it } from 'vitest';
import { buildRecordText, parseRecord, recordToJson, zoneLine, zoneStrings } from '../../src/record/index.js';
import { bytesOf } from './helpers.js';

/** Reads back the quoted character-strings of a zone-file TXT RDATA (RFC 1035 §5.1 escapes). */
function unquoteZone(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  let rest = line;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    rest = rest.replace(m[0], '');
    const bytes: number[] = [];
    const s = m[1]!;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\\') {
        if (/^[0-9]{3}$/.test(s.slice(i + 1, i + 4))) {
          bytes.push(Number(s.slice(i + 1, i + 4)));
          i += 3;
        } else bytes.push(s.charCodeAt(++i));
      } else bytes.push(s.charCodeAt(i));
    }
    out.push(Buffer.from(bytes).toString('utf8'));
  }
  expect(rest.trim().replace(/ +/g, '')).toBe('');
  return out;
}

const LONG = buildRecordText({
  pok: Array.from({ length: 4 }, (_, i) => bytesOf(32, i)),
  tls: Array.from({ length: 3 }, (_, i) => bytesOf(64, i)),
  dx: ['dx1.example.org', 'dx2.example.org'],
  exp: 7,
});

describe('zone-file output', () => {
  it('a record over 255 bytes splits into ≤255-byte strings that rejoin identically', () => {
    expect(LONG.length).toBeGreaterThan(510);
    const parts = zoneStrings(LONG);
    expect(parts.length).toBe(Math.ceil(LONG.length / 255));
    for (const p of parts.slice(0, -1)) expect(p.length).toBe(255);
    expect(parts.join('')).toBe(LONG);
    expect(recordToJson(parseRecord(parts))).toEqual(recordToJson(parseRecord([LONG])));
  });

  it('short text is one string; empty text one empty string; 255/256 boundary', () => {
    expect(zoneStrings('abc')).toEqual(['abc']);
    expect(zoneStrings('')).toEqual(['']);
    expect(zoneStrings('a'.repeat(255))).toEqual(['a'.repeat(255)]);
    expect(zoneStrings('a'.repeat(256))).toEqual(['a'.repeat(255), 'a']);
  });

  it('zoneLine quotes each string, one space between, and reads back', () => {
    const line = zoneLine(LONG);
    expect(line.startsWith('"ver=1 pok=')).toBe(true);
    expect(line.split('" "')).toHaveLength(zoneStrings(LONG).length);
    expect(unquoteZone(line)).toEqual(zoneStrings(LONG));
  });

  it('escapes quote, backslash and non-printable bytes', () => {
    expect(zoneLine('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(zoneLine('t\tn\u0000')).toBe('"t\\009n\\000"');
    expect(zoneLine('é')).toBe('"\\195\\169"');
    const text = `syn="x\\y" ${'é'.repeat(200)}`;
    expect(unquoteZone(zoneLine(text)).join('')).toBe(text);
  });

  it('multi-byte characters are never cut, strings stay within 255 bytes', () => {
    const text = `a${'€'.repeat(200)}${'😀'.repeat(100)}`;
    const parts = zoneStrings(text);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(255);
    expect(Buffer.byteLength(parts[0]!)).toBe(253);
    expect(parts.join('')).toBe(text);
  });
});
