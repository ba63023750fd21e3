/** `dime admin queue list|retry|rm`. */
import type { Command } from 'commander';
import { printJson } from '../../io.js';
import { withAdmin } from './shared.js';

export function registerQueueCommands(admin: Command): void {
  const queue = admin.command('queue').description('the outbound queue');
  queue
    .command('list')
    .description('queued mail: recipient, state, attempts, next attempt, last error')
    .option(
      '--json',
      'print {"items":[{"id","state","kind","recipient","domain","author","size","attempts","created","next_attempt","last_error"}]}',
    )
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { listQueue } = await import('../../../server/admin/queue.js');
      const r = await withAdmin(cmd, (a) => listQueue(a));
      if (opts.json) printJson(r);
      else {
        process.stdout.write(
          r.items
            .map(
              (q) =>
                `${q.id} ${q.state} ${q.kind} ${q.recipient} (${q.size} bytes, ${q.attempts} attempts, next ${q.next_attempt})${q.last_error ? `\n    ${q.last_error}` : ''}\n`,
            )
            .join(''),
        );
      }
    });
  queue
    .command('retry')
    .description('deliver now: one ready item, or all of them (the server takes them at its next poll)')
    .argument('[id]')
    .option('--json', 'print {"rescheduled":n}')
    .action(async (id: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const { retryQueue } = await import('../../../server/admin/queue.js');
      const r = await withAdmin(cmd, (a) => retryQueue(a, id));
      if (opts.json) printJson(r);
      else process.stdout.write(`${r.rescheduled} item(s) due now\n`);
    });
  queue
    .command('rm')
    .description('drop a queued item without delivering or bouncing it')
    .argument('<id>')
    .option('--json', 'print {"id","removed":true}')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { removeQueueItem } = await import('../../../server/admin/queue.js');
      const r = await withAdmin(cmd, (a) => removeQueueItem(a, id));
      if (opts.json) printJson(r);
      else process.stdout.write(`queue item ${r.id} removed\n`);
    });
}
