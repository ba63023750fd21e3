import { describe, it } from 'vitest';
import { fuzzRuns } from '../helpers/fuzz.js';
import { messageGarbageProperty, mutationFixture } from './mutation-property.js';

/** Arbitrary bytes as a message (the mutation property itself runs in mutation-100k.test.ts). */
describe('garbage messages (property)', () => {
  it('garbage, bare or framed, is refused with DimeError', () => {
    messageGarbageProperty(fuzzRuns(2000), mutationFixture());
  }, 300_000);
});
