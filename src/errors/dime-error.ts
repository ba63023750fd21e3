/**
 * Every failure the library reports is a DimeError with a stable code. The codes are a contract:
 * the CLI prints them, other tools match on them, and docs/errors.md lists them.
 */
export const DIME_ERROR_CODES = [
  // object vocabulary of the test vectors (../shared/vectors/README.md)
  'BAD_ARMOR',
  'TRUNCATED',
  'BAD_MAGIC',
  'LENGTH_MISMATCH',
  'UNKNOWN_FIELD',
  'FIELD_ORDER',
  'DUPLICATE_FIELD',
  'MISSING_FIELD',
  'BAD_KEY_LENGTH',
  'BAD_KEY',
  'BAD_SIGNATURE',
  'DECRYPT_FAILED',
  'BAD_RECORD',
  // DMIME messages
  'BAD_MESSAGE',
  'SIGNET_REQUIRED',
  'SIGNET_MISMATCH',
  'NOT_AUTHORIZED',
  // MIME mapping (message.md §8)
  'BAD_MIME',
  // signet chain
  'BROKEN_CUSTODY',
  'POK_MISMATCH',
  // DNS and management-record lookup (record.md §4, §6; src/resolver)
  'DNS_TEMPFAIL',
  'DNS_BOGUS',
  'DNS_MALFORMED',
  'RECORD_MISSING',
  'RECORD_INVALID',
  // DMTP client and signet resolution (src/protocol/dmtp/client.ts, src/resolver/signets.ts)
  'CONNECT_FAILED',
  'TLS_FAILED',
  'TLS_UNTRUSTED',
  'DMTP_REFUSED',
  'DMTP_PROTOCOL',
  'DMTP_TIMEOUT',
  'SIGNET_NOT_FOUND',
  'SIGNET_REVOKED',
  // STACIE
  'BAD_PASSWORD',
  'BAD_PARAMETER',
  // mail store and accounts (src/store)
  'NOT_FOUND',
  'CONFLICT',
  'QUOTA_EXCEEDED',
  'BAD_CREDENTIALS',
  'ACCOUNT_DISABLED',
  'STORE_FAILED',
  // mail server (src/server)
  'BAD_CONFIG',
  // inputs, environment
  'BAD_INPUT',
  'TOO_LARGE',
  'IO_ERROR',
  'PASSPHRASE_REQUIRED',
  'USAGE',
  'NATIVE_UNAVAILABLE',
] as const;

export type DimeErrorCode = (typeof DIME_ERROR_CODES)[number];

export class DimeError extends Error {
  readonly code: DimeErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: DimeErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(message);
    this.name = 'DimeError';
    this.code = code;
    this.context = context;
  }
}

export function isDimeError(e: unknown): e is DimeError {
  return e instanceof DimeError;
}

export function fail(code: DimeErrorCode, message: string, context?: Record<string, unknown>): never {
  throw new DimeError(code, message, context);
}
