import { describe, expect, it } from 'vitest';
import { DimeError } from '../../src/errors/index.js';
import { buildRecordText, chooseRecord, recordToJson } from '../../src/record/index.js';
import { badRecordReason, bytesOf } from './helpers.js';

const A = buildRecordText({ pok: [bytesOf(32, 1)], dx: ['dx.example.org'] });
const B = buildRecordText({ pok: [bytesOf(32, 2)] });
const BAD = 'ver=2 pok=nope';
const SPF = 'v=spf1 -all';

describe('chooseRecord (several TXT RRs at _dx.<domain>)', () => {
  it('one valid RR among failures is used', () => {
    expect(recordToJson(chooseRecord([[SPF], [BAD], [A]]))).toEqual(recordToJson(chooseRecord([[A]])));
  });

  it('RRs split differently but equal after parsing are not ambiguous', () => {
    const r = chooseRecord([
      [A],
      [A.slice(0, 30), A.slice(30)],
      [A.replace('pol=', 'POLICY=').replace(/ /g, ';')],
    ]);
    expect(r.dx).toEqual(['dx.example.org']);
  });

  it('dx host names compare case-insensitively', () => {
    const upper = A.replace('dx.example.org', 'DX.Example.ORG');
    expect(chooseRecord([[A], [upper]]).dx).toEqual(['dx.example.org']);
  });

  it('different valid RRs are ambiguous', () => {
    expect(badRecordReason(() => chooseRecord([[A], [B]]))).toBe('ambiguous');
    expect(badRecordReason(() => chooseRecord([[A], [`${A} exp=5`]]))).toBe('ambiguous');
  });

  it('no valid RR is missing, with the failures in the context', () => {
    expect(badRecordReason(() => chooseRecord([]))).toBe('missing');
    let err: unknown;
    try {
      chooseRecord([[BAD], [SPF], [1 as unknown as string]]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DimeError);
    expect((err as DimeError).context).toMatchObject({
      reason: 'missing',
      failures: ['version', 'missing_pok', 'BAD_INPUT'],
    });
  });
});
