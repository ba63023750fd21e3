import fc from 'fast-check';
import { expect } from 'vitest';
import { bytesEqual, concatBytes, u24be, u32be } from '../../src/encoding/bytes.js';
import { DimeError } from '../../src/errors/index.js';
import {
  type Actor,
  type OpenedMessage,
  openMessage,
  parseMessage,
  sealMessage,
  signAsOrigin,
} from '../../src/message/index.js';
import { ACTOR_LIST, freshParties, type Parties, sealActors } from './helpers.js';

/**
 * The mutation property of DMIME messages: a sealed, origin-signed message with any change
 * (byte flips, truncation, insertion, deletion, overwrites, chunk length fields, dropped, repeated
 * or swapped chunks, a rewritten body length) is
 *   - refused with a DimeError by at least one actor (no change goes unnoticed by everyone), and
 *   - for every actor, either refused with a DimeError or shown exactly as the original (an
 *     actor never accepts altered content; e.g. damage to another actor's keyslot of chunk 255
 *     is invisible to it, libdime-check.md quirk 6),
 * and nothing else is ever thrown. Reusable with any number of runs (the CI fuzz job uses 100 000).
 */

type Mutation =
  | { kind: 'flip'; pos: number; xor: number }
  | { kind: 'truncate'; len: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'overwrite'; pos: number; bytes: Uint8Array }
  | { kind: 'chunkLength'; chunk: number; value: number }
  | { kind: 'dropChunk'; chunk: number }
  | { kind: 'repeatChunk'; chunk: number }
  | { kind: 'swapChunks'; a: number; b: number }
  | { kind: 'bodyLength'; value: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      pos: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), len: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      pos: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      pos: fc.nat(),
      len: fc.integer({ min: 1, max: 80 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('overwrite' as const),
      pos: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('chunkLength' as const),
      chunk: fc.nat(),
      value: fc.oneof(fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 600 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropChunk' as const), chunk: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeatChunk' as const), chunk: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swapChunks' as const), a: fc.nat(), b: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('bodyLength' as const), value: fc.nat({ max: 0xffffffff }) }),
  },
);

/** Applies a mutation; chunk-level ones use the chunk boundaries of the input when it still parses. */
function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  const at = (p: number, span = n) => (span === 0 ? 0 : p % span);
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return input;
      const out = new Uint8Array(input);
      out[at(m.pos)]! ^= m.xor;
      return out;
    }
    case 'truncate':
      return input.subarray(0, at(m.len));
    case 'insert': {
      const p = at(m.pos, n + 1);
      return concatBytes(input.subarray(0, p), m.bytes, input.subarray(p));
    }
    case 'delete': {
      const p = at(m.pos);
      return concatBytes(input.subarray(0, p), input.subarray(p + m.len));
    }
    case 'overwrite': {
      const out = new Uint8Array(input);
      out.set(m.bytes.subarray(0, Math.max(0, n - at(m.pos))), at(m.pos));
      return out;
    }
    case 'bodyLength': {
      if (n < 6) return input;
      const out = new Uint8Array(input);
      out.set(u32be(m.value), 2);
      return out;
    }
    default:
      break;
  }
  let chunks: Uint8Array[];
  try {
    chunks = parseMessage(input).chunks.map((c) => c.serialized);
  } catch {
    return input;
  }
  const i = (x: number) => x % chunks.length;
  switch (m.kind) {
    case 'chunkLength': {
      const c = new Uint8Array(chunks[i(m.chunk)]!);
      c.set(u24be(m.value), 1);
      chunks[i(m.chunk)] = c;
      break;
    }
    case 'dropChunk':
      chunks.splice(i(m.chunk), 1);
      break;
    case 'repeatChunk':
      chunks.splice(i(m.chunk), 0, chunks[i(m.chunk)]!);
      break;
    case 'swapChunks': {
      const a = i(m.a);
      const b = i(m.b);
      [chunks[a], chunks[b]] = [chunks[b]!, chunks[a]!];
      break;
    }
  }
  let len = 0;
  for (const c of chunks) len += c.length;
  return concatBytes(Uint8Array.of(0x07, 0x37), u32be(len), ...chunks);
}

/** What an actor sees, as comparable text. */
function viewOf(m: OpenedMessage): string {
  const hex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString('hex') : null);
  return JSON.stringify({
    envelope: m.envelope,
    headers: m.commonHeaders?.fields ?? null,
    other: hex(m.otherHeaders),
    display: m.display.map((d) => [hex(d.data), d.flags]),
    attachments: m.attachments.map((d) => [hex(d.data), d.flags]),
    signatures: m.signatures,
    plain: m.chunks.map((c) => [c.type, hex(c.plain)]),
  });
}

export interface MutationFixture {
  parties: Parties;
  message: Uint8Array;
  views: Record<Actor, string>;
}

/** A small origin-signed message with every chunk type, and each actor's view of it. */
export function mutationFixture(): MutationFixture {
  const parties = freshParties();
  const sealed = sealMessage({
    ...sealActors(parties),
    commonHeaders: {
      date: 'Sat, 28 Nov 2026 08:00:00 +0000',
      to: 'b@dest.test',
      from: 'a@origin.test',
      subject: 'fuzz',
    },
    otherHeaders: 'X-Fuzz: 1\r\n',
    display: [{ data: 'hi' }, { data: 'there' }],
    attachments: [{ data: Uint8Array.of(1, 2, 3) }],
  });
  const message = signAsOrigin(sealed, parties.keys.origin, parties.signets);
  const views = {} as Record<Actor, string>;
  for (const a of ACTOR_LIST) {
    views[a] = viewOf(openMessage(message, { actor: a, keys: parties.keys[a], signets: parties.signets }));
  }
  return { parties, message, views };
}

/** Runs the property with `numRuns` random mutation sequences. */
export function messageMutationProperty(numRuns: number, fixture: MutationFixture = mutationFixture()): void {
  const { parties, message, views } = fixture;
  fc.assert(
    fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (mutations) => {
      let bytes = message;
      for (const m of mutations) bytes = mutate(bytes, m);
      if (bytesEqual(bytes, message)) return;
      let refused = 0;
      for (const actor of ACTOR_LIST) {
        try {
          const view = viewOf(
            openMessage(bytes, { actor, keys: parties.keys[actor], signets: parties.signets }),
          );
          expect(view, `${actor} accepted altered content`).toBe(views[actor]);
        } catch (e) {
          if (!(e instanceof DimeError)) throw new Error(`${actor}: non-DimeError ${String(e)}`);
          refused++;
        }
      }
      expect(refused, 'no actor noticed the change').toBeGreaterThan(0);
    }),
    { numRuns },
  );
}

/** Arbitrary bytes, bare or behind a valid header: only DimeErrors, for every actor. */
export function messageGarbageProperty(numRuns: number, fixture: MutationFixture = mutationFixture()): void {
  const { parties } = fixture;
  const framed = fc
    .uint8Array({ maxLength: 2000 })
    .map((b) => concatBytes(Uint8Array.of(0x07, 0x37), u32be(b.length), b));
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 2000 }), framed),
      fc.constantFrom(...ACTOR_LIST),
      (bytes, actor) => {
        try {
          openMessage(bytes, { actor, keys: parties.keys[actor], signets: parties.signets });
        } catch (e) {
          if (e instanceof DimeError) return;
          throw e;
        }
        throw new Error('garbage was accepted');
      },
    ),
    { numRuns },
  );
}
