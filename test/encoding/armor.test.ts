import { describe, expect, it } from 'vitest';
import { armor, checkLabelType, dearmor } from '../../src/encoding/armor.js';
import { crc24 } from '../../src/encoding/crc24.js';
import { DimeError } from '../../src/errors/index.js';
import { loadCases, loadJson, toHexStr } from '../helpers/vectors.js';

describe('CRC-24', () => {
  it('check value of "123456789" is 0x21CF02', () => {
    expect(crc24(new TextEncoder().encode('123456789'))).toBe(0x21cf02);
  });
});

describe('armor vectors', () => {
  for (const c of loadCases('objects/silver-armor.json')) {
    it(c.id, () => {
      const run = () => {
        const d = dearmor(c.input.armored);
        checkLabelType(d.label, d.binary);
        return d;
      };
      if (c.expect.valid) {
        const d = run();
        expect(toHexStr(d.binary)).toBe(c.expect.hex);
        if (c.expect.label) expect(d.label).toBe(c.expect.label);
      } else {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(DimeError);
        expect((err as DimeError).code).toBe(c.expect.error);
      }
    });
  }

  it('our writer reproduces the sandbox files plus a final newline', () => {
    for (const f of ['spec-examples/sandbox-org-signet.json', 'spec-examples/sandbox-org-key.json']) {
      const v = loadJson(f);
      const text: string = v.armored_file_text;
      const d = dearmor(text);
      expect(toHexStr(d.binary)).toBe(v.hex);
      expect(armor(d.label, d.binary)).toBe(v.armored_canonical);
      expect(v.armored_canonical).toBe(`${text}\n`);
    }
  });
});
