/**
 * Server configuration (docs/config.md): a JSON file, environment variables and command-line flags,
 * merged in that order of precedence (flags win, then the environment, then the file, then the
 * defaults) and validated with one zod schema. A bad value is a BAD_CONFIG error that names the
 * field (`config: ports.smtp: …`).
 */

import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { DimeError } from '../errors/index.js';
import { POLICIES } from '../record/types.js';
import { ACCOUNT_MODES } from '../store/types.js';

/** Listener names, in the order of the fixed `--base-port` contract (issue 7). */
export const LISTENERS = ['smtp', 'submission', 'submissions', 'dmtp'] as const;
export type ListenerName = (typeof LISTENERS)[number];

/** `--base-port N`: smtp N, submission N+1, submissions N+2, dmtp N+8 (imap N+3 … dmap N+9 are later issues). */
export const BASE_PORT_OFFSETS: Readonly<Record<ListenerName, number>> = {
  smtp: 0,
  submission: 1,
  submissions: 2,
  dmtp: 8,
};

export const STANDARD_PORTS: Readonly<Record<ListenerName, number>> = {
  smtp: 25,
  submission: 587,
  submissions: 465,
  dmtp: 26,
};

export const DEFAULT_DOMAIN = 'dime.localhost';

const port = z.number().int().min(0).max(65535);
const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i,
    {
      message: 'must be a DNS name (letters, digits, hyphens, dots)',
    },
  )
  .transform((s) => s.toLowerCase().replace(/\.$/, ''));
const resolverAddress = z.string().regex(/^(\[[0-9a-fA-F:.]+\](:\d{1,5})?|[0-9a-fA-F:.]+)$/, {
  message: 'must be IP[:PORT]',
});
const bytes = z.number().int().positive();

const storeSchema = z.discriminatedUnion('engine', [
  z.strictObject({
    engine: z.literal('sqlite'),
    /** Relative to the data directory. */
    path: z.string().min(1).default('mail.db'),
    busyTimeoutMs: z.number().int().min(0).default(10_000),
  }),
  z.strictObject({
    engine: z.literal('postgres'),
    connectionString: z.string().min(1),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('dime'),
    poolSize: z.number().int().min(1).max(100).default(10),
  }),
]);

