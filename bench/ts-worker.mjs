// Worker threads do not inherit tsx's loader for their entry: register it, then load the TS entry.

import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
