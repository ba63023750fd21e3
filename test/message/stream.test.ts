import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { crypto } from '../../src/crypto/index.js';
import { DimeError } from '../../src/errors/index.js';
import {
  type Actor,
  type ContentInput,
  FileSource,
  FileStore,
  MemorySource,
  MemoryStore,
  type OpenedMessage,
  type OpenedSource,
  openMessage,
  openSource,
  parseMessage,
  partChunks,
  peekEnvelope,
  reencryptChunk,
  type SealInput,
  type SealPlanInput,
  SealWriter,
  STREAMING_THRESHOLD,
  sealMessage,
  serializeMessage,
  signAsOrigin,
  signAsOriginSource,
} from '../../src/message/index.js';
import { tempDir } from '../helpers/cli.js';
import { ACTOR_LIST, freshParties, type Parties, sealActors } from './helpers.js';

const c = crypto();
const parties = freshParties();
const dir = tempDir('dime-stream-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const path = (name: string) => join(dir, `${fileNo++}-${name}`);

function input(p: Parties, display: ContentInput[], attachments: ContentInput[] = []): SealInput {
  return {
    ...sealActors(p),
    commonHeaders: {
      date: 'Fri, 27 Nov 2026 10:00:00 +0000',
      to: 'bob@dest.test',
      from: 'alice@origin.test',
      subject: 'streams',
    },
    otherHeaders: 'X-Stream: 1\r\n',
    display,
    attachments,
  };
}

const bytesOf = (d: ContentInput['data']) => (typeof d === 'string' ? new Uint8Array(Buffer.from(d)) : d);

function plan(inp: SealInput): SealPlanInput {
  return {
    ...inp,
    display: inp.display.map((p) => ({ size: bytesOf(p.data).length, flags: p.flags ?? 0 })),
    attachments: (inp.attachments ?? []).map((p) => ({ size: bytesOf(p.data).length, flags: p.flags ?? 0 })),
  };
}

/** Seals into a file, pushing every part in slices cut at `cuts`. */
function sealToFile(inp: SealInput, out: string, cuts: number[] = [], maxChunkData?: number): void {
  const w = new SealWriter(plan(inp), maxChunkData ? { maxChunkData } : {});
  const store = FileStore.create(out, w.size);
  try {
    w.begin(store);
    for (const p of [...inp.display, ...(inp.attachments ?? [])]) {
      const data = bytesOf(p.data);
      let at = 0;
      for (const cut of [...cuts.map((x) => x % (data.length + 1)).sort((a, b) => a - b), data.length]) {
        if (cut > at) {
          w.write(data.subarray(at, cut));
          at = cut;
        }
      }
      w.endPart();
    }
    w.finish();
  } finally {
    store.close();
  }
}

/** An actor's view from a file source, in the buffered API's terms. */
function viewFromFile(file: string, actor: Actor, p: Parties) {
  const src = FileSource.open(file);
  try {
    const o = openSource(src, { actor, keys: p.keys[actor], signets: p.signets });
    const join = (parts: OpenedSource['display']) =>
      parts.map((x) => ({
        data: Buffer.concat([...partChunks(src, o, x)]).toString('hex'),
        flags: x.flags,
        chunkCount: x.chunks.length,
      }));
    return JSON.stringify({
      envelope: o.envelope,
      headers: o.commonHeaders?.fields ?? null,
      other: o.otherHeaders ? Buffer.from(o.otherHeaders).toString('hex') : null,
      display: join(o.display),
      attachments: join(o.attachments),
      signatures: o.signatures,
    });
  } finally {
    src.close();
  }
}

function viewOf(m: OpenedMessage) {
  const parts = (x: OpenedMessage['display']) =>
    x.map((d) => ({ data: Buffer.from(d.data).toString('hex'), flags: d.flags, chunkCount: d.chunkCount }));
  return JSON.stringify({
    envelope: m.envelope,
    headers: m.commonHeaders?.fields ?? null,
    other: m.otherHeaders ? Buffer.from(m.otherHeaders).toString('hex') : null,
    display: parts(m.display),
    attachments: parts(m.attachments),
    signatures: m.signatures,
  });
}

function originSignFile(from: string, to: string): void {
  const src = FileSource.open(from);
  try {
    signAsOriginSource(src, parties.keys.origin, parties.signets, (n) =>
      FileStore.create(to, n),
    ).store.close();
  } finally {
    src.close();
  }
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DimeError);
    return (e as DimeError).code;
  }
  throw new Error('expected a DimeError');
}

