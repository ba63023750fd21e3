import { describe, expect, it } from 'vitest';
import { dearmor } from '../../src/encoding/armor.js';
import { DimeError } from '../../src/errors/index.js';
import {
  allFingerprints,
  fieldsUpTo,
  parseSignet,
  type Signet,
  type SignetKind,
  verifySignet,
} from '../../src/signet/index.js';
import { hex, loadCases, toHexStr, type VectorCase } from '../helpers/vectors.js';

const KIND: Record<string, SignetKind> = { org_signet: 'org', user_signet: 'user', ssr: 'ssr' };
const TYPE_KIND: Record<number, SignetKind> = { 1776: 'org', 1789: 'user', 1215: 'ssr' };

const files = [
  'objects/gold.json',
  'objects/silver-org_signet.json',
  'objects/silver-user_signet.json',
  'objects/silver-ssr.json',
];
const all: VectorCase[] = files.flatMap((f) => loadCases(f));
const byId = new Map(all.map((c) => [c.id as string, c]));
const signetCases = all.filter((c) => c.kind in KIND);

function bytesOf(c: VectorCase): Uint8Array {
  return hex(c.input.hex);
}

function contextFor(c: VectorCase) {
  const opts: { org?: Signet; previous?: Signet } = {};
  if (c.org_signet_case) opts.org = parseSignet(bytesOf(byId.get(c.org_signet_case)!));
  if (c.previous_signet_case) opts.previous = parseSignet(bytesOf(byId.get(c.previous_signet_case)!));
  return opts;
}

function check(c: VectorCase): Signet {
  const expected = c.input.expected_type ? [TYPE_KIND[c.input.expected_type]!] : undefined;
  const s = parseSignet(bytesOf(c), expected);
  verifySignet(s, contextFor(c));
  return s;
}

describe('signet vectors (objects/)', () => {
  for (const c of signetCases) {
    if (c.expect.valid) {
      it(`${c.id} parses, verifies, re-encodes`, () => {
        const s = check(c);
        expect(s.kind).toBe(KIND[c.kind]);
        expect(s.type).toBe(c.expect.type);
        if (c.expect.fields) {
          expect(s.fields.map((f) => f.id)).toEqual(c.expect.fields.map((f: VectorCase) => f.id));
          s.fields.forEach((f, i) => {
            const want = c.expect.fields[i];
            expect(toHexStr(f.raw)).toBe(want.serialized_hex);
            expect(toHexStr(f.data)).toBe(want.hex);
          });
        }
        const fps = allFingerprints(s);
        for (const k of ['ssr', 'crypto', 'full', 'id'] as const) {
          expect(fps[k]).toEqual(c.expect.fingerprints[k]);
        }
        if (c.expect.fingerprints.prime) expect(fps.crypto).toEqual(c.expect.fingerprints.prime);
        for (const [fid, bytes] of Object.entries(c.expect.signed_bytes ?? {})) {
          expect(toHexStr(fieldsUpTo(s, Number(fid) - 1))).toBe(bytes);
        }
        // every signature verified: with the org context nothing stays unchecked
        const r = verifySignet(s, contextFor(c));
        if (s.kind !== 'user' || c.org_signet_case) {
          expect(Object.values(r.signatures).filter((v) => v !== 'valid' && v !== 'unchecked')).toEqual([]);
        }
        if (c.input.armored) {
          const d = dearmor(c.input.armored);
          expect(toHexStr(d.binary)).toBe(c.input.hex);
        }
      });
    } else {
      it(`${c.id} fails with ${c.expect.error}`, () => {
        let err: unknown;
        try {
          check(c);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(DimeError);
        expect((err as DimeError).code).toBe(c.expect.error);
      });
    }
  }
});
