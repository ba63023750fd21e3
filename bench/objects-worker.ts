import { parentPort, workerData } from 'node:worker_threads';
import { parseSignet, verifySignet } from '../src/signet/index.js';
import { rate } from './lib.js';

/**
 * One pool thread: libdime's validate-all work on a user signet it has already deserialized (the
 * same timed work as the one-thread figure, objects.bench.ts), for the given seconds.
 */
const { user, org, seconds } = workerData as { user: Uint8Array; org: Uint8Array; seconds: number };
const orgSignet = parseSignet(org, ['org']);
const userSignet = parseSignet(user, ['user']);
const r = rate(() => verifySignet(userSignet, { org: orgSignet, selfSignature: false }), seconds);
parentPort!.postMessage(r);
