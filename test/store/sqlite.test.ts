import { describe } from 'vitest';
import { sqliteHarness } from './harness.js';
import { mailStoreSuite } from './suite/index.js';

describe('MailStore on SQLite (temp file, WAL)', () => {
  mailStoreSuite(sqliteHarness);
});
