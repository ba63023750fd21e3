import { describe, expect, it } from 'vitest';
import { parseRecord, recordToJson } from '../../src/record/index.js';
import { loadCases, loadJson } from '../helpers/vectors.js';
import { badRecordReason } from './helpers.js';

const file = 'objects/silver-record.json';
const cases = loadCases(file);
const VOCABULARY = ['version', 'missing_pok', 'pok_length', 'tls_length', 'policy', 'subdomain', 'exp'];
VOCABULARY.push('syntax', 'too_long', 'too_many');

describe('silver-record vectors', () => {
  it('the file announces the reason vocabulary we implement', () => {
    const head = loadJson(file);
    for (const r of VOCABULARY) expect(head.error).toContain(r);
    expect(cases.length).toBeGreaterThanOrEqual(21);
  });

  for (const c of cases) {
    it(`${c.id}: ${c.expect.valid ? 'valid' : c.expect.reason}`, () => {
      const strings = c.input.txt_strings as string[];
      if (c.expect.valid) {
        expect(recordToJson(parseRecord(strings))).toEqual(c.expect.record);
      } else {
        expect(c.expect.error).toBe('BAD_RECORD');
        expect(VOCABULARY).toContain(c.expect.reason);
        expect(badRecordReason(() => parseRecord(strings))).toBe(c.expect.reason);
      }
    });
  }
});
