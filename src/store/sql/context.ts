import type { Clock } from '../clock.js';
import type { QueuePolicy } from '../queue-policy.js';
import type { Engine } from './engine.js';

/** What every shared operation gets: the engine, the clock and the queue policy. */
export interface StoreContext {
  engine: Engine;
  clock: Clock;
  policy: QueuePolicy;
}