export const serverConfigSchema = z.strictObject({
  /** The local domain bootstrapped on first start (more with `dime admin domain add`). */
  domain: hostName.default(DEFAULT_DOMAIN),
  /** The MX/DX host name: banner, EHLO, the TLS certificate's name, `dx=` of the record. Default `mx.<domain>`. */
  hostname: hostName.optional(),
  /** Listen address. */
  host: z.string().min(1).default('127.0.0.1'),
  /** smtp N, submission N+1, submissions N+2, dmtp N+8; standard ports without it. */
  basePort: port.optional(),
  /** Per-listener ports (win over basePort); 0 = an ephemeral port. */
  ports: z
    .strictObject({
      smtp: port.optional(),
      submission: port.optional(),
      submissions: port.optional(),
      dmtp: port.optional(),
    })
    .default({}),
  store: storeSchema.default({ engine: 'sqlite', path: 'mail.db', busyTimeoutMs: 10_000 }),
  /** Key passphrase for org keys, the spool key, the TLS and DKIM keys (prefer DIME_SERVER_PASSPHRASE). */
  passphrase: z.string().min(1).optional(),
  /** A file holding the passphrase (one trailing newline stripped). */
  passphraseFile: z.string().min(1).optional(),
  /** Configured TLS material instead of the self-made certificate (PEM files). */
  tls: z
    .strictObject({
      key: z.string().min(1),
      cert: z.string().min(1),
      /** Passphrase of an encrypted key file. */
      keyPassphrase: z.string().optional(),
      /** Staple OCSP responses when the certificate names a responder (its issuer must follow it). */
      ocspStapling: z.boolean().default(true),
    })
    .optional(),
  dns: z
    .strictObject({
      /** Resolvers as IP[:PORT]; default: resolv.conf. */
      resolvers: z.array(resolverAddress).min(1).optional(),
      /** Believe the AD bit of non-loopback resolvers (record.md §4). */
      trusted: z.boolean().default(false),
      /** Budget of one lookup (a failure is a temperror within it). */
      timeoutMs: z.number().int().min(100).max(10_000).default(1800),
    })
    .default({ trusted: false, timeoutMs: 1800 }),
  limits: z
    .strictObject({
      maxMessageSize: bytes.default(25 * 1024 * 1024),
      maxRecipients: z.number().int().min(1).max(10_000).default(100),
      /** Default quota of new users (null: none). */
      quotaBytes: bytes.nullable().default(null),
      quotaMessages: z.number().int().positive().nullable().default(null),
      /** Sessions served at once per listener (more get 421). */
      maxConnections: z.number().int().min(1).default(500),
      idleTimeoutMs: z.number().int().min(1000).default(300_000),
    })
    .default({
      maxMessageSize: 25 * 1024 * 1024,
      maxRecipients: 100,
      quotaBytes: null,
      quotaMessages: null,
      maxConnections: 500,
      idleTimeoutMs: 300_000,
    }),
  accounts: z
    .strictObject({
      defaultMode: z.enum(ACCOUNT_MODES as unknown as [string, ...string[]]).default('trustful'),
      /** flow.md §3.1 (b): the author's account policy allows plaintext (SMTP) delivery. */
      allowPlaintext: z.boolean().default(true),
    })
    .default({ defaultMode: 'trustful', allowPlaintext: true }),
  spamFilter: z
    .strictObject({
      /** rspamd's HTTP protocol endpoint, e.g. http://127.0.0.1:11333. */
      rspamdUrl: z.url(),
      timeoutMs: z.number().int().min(100).default(5000),
    })
    .nullable()
    .default(null),
  dkim: z
    .strictObject({
      selector: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{0,62}$/i)
        .default('dime'),
    })
    .default({
      selector: 'dime',
    }),
  record: z
    .strictObject({
      /** `pol=` of the management record `dime admin dns` prints. */
      policy: z.enum(POLICIES).default('mixed'),
    })
    .default({ policy: 'mixed' }),
  outbound: z
    .strictObject({
      /**
       * Where standard ports really are, for test setups: "26" → port, or "host:26" → port (DMTP 26/25/587
       * and SMTP 25 of outbound delivery).
       */
      portMap: z.record(z.string().regex(/^([a-z0-9.-]+:)?\d{1,5}$/i), port).default({}),
      /** Extra CA certificates (PEM file) for x509 checks of DMTP peers without a pin. */
      ca: z.string().min(1).optional(),
      /** Parallel deliveries of the queue worker. */
      concurrency: z.number().int().min(1).max(64).default(4),
      /** How often the queue is polled when nothing kicked it (ms). */
      pollMs: z.number().int().min(50).default(2000),
      connectTimeoutMs: z.number().int().min(100).default(10_000),
      commandTimeoutMs: z.number().int().min(100).default(60_000),
    })
    .default({
      portMap: {},
      concurrency: 4,
      pollMs: 2000,
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 60_000,
    }),
  queue: z
    .strictObject({
      /** First retry delay, doubled per attempt up to maxDelayMs (flow.md §3). */
      initialDelayMs: z
        .number()
        .int()
        .min(1)
        .default(5 * 60_000),
      maxDelayMs: z
        .number()
        .int()
        .min(1)
        .default(4 * 3600_000),
      maxAttempts: z.number().int().min(1).default(30),
      /** Give up (bounce) after this long: 5 days (flow.md §3 decision). */
      maxAgeMs: z
        .number()
        .int()
        .min(1)
        .default(5 * 86_400_000),
      leaseMs: z
        .number()
        .int()
        .min(1000)
        .default(10 * 60_000),
    })
    .default({
      initialDelayMs: 5 * 60_000,
      maxDelayMs: 4 * 3600_000,
      maxAttempts: 30,
      maxAgeMs: 5 * 86_400_000,
      leaseMs: 10 * 60_000,
    }),
  stacie: z.strictObject({ workers: z.number().int().min(1).max(16).default(2) }).default({ workers: 2 }),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** Also write the log to this file (relative to the data directory). */
      file: z.string().min(1).optional(),
    })
    .default({ level: 'info' }),
  /** Time allowed for open sessions and deliveries to finish on SIGTERM (ms). */
  drainTimeoutMs: z.number().int().min(0).default(10_000),
});

export type ServerConfigInput = z.input<typeof serverConfigSchema>;
type Parsed = z.output<typeof serverConfigSchema>;

export interface ServerConfig extends Omit<Parsed, 'hostname'> {
  /** Absolute data directory. */
  dataDir: string;
  hostname: string;
  /** Resolved listener ports (0 = ephemeral). */
  listenPorts: Record<ListenerName, number>;
}

