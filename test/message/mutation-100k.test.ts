import { describe, it } from 'vitest';
import { fuzzRuns } from '../helpers/fuzz.js';
import { messageMutationProperty, mutationFixture } from './mutation-property.js';

/**
 * The mutation property of issue 5 at full size: 100 000 random mutations of a sealed,
 * origin-signed message, each opened by all four actors, are refused with a DimeError (by at least
 * one actor, and by every actor that would otherwise see altered content), never a crash or hang.
 * Its own file so that it runs beside the other suites; DIME_FUZZ_RUNS overrides the count.
 */
describe('mutated messages (property, 100 000 inputs)', () => {
  it('are refused with DimeError by some actor and never accepted with altered content', () => {
    messageMutationProperty(fuzzRuns(100_000), mutationFixture());
  }, 1_800_000);
});
