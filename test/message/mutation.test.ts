import { describe, it } from 'vitest';
import { fuzzRuns } from '../helpers/fuzz.js';
import { messageGarbageProperty, messageMutationProperty, mutationFixture } from './mutation-property.js';

describe('mutated messages (property)', () => {
  const fixture = mutationFixture();

  it('are refused with DimeError by some actor and never accepted with altered content', () => {
    messageMutationProperty(fuzzRuns(2000), fixture);
  }, 300_000);

  it('garbage, bare or framed, is refused with DimeError', () => {
    messageGarbageProperty(fuzzRuns(2000), fixture);
  }, 300_000);
});
