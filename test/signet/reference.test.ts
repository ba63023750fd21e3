import { describe, expect, it } from 'vitest';
import { decodeObjectInput } from '../../src/encoding/input.js';
import { DimeError } from '../../src/errors/index.js';
import { loadKeys } from '../../src/keys/index.js';
import {
  allFingerprints,
  parseSignet,
  type Signet,
  signetId,
  splitSignet,
  verifySignet,
} from '../../src/signet/index.js';
import { hex, loadCases, toHexStr, type VectorCase } from '../helpers/vectors.js';

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const STAGE: Record<number, string> = { 6: 'ssr', 7: 'crypto', 8: 'full', 9: 'id' };

function verifyCase(c: VectorCase, s: Signet) {
  if (s.kind === 'org') return verifySignet(s, { pok: c.keys.pok_hex.map(hex) });
  if (s.kind === 'user') {
    const org = parseSignet(decodeObjectInput(enc(c.keys.org_signet_armored)).binary, ['org']);
    return verifySignet(s, { org });
  }
  return verifySignet(s);
}

describe('libdime-made signets (vectors/reference)', () => {
  const cases = [
    ...loadCases('reference/libdime-org-signet.json'),
    ...loadCases('reference/libdime-user-signet.json'),
    ...loadCases('reference/libdime-ssr.json'),
  ];
  for (const c of cases) {
    for (const form of ['hex', 'armored', 'b64'] as const) {
      it(`${c.id} (${form})`, () => {
        const raw = form === 'hex' ? hex(c.input.hex) : enc(c.input[form]);
        const input = decodeObjectInput(raw);
        expect(input.form).toBe(form === 'hex' ? 'binary' : form === 'armored' ? 'armored' : 'base64');
        expect(toHexStr(input.binary)).toBe(c.input.hex);
        if (!c.expect.valid) {
          // unsigned SSR: libdime says "incomplete"
          expect(() => verifyCase(c, parseSignet(input.binary))).toThrow(DimeError);
          return;
        }
        const s = parseSignet(input.binary);
        expect(s.form).toBe('libdime');
        const r = verifyCase(c, s);
        expect(r.complete).toBe(true);
        expect(r.stage).toBe(STAGE[c.expect.state_enum]);
        const fps = allFingerprints(s);
        for (const k of ['ssr', 'crypto', 'full', 'id'] as const) {
          expect(fps[k]?.b64 ?? null).toBe(c.expect.fingerprints[k]);
        }
        expect(signetId(s)).toBe(c.expect.fields.id);
        // byte-exact: the fields re-serialize to the same object
        expect(toHexStr(s.bytes)).toBe(c.input.hex);
      });
    }
  }

  it('splits of the ID signets equal libdime’s splits', () => {
    const users = loadCases('reference/libdime-user-signet.json');
    for (const who of ['userA', 'userB']) {
      const id = parseSignet(hex(users.find((c) => c.id === `pub-${who}-id`)!.input.hex));
      const full = users.find((c) => c.id === `pub-${who}-id-fullsplit`)!;
      const cr = users.find((c) => c.id === `pub-${who}-id-cryptosplit`)!;
      expect(toHexStr(splitSignet(id, 'full').bytes)).toBe(full.input.hex);
      expect(toHexStr(splitSignet(id, 'crypto').bytes)).toBe(cr.input.hex);
    }
  });

  it('org signet without the pinned POK is refused (POK_MISMATCH)', () => {
    const c = loadCases('reference/libdime-org-signet.json')[0]!;
    const s = parseSignet(hex(c.input.hex));
    expect(() => verifySignet(s, { pok: [new Uint8Array(32).fill(7)] })).toThrow(
      expect.objectContaining({ code: 'POK_MISMATCH' }),
    );
  });
});

describe('libdime key files (vectors/reference)', () => {
  const cases = [
    ...loadCases('reference/libdime-org-key.json'),
    ...loadCases('reference/libdime-user-key.json'),
  ];
  for (const c of cases) {
    it(c.id, () => {
      const { keys, container } = loadKeys(enc(c.input.armored));
      expect(container).toBe('plain');
      expect(keys.form).toBe('libdime');
      expect(toHexStr(keys.signingSeed)).toBe(c.expect.fields.sign_private_hex);
      expect(toHexStr(keys.signingPublic)).toBe(c.expect.fields.sign_public_hex);
      expect(toHexStr(keys.encryptionPrivate)).toBe(c.expect.fields.enc_private_hex);
      expect(toHexStr(keys.encryptionPublic)).toBe(c.expect.fields.enc_public_compressed_hex);
      const signet = parseSignet(decodeObjectInput(enc(c.expect.matches_signet)).binary);
      expect(toHexStr(signet.signingKey)).toBe(toHexStr(keys.signingPublic));
      expect(toHexStr(signet.encryptionKey)).toBe(toHexStr(keys.encryptionPublic));
    });
  }
});

describe('libdime negative signets', () => {
  for (const c of loadCases('reference/libdime-signet-negative.json')) {
    it(`${c.id} is refused`, () => {
      const run = () => {
        const s = parseSignet(hex(c.input.hex));
        if (s.kind === 'org') return verifySignet(s, { pok: c.keys.pok_hex.map(hex) });
        const org = parseSignet(decodeObjectInput(enc(c.keys.org_signet_armored)).binary, ['org']);
        return verifySignet(s, { org });
      };
      expect(run).toThrow(DimeError);
    });
  }
  for (const c of loadCases('reference/libdime-armor-negative.json')) {
    it(`${c.id} ${c.expect.valid ? 'is accepted' : 'is refused'}`, () => {
      const run = () => {
        const input = decodeObjectInput(enc(c.input.armored));
        if (input.label?.endsWith('KEY')) return loadKeys(enc(c.input.armored));
        const s = parseSignet(input.binary);
        const org = parseSignet(decodeObjectInput(enc(c.keys.org_signet_armored)).binary, ['org']);
        return verifySignet(s, { org });
      };
      if (c.expect.valid) expect(run).not.toThrow();
      else expect(run).toThrow(DimeError);
    });
  }
});
