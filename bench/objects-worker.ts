import { parentPort, workerData } from 'node:worker_threads';
import { parseSignet, verifySignet } from '../src/signet/index.js';
import { rate } from './lib.js';

/** One pool thread: libdime's validate-all work on a user signet, for the given seconds. */
const { user, org, seconds } = workerData as { user: Uint8Array; org: Uint8Array; seconds: number };
const orgSignet = parseSignet(org, ['org']);
const r = rate(
  () => verifySignet(parseSignet(user, ['user']), { org: orgSignet, selfSignature: false }),
  seconds,
);
parentPort!.postMessage(r);
