import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  describeEntityStream,
  joinMimeStream,
  type MimeSplitItem,
  type PartInfo,
  type StreamPart,
  splitMimeStream,
} from '../../../src/message/mime/index.js';

const MB = 1024 * 1024;

/**
 * A multipart/mixed message with a short text part and one `size`-byte random attachment in
 * base64 (76-character lines), generated on the fly: never held in memory. `rawHash` receives
 * the attachment bytes.
 */
async function* bigMessage(size: number, rawHash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  yield Buffer.from(
    [
      'From: Alice <alice@alpha.test>',
      'To: Bob <bob@beta.test>',
      'Subject: a large attachment',
      'Date: Wed, 25 Nov 2026 12:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="big-boundary"',
      '',
      '--big-boundary',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The file is attached.',
      '--big-boundary',
      'Content-Type: application/octet-stream; name="big.bin"',
      'Content-Disposition: attachment; filename="big.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      '',
    ].join('\r\n'),
  );
  const piece = 57 * 1024; // whole base64 lines
  for (let left = size; left > 0; ) {
    const n = Math.min(piece, left);
    left -= n;
    const raw = randomBytes(n);
    rawHash.update(raw);
    const b64 = raw.toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
    yield Buffer.from(lines.join('\r\n') + (left > 0 ? '\r\n' : ''), 'latin1');
  }
  yield Buffer.from('\r\n--big-boundary--\r\n');
}

async function* tapped(data: AsyncIterable<Uint8Array>, hash: ReturnType<typeof createHash>) {
  for await (const c of data) {
    hash.update(c);
    yield c;
  }
}

describe('streaming 100 MB (memory does not grow with the message)', () => {
  it('splitMimeStream → joinMimeStream → splitMimeStream keeps the attachment, RSS growth < 64 MB', async () => {
    const size = 100 * MB;
    const rawHash = createHash('sha256');
    const firstEntityHash = createHash('sha256');
    const kinds: string[] = [];

    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 25);
    let info: PartInfo | undefined;
    let displayText = '';
    try {
      const split = splitMimeStream(bigMessage(size, rawHash));
      const common = (await split.next()).value as MimeSplitItem;
      const other = (await split.next()).value as MimeSplitItem;
      expect([common.kind, other.kind]).toEqual(['common-headers', 'other-headers']);
      const parts = async function* (): AsyncGenerator<StreamPart> {
        for await (const item of split) {
          if (item.kind !== 'display' && item.kind !== 'attachment') continue;
          kinds.push(item.kind);
          yield {
            kind: item.kind,
            data: item.kind === 'attachment' ? tapped(item.data, firstEntityHash) : item.data,
          };
        }
      };
      const joined = joinMimeStream(
        { commonHeaders: common.data as Uint8Array, otherHeaders: other.data as Uint8Array },
        parts(),
      );
      for await (const item of splitMimeStream(joined)) {
        if (item.kind === 'attachment') info = await describeEntityStream(item.data, { kind: 'attachment' });
        else if (item.kind === 'display') {
          for await (const c of item.data) displayText += Buffer.from(c).toString();
        }
      }
    } finally {
      clearInterval(sampler);
    }
    const rss1 = process.memoryUsage().rss;
    peak = Math.max(peak, rss1);

    expect(kinds).toEqual(['display', 'attachment']);
    expect(displayText).toBe('Content-Type: text/plain; charset=utf-8\r\n\r\nThe file is attached.');
    expect(info).toMatchObject({ type: 'application/octet-stream', name: 'big.bin', size });
    expect(info!.sha256).toBe(rawHash.digest('hex'));
    // the attachment entity went through split → join → split unchanged
    expect(info!.chunk_sha256).toBe(firstEntityHash.digest('hex'));
    expect(rss1 - rss0).toBeLessThan(64 * MB);
    expect(peak - rss0).toBeLessThan(64 * MB);
  }, 120_000);
});