describe('streaming seal, origin signing and open over files (one implementation with memory)', () => {
  it('any slicing of the parts gives a message every actor opens from the file as from memory', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 900 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 900 }), { maxLength: 2 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.integer({ min: 200, max: 1200 }),
        (display, attachments, cuts, maxChunkData) => {
          const inp = input(
            parties,
            display.map((data) => ({ data })),
            attachments.map((data) => ({ data })),
          );
          const sealed = path('sealed.dime');
          const final = path('final.dime');
          sealToFile(inp, sealed, cuts, maxChunkData);
          originSignFile(sealed, final);
          const bytes = new Uint8Array(readFileSync(final));
          // origin signatures are deterministic: memory and file give the same bytes
          expect(
            Buffer.from(
              signAsOrigin(new Uint8Array(readFileSync(sealed)), parties.keys.origin, parties.signets),
            ).equals(Buffer.from(bytes)),
          ).toBe(true);
          for (const actor of ACTOR_LIST) {
            const mem = viewOf(
              openMessage(bytes, { actor, keys: parties.keys[actor], signets: parties.signets }),
            );
            expect(viewFromFile(final, actor, parties)).toBe(mem);
          }
          const r = openMessage(bytes, {
            actor: 'recipient',
            keys: parties.keys.recipient,
            signets: parties.signets,
          });
          expect(r.display.map((d) => Buffer.from(d.data).toString('hex'))).toEqual(
            display.map((d) => Buffer.from(d).toString('hex')),
          );
          expect(r.attachments.map((d) => Buffer.from(d.data).toString('hex'))).toEqual(
            attachments.map((d) => Buffer.from(d).toString('hex')),
          );
          rmSync(sealed);
          rmSync(final);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('chunks and signature ranges beyond the in-memory threshold stream through both paths', () => {
    const big = c.randomBytes(STREAMING_THRESHOLD * 2 + 333);
    const inp = input(parties, [{ data: 'body' }], [{ data: big }, { data: 'tail' }]);
    const sealed = path('big.dime');
    const final = path('big-final.dime');
    sealToFile(inp, sealed, [1, 70_000, 400_000], 300_000);
    originSignFile(sealed, final);
    const bytes = new Uint8Array(readFileSync(final));
    expect(parseMessage(bytes).chunks.filter((x) => x.type === 131).length).toBe(3);
    for (const actor of ACTOR_LIST) {
      expect(viewFromFile(final, actor, parties)).toBe(
        viewOf(openMessage(bytes, { actor, keys: parties.keys[actor], signets: parties.signets })),
      );
    }
    const mem = sealMessage(inp, { maxChunkData: 300_000 });
    const m = openMessage(signAsOrigin(mem, parties.keys.origin, parties.signets), {
      actor: 'recipient',
      keys: parties.keys.recipient,
      signets: parties.signets,
    });
    expect(Buffer.from(m.attachments[0]!.data).equals(Buffer.from(big))).toBe(true);
    expect(m.attachments[0]!.chunkCount).toBe(2);
  });

  it('refuses a part that gets more or fewer bytes than announced, and misuse of the writer', () => {
    const inp = input(parties, [{ data: 'abc' }]);
    const w = () => {
      const x = new SealWriter(plan(inp));
      x.begin(new MemoryStore(x.size));
      return x;
    };
    expect(codeOf(() => w().write(new Uint8Array(4)))).toBe('BAD_INPUT');
    expect(
      codeOf(() => {
        const x = w();
        x.write(new Uint8Array(2));
        x.endPart();
      }),
    ).toBe('BAD_INPUT');
    expect(
      codeOf(() => {
        const x = w();
        x.finish();
      }),
    ).toBe('BAD_INPUT');
    expect(
      codeOf(() => {
        const x = new SealWriter(plan(inp));
        x.begin(new MemoryStore(x.size + 1));
      }),
    ).toBe('BAD_INPUT');
    expect(codeOf(() => new SealWriter({ ...plan(inp), display: [{ size: 0 }] }))).toBe('BAD_INPUT');
    const x = w();
    x.write(new Uint8Array(3));
    x.endPart();
    x.finish();
    expect(codeOf(() => x.write(new Uint8Array(1)))).toBe('BAD_INPUT');
  });

  it('a file that changes between the checking pass and reading the parts is refused', () => {
    const inp = input(parties, [{ data: 'hello' }], [{ data: c.randomBytes(5000) }]);
    const final = path('toctou.dime');
    writeFileSync(final, signAsOrigin(sealMessage(inp), parties.keys.origin, parties.signets));
    const src = FileSource.open(final);
    try {
      const o = openSource(src, {
        actor: 'recipient',
        keys: parties.keys.recipient,
        signets: parties.signets,
      });
      const att = o.layout.chunks[o.attachments[0]!.chunks[0]!]!;
      const bytes = readFileSync(final);
      bytes[att.offset + 100]! ^= 1;
      writeFileSync(final, bytes);
      expect(codeOf(() => [...partChunks(src, o, o.attachments[0]!)])).toBe('IO_ERROR');
    } finally {
      src.close();
    }
  });

  it('report mode reports bad and unchecked signatures instead of failing', () => {
    const inp = input(parties, [{ data: 'x' }]);
    const final = signAsOrigin(sealMessage(inp), parties.keys.origin, parties.signets);
    // every origin signature replaced by random bytes, re-encrypted under the chunks' own keys
    const kek = openMessage(final, {
      actor: 'origin',
      keys: parties.keys.origin,
      signets: parties.signets,
    }).kek;
    const chunks = parseMessage(final).chunks.map((x) =>
      x.type >= 248 ? reencryptChunk(x, 'origin', kek, c.randomBytes(64)) : x.serialized,
    );
    const forged = serializeMessage(chunks);
    const r = openSource(new MemorySource(forged), {
      actor: 'recipient',
      keys: parties.keys.recipient,
      signets: parties.signets,
      report: true,
    });
    expect(r.signatures.tree).toBe('valid');
    expect(r.signatures.authorFull).toBe('valid');
    expect([r.signatures.metaBounce, r.signatures.displayBounce, r.signatures.originFull]).toEqual([
      'invalid',
      'invalid',
      'invalid',
    ]);
    const noAuthor = openSource(new MemorySource(forged), {
      actor: 'recipient',
      keys: parties.keys.recipient,
      signets: { origin: parties.signets.origin },
      report: true,
    });
    expect(noAuthor.signatures.tree).toBe('unverified');
    expect(noAuthor.signatures.chunks.every((x) => x.status === 'unverified')).toBe(true);
    expect(
      codeOf(() =>
        openSource(new MemorySource(forged), {
          actor: 'recipient',
          keys: parties.keys.recipient,
          signets: parties.signets,
        }),
      ),
    ).toBe('BAD_SIGNATURE');
  });

  it('peekEnvelope shows each actor the fingerprints it can read, unchecked', () => {
    const final = signAsOrigin(
      sealMessage(input(parties, [{ data: 'x' }])),
      parties.keys.origin,
      parties.signets,
    );
    const src = new MemorySource(final);
    const d = peekEnvelope(src, 'destination', parties.keys.destination);
    expect(d.author).toBeNull();
    expect(d.recipient).toBe('bob@dest.test');
    const o = peekEnvelope(src, 'origin', parties.keys.origin);
    expect(o.recipient).toBeNull();
    expect(o.author).toBe('alice@origin.test');
  });

  it('mutated messages read from a file are refused or shown unchanged (property)', () => {
    const inp = input(parties, [{ data: 'hi' }, { data: 'there' }], [{ data: Uint8Array.of(1, 2, 3) }]);
    const final = signAsOrigin(sealMessage(inp), parties.keys.origin, parties.signets);
    const views = Object.fromEntries(
      ACTOR_LIST.map((a) => [
        a,
        viewOf(openMessage(final, { actor: a, keys: parties.keys[a], signets: parties.signets })),
      ]),
    );
    const file = path('mutant.dime');
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), (pos, xor, cut) => {
        const m = new Uint8Array(final);
        m[pos % m.length]! ^= xor;
        const bytes = cut % 7 === 0 ? m.subarray(0, cut % m.length) : m;
        writeFileSync(file, bytes);
        let refused = 0;
        for (const actor of ACTOR_LIST) {
          try {
            expect(viewFromFile(file, actor, parties)).toBe(views[actor]);
          } catch (e) {
            if (!(e instanceof DimeError)) throw e;
            refused++;
          }
        }
        expect(refused).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });
});
