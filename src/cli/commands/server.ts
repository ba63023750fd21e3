import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { parseServerAddress } from '../../resolver/server-address.js';
import { usage } from '../exit.js';

interface StartOptions {
  data: string;
  host?: string;
  basePort?: string;
  config?: string;
  resolver?: string[];
  domain?: string;
  hostname?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function firstUserHint(dataDir: string, domain: string): string {
  return [
    `dime: the local domain ${domain} is ready. Create the first user (the password is read from stdin):`,
    `  printf '%s\\n' 'a long password' | dime admin --data ${dataDir} user add alice@${domain} --password-stdin`,
    `  DNS records to publish: dime admin --data ${dataDir} dns ${domain}`,
    '',
  ].join('\n');
}

export function registerServerCommands(program: Command): void {
  const server = program.command('server').description('the DIME mail server (SMTP, submission, DMTP)');
  server
    .command('start')
    .description(
      'run the mail server: smtp (SMTP + DMTP dual mode), submission (STARTTLS, AUTH), submissions ' +
        '(implicit TLS), dmtp; prints one JSON ready line on stdout; SIGTERM drains and exits 0',
    )
    .requiredOption('--data <dir>', 'data directory (created on first start)')
    .option('--host <address>', 'listen address (default 127.0.0.1)')
    .option(
      '--base-port <n>',
      'smtp N, submission N+1, submissions N+2, dmtp N+8 (standard ports without it)',
    )
    .option('--config <file>', 'JSON configuration file (default DATA/config.json when present)')
    .option('--resolver <ip[:port]>', 'DNS resolver (repeatable; default: the system resolvers)', collect)
    .option('--domain <domain>', 'the local domain to bootstrap (default dime.localhost)')
    .option('--hostname <name>', 'the MX/DX host name the certificate carries (default mx.<domain>)')
    .action(async (opts: StartOptions) => {
      let basePort: number | undefined;
      if (opts.basePort !== undefined) {
        if (
          !/^\d{1,5}$/.test(opts.basePort) ||
          Number(opts.basePort) < 1 ||
          Number(opts.basePort) + 8 > 65535
        ) {
          usage('--base-port must be a port number (1…65527)');
        }
        basePort = Number(opts.basePort);
      }
      for (const r of opts.resolver ?? []) {
        try {
          parseServerAddress(r);
        } catch (e) {
          usage(`--resolver: ${(e as Error).message}`);
        }
      }
      // the server modules load only when the server starts (`dime --help` stays quick)
      const { loadServerConfig } = await import('../../server/config.js');
      const { createLogger } = await import('../../server/logger.js');
      const { createMailServices } = await import('../../server/mail-adapter.js');
      const { startMailServer } = await import('../../server/server.js');
      const config = loadServerConfig({
        dataDir: opts.data,
        ...(opts.config ? { configFile: opts.config } : {}),
        overrides: {
          ...(opts.host ? { host: opts.host } : {}),
          ...(basePort !== undefined ? { basePort } : {}),
          ...(opts.domain ? { domain: opts.domain } : {}),
          ...(opts.hostname ? { hostname: opts.hostname } : {}),
          ...(opts.resolver ? { resolvers: opts.resolver } : {}),
        },
      });
      const log = createLogger({
        level: config.log.level,
        ...(config.log.file ? { file: resolvePath(config.dataDir, config.log.file) } : {}),
      });
      const running = await startMailServer({ config, log, mail: createMailServices(config) });
      if (running.userCount === 0) process.stderr.write(firstUserHint(opts.data, config.domain));
      process.stdout.write(`${JSON.stringify(running.ready)}\n`);
      await new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          log.info({ signal }, 'signal received');
          process.removeListener('SIGTERM', onSignal);
          process.removeListener('SIGINT', onSignal);
          running.stop().then(resolve, (e: unknown) => {
            log.error({ err: e instanceof Error ? e.message : String(e) }, 'stop failed');
            resolve();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      // every handle is closed; leave now rather than wait for stray timers of libraries
      process.stdout.write('', () => process.exit(0));
    });
}
