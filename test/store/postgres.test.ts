import { describe } from 'vitest';
import { postgresHarness } from './harness.js';
import { mailStoreSuite } from './suite/index.js';

// DIME_PG_URL (default postgres://postgres@127.0.0.1:5432/test); each test uses a fresh schema, dropped after
describe('MailStore on PostgreSQL (fresh schema)', () => {
  mailStoreSuite(postgresHarness);
});
