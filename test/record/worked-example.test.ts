import { describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { bytesEqual } from '../../src/encoding/bytes.js';
import {
  buildRecordText,
  parseRecord,
  recordToJson,
  verifyTlsBindingDigest,
  zoneLine,
  zoneStrings,
} from '../../src/record/index.js';
import { hex, loadCases, loadJson, toHexStr } from '../helpers/vectors.js';
import { badRecordReason } from './helpers.js';

// record.md §9
const key = loadJson('spec-examples/sandbox-org-key.json');
const seed = hex(key.fields.find((f: { id: number }) => f.id === 1).hex);
const sandbox = loadCases('objects/silver-record.json').find((c) => c.id === 'recA-sandbox')!;
const certSha512 = hex(sandbox.cert_sha512_hex);
const TEXT =
  'ver=1 pok=h44kA4AXy2gFnlF+osucG2t4SOBeu8CA3WWxo6RLfIA tls=ooYv26aWxb9ik4jScV/sFZyJ9l70YSHToSwChtY+0twZJiDopBnXUwY/B9wAvXwwUQc5b85ry+rB681oc9ydCg pol=experimental dx=localhost.localdomain exp=30 sub=strict';
const ZONE = `_dx.localhost.localdomain. 3600 IN TXT "${TEXT}"`;
const POK_HEX = '878e24038017cb68059e517ea2cb9c1b6b7848e05ebbc080dd65b1a3a44b7c80';
const TLS_HEX =
  'a2862fdba696c5bf629388d2715fec159c89f65ef46121d3a12c0286d63ed2dc192620e8a419d753063f07dc00bd7c305107396fce6bcbeac1ebcd6873dc9d0a';

describe('record.md §9 worked example (magma sandbox)', () => {
  it('the sandbox seed gives the published POK', () => {
    expect(toHexStr(crypto().ed25519PublicKey(seed))).toBe(POK_HEX);
    expect(key.derived_public.ed25519).toBe(POK_HEX);
  });

  it('the certificate digest of the vector is the one of the spec', () => {
    expect(sandbox.cert_sha512_hex).toBe(
      'd57df89bc68e3d4cd39ea25d48a1dde5687fc8250256bc9cff3d2b39b9f90f7f1cd7998a3e347567d75c7b0dff375dbb9075cd0f0e5d328fc402fd6712affaaa',
    );
  });

  it('tls = Ed25519(sandbox seed, SHA-512(DER)) is reproduced exactly', () => {
    const sig = crypto().ed25519Sign(seed, certSha512);
    expect(toHexStr(sig)).toBe(TLS_HEX);
  });

  it('the record text is 204 characters, one character-string, and parses to the table', () => {
    expect(TEXT.length).toBe(204);
    expect(sandbox.input.txt_strings).toEqual([TEXT]);
    expect(zoneStrings(TEXT)).toEqual([TEXT]);
    expect(`_dx.localhost.localdomain. 3600 IN TXT ${zoneLine(TEXT)}`).toBe(ZONE);
    const r = parseRecord([TEXT]);
    expect(recordToJson(r)).toEqual({
      version: 1,
      pok: [POK_HEX],
      tls: [TLS_HEX],
      policy: 'experimental',
      syndicates: null,
      dx: ['localhost.localdomain'],
      exp: 30,
      subdomain: 'strict',
    });
    expect(verifyTlsBindingDigest(r, certSha512)).toBe(true);
    const otherDigest = certSha512.slice();
    otherDigest[0] = otherDigest[0]! ^ 1;
    expect(verifyTlsBindingDigest(r, otherDigest)).toBe(false);
  });

  it('the generator reproduces the text from its parts', () => {
    const pub = crypto().ed25519PublicKey(seed);
    const text = buildRecordText({
      pok: [pub],
      tls: [crypto().ed25519Sign(seed, certSha512)],
      policy: 'experimental',
      dx: ['localhost.localdomain'],
      exp: 30,
      subdomain: 'strict',
    });
    expect(text).toBe(TEXT);
    expect(bytesEqual(parseRecord([text]).pok[0]!, pub)).toBe(true);
  });

  it('split at byte 100 into two strings it parses to the same record', () => {
    const split = [TEXT.slice(0, 100), TEXT.slice(100)];
    expect(split).toEqual(
      loadCases('objects/silver-record.json').find((c) => c.id === 'recA-sandbox-split')!.input.txt_strings,
    );
    expect(recordToJson(parseRecord(split))).toEqual(recordToJson(parseRecord([TEXT])));
    for (let at = 0; at <= TEXT.length; at++) {
      expect(recordToJson(parseRecord([TEXT.slice(0, at), TEXT.slice(at)]))).toEqual(sandbox.expect.record);
    }
  });

  it('the negative examples are rejected', () => {
    const pok = 'h44kA4AXy2gFnlF+osucG2t4SOBeu8CA3WWxo6RLfIA';
    const tls = TEXT.split(' ')[2]!;
    expect(badRecordReason(() => parseRecord([`ver=2 pok=${pok}`]))).toBe('version');
    expect(badRecordReason(() => parseRecord([`ver=1 ${tls}`]))).toBe('missing_pok');
    expect(badRecordReason(() => parseRecord([`ver=1 pok=${pok.slice(0, 42)}`]))).toBe('pok_length');
    expect(badRecordReason(() => parseRecord([`ver=1 pok=${pok} pol=lenient`]))).toBe('policy');
    expect(badRecordReason(() => parseRecord([`ver=1 pok=${pok} pol=experimentalsyn=x`]))).toBe('policy');
  });
});