/** Flags of `dime server start` that override the file and the environment. */
export interface ConfigOverrides {
  host?: string;
  basePort?: number;
  domain?: string;
  hostname?: string;
  resolvers?: string[];
}

function badConfig(field: string, message: string): DimeError {
  return new DimeError('BAD_CONFIG', `config: ${field}: ${message}`, { field });
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map((p) => String(p)).join('.');
}

/** Environment variables (docs/config.md) as a partial config. */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const str = (k: string) => {
    const v = env[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const num = (k: string, field: string) => {
    const v = str(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw badConfig(field, `${k} must be a non-negative integer`);
    return Number(v);
  };
  if (str('DIME_DOMAIN')) out.domain = str('DIME_DOMAIN');
  if (str('DIME_HOSTNAME')) out.hostname = str('DIME_HOSTNAME');
  if (str('DIME_HOST')) out.host = str('DIME_HOST');
  const bp = num('DIME_BASE_PORT', 'basePort');
  if (bp !== undefined) out.basePort = bp;
  if (str('DIME_SERVER_PASSPHRASE')) out.passphrase = str('DIME_SERVER_PASSPHRASE');
  if (str('DIME_STORE_URL')) out.store = { engine: 'postgres', connectionString: str('DIME_STORE_URL') };
  if (str('DIME_RESOLVER'))
    out.dns = {
      resolvers: str('DIME_RESOLVER')!
        .split(/[\s,]+/)
        .filter(Boolean),
    };
  if (str('DIME_RSPAMD_URL')) out.spamFilter = { rspamdUrl: str('DIME_RSPAMD_URL') };
  if (str('DIME_LOG_LEVEL')) out.log = { level: str('DIME_LOG_LEVEL') };
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; `b` wins; arrays and scalars are replaced. */
export function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    const cur = out[k];
    out[k] = isPlainObject(cur) && isPlainObject(v) ? mergeConfig(cur, v) : v;
  }
  return out;
}

/** Reads a JSON config file; BAD_CONFIG for unreadable or malformed JSON. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DimeError('BAD_CONFIG', `config: cannot read ${path}: ${(e as Error).message}`, {
      field: null,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DimeError('BAD_CONFIG', `config: ${path} is not valid JSON: ${(e as Error).message}`, {
      field: null,
    });
  }
  if (!isPlainObject(value)) throw badConfig('(top level)', 'the config file must hold a JSON object');
  return value;
}

/** Validates a merged raw config: BAD_CONFIG naming the first bad field. */
export function parseServerConfig(raw: Record<string, unknown>, dataDir: string): ServerConfig {
  const r = serverConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw badConfig(issuePath(issue.path), issue.message);
  }
  const c = r.data;
  const hostname = c.hostname ?? `mx.${c.domain}`;
  const listenPorts = {} as Record<ListenerName, number>;
  for (const l of LISTENERS) {
    const explicit = c.ports[l];
    const port =
      explicit !== undefined
        ? explicit
        : c.basePort !== undefined
          ? c.basePort + BASE_PORT_OFFSETS[l]
          : STANDARD_PORTS[l];
    if (port > 65535) throw badConfig('basePort', `${l} would be on port ${port}, above 65535`);
    listenPorts[l] = port;
  }
  if (c.queue.maxDelayMs < c.queue.initialDelayMs) {
    throw badConfig('queue.maxDelayMs', 'must not be below queue.initialDelayMs');
  }
  const abs = isAbsolute(dataDir) ? dataDir : resolve(dataDir);
  return { ...c, hostname, listenPorts, dataDir: abs };
}

/**
 * The whole configuration: `DATA/config.json` (when it exists) or `--config F`, then the
 * environment, then the flags.
 */
export function loadServerConfig(o: {
  dataDir: string;
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
}): ServerConfig {
  const env = o.env ?? process.env;
  let raw: Record<string, unknown> = {};
  const implicit = join(o.dataDir, 'config.json');
  if (o.configFile) raw = readConfigFile(o.configFile);
  else if (existsSync(implicit)) raw = readConfigFile(implicit);
  raw = mergeConfig(raw, configFromEnv(env));
  const ov = o.overrides ?? {};
  const flags: Record<string, unknown> = {
    host: ov.host,
    basePort: ov.basePort,
    domain: ov.domain,
    hostname: ov.hostname,
    ...(ov.resolvers && ov.resolvers.length > 0 ? { dns: { resolvers: ov.resolvers } } : {}),
  };
  raw = mergeConfig(raw, flags);
  return parseServerConfig(raw, o.dataDir);
}
