import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { MailStore } from '../../../src/store/mail-store.js';
import type { QueuePolicy } from '../../../src/store/queue-policy.js';
import type { Domain } from '../../../src/store/types.js';
import type { HarnessFactory, StoreHarness } from '../harness.js';

export interface SuiteContext {
  h: StoreHarness;
  store: MailStore;
  domain: Domain;
}

/**
 * One database per describe block (creating a PostgreSQL schema costs ~0.5 s); every test starts
 * from empty tables, a newly opened store and one domain. The schema tests make their own.
 */
export function useStore(factory: HarnessFactory, options: { policy?: QueuePolicy } = {}): SuiteContext {
  const ctx = {} as SuiteContext;
  beforeAll(async () => {
    ctx.h = await factory();
  });
  beforeEach(async () => {
    ctx.h.clock.now = Date.UTC(2025, 0, 1);
    ctx.store = await ctx.h.open(options);
    await ctx.h.reset();
    ctx.domain = await ctx.store.addDomain({ name: 'Example.ORG.' });
  });
  afterEach(async () => {
    await ctx.h.closeStores();
  });
  afterAll(async () => {
    await ctx.h?.cleanup();
  });
  return ctx;
}
