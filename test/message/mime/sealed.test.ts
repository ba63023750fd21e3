import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openMessage, sealMessage, signAsOrigin } from '../../../src/message/index.js';
import { describeParts, mimeToParts, partsToMime } from '../../../src/message/mime/index.js';
import { freshParties, sealActors } from '../helpers.js';
import { compose, losslessView } from './helpers.js';

const parties = freshParties();

describe('MIME → sealed DIME message → opened by the recipient → MIME', () => {
  it('is lossless, also when parts span several chunks', async () => {
    const big = randomBytes(40_000);
    const eml = await compose({
      from: 'Alice Ä <alice@origin.test>',
      to: 'Bob <bob@dest.test>',
      cc: 'Carol <carol@dest.test>',
      subject: 'Quarterly numbers ✓',
      headers: { 'X-Priority': '1' },
      text: 'Numbers attached.\n',
      html: '<p>Numbers <b>attached</b>.</p>',
      attachments: [
        { filename: 'q3.xlsx', content: big },
        { filename: 'notes – ü.txt', content: 'see q3\r\n' },
      ],
    });
    const parts = await mimeToParts(eml);
    const sealed = sealMessage(
      {
        ...sealActors(parties),
        commonHeaders: parts.commonFields,
        otherHeaders: parts.otherHeaders,
        display: parts.display.map((data) => ({ data })),
        attachments: parts.attachments.map((data) => ({ data })),
      },
      { maxChunkData: 10_000 },
    );
    const signed = signAsOrigin(sealed, parties.keys.origin, parties.signets);
    const opened = openMessage(signed, {
      actor: 'recipient',
      keys: parties.keys.recipient,
      signets: parties.signets,
    });
    expect(opened.attachments.map((a) => a.chunkCount)).toEqual([6, 1]);
    const back = {
      commonHeaders: opened.commonHeaders!.raw,
      otherHeaders: opened.otherHeaders,
      // the opened parts may be Buffers; compare bytes, not classes
      display: opened.display.map((p) => new Uint8Array(p.data)),
      attachments: opened.attachments.map((p) => new Uint8Array(p.data)),
    };
    expect(back.display).toEqual(parts.display);
    expect(back.attachments).toEqual(parts.attachments);
    const rebuilt = await partsToMime(back);
    expect(await losslessView(rebuilt)).toEqual(await losslessView(eml));
    // the same text from chunk 33 data or from the opened values
    expect(await partsToMime(back, { boundary: 'S' })).toEqual(
      await partsToMime({ ...parts }, { boundary: 'S' }),
    );
    const info = await describeParts(back);
    expect(info.attachments.map((a) => [a.name, a.size])).toEqual([
      ['q3.xlsx', big.length],
      ['notes – ü.txt', 8],
    ]);
  });
});
