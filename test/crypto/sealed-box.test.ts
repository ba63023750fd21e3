import * as nodeCrypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import {
  isSealedBox,
  openForUser,
  SEALED_BOX_HEADER_LENGTH,
  SEALED_BOX_OVERHEAD,
  sealForUser,
} from '../../src/crypto/sealed-box.js';
import { DimeError } from '../../src/errors/index.js';

function keyPair(): { priv: Uint8Array; pub: Uint8Array } {
  const priv = crypto().secp256k1GeneratePrivate();
  return { priv, pub: crypto().secp256k1PublicKey(priv) };
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DimeError) return e.code;
    throw e;
  }
  return 'no error';
}

const text = (s: string) => new TextEncoder().encode(s);

describe('sealed box', () => {
  it('round-trips and adds exactly the fixed overhead', () => {
    const { priv, pub } = keyPair();
    for (const n of [0, 1, 15, 16, 17, 1000, 65537]) {
      const plain = crypto().randomBytes(n);
      const box = sealForUser(pub, plain);
      expect(box.length).toBe(n + SEALED_BOX_OVERHEAD);
      expect(isSealedBox(box)).toBe(true);
      expect(Buffer.from(openForUser(priv, box))).toEqual(Buffer.from(plain));
    }
  });

  it('uses a fresh ephemeral key each time', () => {
    const { pub } = keyPair();
    const a = sealForUser(pub, text('same'));
    const b = sealForUser(pub, text('same'));
    expect(Buffer.from(a.subarray(4, 37))).not.toEqual(Buffer.from(b.subarray(4, 37)));
    expect(Buffer.from(a)).not.toEqual(Buffer.from(b));
  });

  it('does not contain the plaintext', () => {
    const { pub } = keyPair();
    const marker = 'MARKER-Subject: the plans for Tuesday';
    const box = Buffer.from(sealForUser(pub, text(marker.repeat(50))));
    expect(box.includes(Buffer.from(marker))).toBe(false);
  });

  it('is the documented format (checked with node:crypto, independently of the provider)', () => {
    const { priv, pub } = keyPair();
    const plain = text('Attack at dawn!');
    const box = sealForUser(pub, plain);
    expect(Buffer.from(box.subarray(0, 4)).toString('latin1')).toBe('DSB\x01');
    const epk = box.subarray(4, 37);
    const ecdh = nodeCrypto.createECDH('secp256k1');
    ecdh.setPrivateKey(Buffer.from(priv));
    const x = ecdh.computeSecret(Buffer.from(epk));
    const k = nodeCrypto
      .createHash('sha512')
      .update('DIME sealed box v1')
      .update(box.subarray(0, 37))
      .update(pub)
      .update(x)
      .digest();
    const d = nodeCrypto.createDecipheriv('aes-256-gcm', k.subarray(0, 32), k.subarray(32, 44));
    d.setAuthTag(Buffer.from(box.subarray(box.length - 16)));
    const out = Buffer.concat([d.update(box.subarray(37, box.length - 16)), d.final()]);
    expect(out.toString()).toBe('Attack at dawn!');
  });

  it('refuses the wrong key', () => {
    const a = keyPair();
    const b = keyPair();
    const box = sealForUser(a.pub, text('for a only'));
    expect(codeOf(() => openForUser(b.priv, box))).toBe('DECRYPT_FAILED');
  });

  it('detects any single-bit change', () => {
    const { priv, pub } = keyPair();
    const box = sealForUser(pub, crypto().randomBytes(40));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: box.length * 8 - 1 }), (bit) => {
        const t = new Uint8Array(box);
        t[bit >> 3] = (t[bit >> 3] as number) ^ (1 << (bit & 7));
        const code = codeOf(() => openForUser(priv, t));
        // magic/version bytes → BAD_MAGIC; anything else → DECRYPT_FAILED (or a bad point)
        expect(['BAD_MAGIC', 'DECRYPT_FAILED']).toContain(code);
        if (bit >= 32) expect(code).toBe('DECRYPT_FAILED');
      }),
      { numRuns: 200 },
    );
  });

  it('refuses truncation, other versions and foreign data', () => {
    const { priv, pub } = keyPair();
    const box = sealForUser(pub, text('hello'));
    expect(codeOf(() => openForUser(priv, box.subarray(0, box.length - 1)))).toBe('DECRYPT_FAILED');
    expect(codeOf(() => openForUser(priv, box.subarray(0, SEALED_BOX_OVERHEAD - 1)))).toBe('TRUNCATED');
    const v2 = new Uint8Array(box);
    v2[3] = 2;
    expect(isSealedBox(v2)).toBe(false);
    expect(codeOf(() => openForUser(priv, v2))).toBe('BAD_MAGIC');
    expect(codeOf(() => openForUser(priv, new Uint8Array(100)))).toBe('BAD_MAGIC');
    const badPoint = new Uint8Array(box);
    badPoint.fill(0xff, 4, SEALED_BOX_HEADER_LENGTH);
    expect(codeOf(() => openForUser(priv, badPoint))).toBe('DECRYPT_FAILED');
  });

  it('checks keys', () => {
    const { priv } = keyPair();
    expect(codeOf(() => sealForUser(new Uint8Array(32), text('x')))).toBe('BAD_KEY_LENGTH');
    expect(codeOf(() => sealForUser(Uint8Array.of(2, ...new Uint8Array(32).fill(0xff)), text('x')))).toBe(
      'BAD_KEY',
    );
    expect(codeOf(() => openForUser(new Uint8Array(32), new Uint8Array(60)))).toBe('BAD_KEY');
    expect(codeOf(() => openForUser(priv.subarray(0, 31), new Uint8Array(60)))).toBe('BAD_KEY_LENGTH');
  });

  it('handles a large message (16 MiB)', () => {
    const { priv, pub } = keyPair();
    const plain = new Uint8Array(16 * 1024 * 1024);
    for (let i = 0; i < plain.length; i += 4096) plain[i] = i & 0xff;
    const box = sealForUser(pub, plain);
    const out = openForUser(priv, box);
    expect(out.length).toBe(plain.length);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(plain))).toBe(0);
  });
});
