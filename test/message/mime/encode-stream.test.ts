/**
 * encodeStream gives the same bytes however its input is split: nodemailer's quoted-printable line
 * wrapping depends on where its writes end, so the encoders are fed fixed blocks (entity.ts). The
 * first case is the counterexample fast-check found (property.test.ts, seed 1678165555): a last
 * line that fits got a soft break only when it came in one piece with the line before it.
 */
import { describe, expect, it } from 'vitest';
import { encodeStream, fixedBlocks } from '../../../src/message/mime/entity.js';
import { collect } from '../../../src/message/mime/streams.js';

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

function decodeQp(qp: string): Buffer {
  const joined = qp.replace(/=\r\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === '=') {
      out.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(joined.charCodeAt(i));
  }
  return Buffer.from(out);
}

const counterexample = Buffer.from(
  'HelloHelloHello\r\nHello<!DOCTYPE html>Hello<!DOCTYPE html><!DOCTYPE html>Hello',
  'latin1',
);

describe('encodeStream', () => {
  it('quoted-printable: the same bytes for the whole buffer and for 7-byte pieces', async () => {
    const whole = Buffer.from(
      await collect(encodeStream(pieces(counterexample, counterexample.length), 'qp')),
    );
    const split = Buffer.from(await collect(encodeStream(pieces(counterexample, 7), 'qp')));
    expect(split.toString('latin1')).toBe(whole.toString('latin1'));
    expect(decodeQp(whole.toString('latin1'))).toEqual(counterexample);
  });

  it('quoted-printable and base64 over several blocks: every split gives the same bytes', async () => {
    const line = 'Lorem ipsum dolor sit amet, <b>consectetur</b> adipiscing elit.\r\n\tx\r\r\n\n ';
    const data = Buffer.from(line.repeat(900) + 'é'.repeat(3000), 'utf8');
    for (const encoding of ['qp', 'base64'] as const) {
      const reference = Buffer.from(await collect(encodeStream(pieces(data, data.length), encoding)));
      for (const size of [1, 7, 76, 4095, 16 * 1024 + 1]) {
        const got = Buffer.from(await collect(encodeStream(pieces(data, size), encoding)));
        expect(got.equals(reference), `${encoding}, pieces of ${size}`).toBe(true);
      }
      const decoded =
        encoding === 'qp'
          ? decodeQp(reference.toString('latin1'))
          : Buffer.from(reference.toString('latin1').replace(/\r\n/g, ''), 'base64');
      expect(decoded.equals(data)).toBe(true);
    }
  });

  it('fixedBlocks re-cuts any pieces into blocks of the size, the last one shorter', async () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const blocks: Buffer[] = [];
    for await (const b of fixedBlocks(pieces(data, 37), 128)) blocks.push(b);
    expect(blocks.map((b) => b.length)).toEqual([...Array(7).fill(128), 1000 - 7 * 128]);
    expect(Buffer.concat(blocks).equals(data)).toBe(true);
    const none: Buffer[] = [];
    for await (const b of fixedBlocks(pieces(Buffer.alloc(0), 1), 128)) none.push(b);
    expect(none).toEqual([]);
  });
});
