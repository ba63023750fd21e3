import type { HarnessFactory } from '../harness.js';
import { accountTests } from './accounts.js';
import { directoryTests } from './directory.js';
import { messageTests } from './messages.js';
import { queueTests } from './queue.js';
import { schemaTests } from './schema.js';

/** The one MailStore suite; every engine runs all of it. */
export function mailStoreSuite(factory: HarnessFactory): void {
  schemaTests(factory);
  directoryTests(factory);
  messageTests(factory);
  queueTests(factory);
  accountTests(factory);
}
