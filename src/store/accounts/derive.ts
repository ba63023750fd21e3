import { type StacieInput, type StacieValues, stacieDerive } from '../../stacie/index.js';

/**
 * The STACIE chain (stacie.md §4) costs up to millions of SHA-512 rounds: the server passes a
 * function that runs it in a worker thread. The default runs it directly (CLI, tests).
 */
export type StacieDeriver = (input: StacieInput) => Promise<StacieValues> | StacieValues;

export const directDerive: StacieDeriver = (input) => stacieDerive(input);
