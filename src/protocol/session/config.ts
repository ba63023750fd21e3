import type { SessionConfig } from './types.js';

export type ResolvedConfig = Required<SessionConfig>;

export const DEFAULT_MAX_MESSAGE_SIZE = 10 * 1024 * 1024;

/** RFC 5321 §4.5.3.1.4 and dmtp.md §1: a command line is at most 512 bytes with its CRLF. */
export const COMMAND_LINE_LIMIT = 512;
/** RFC 4954 §4: AUTH command lines and SASL responses of at least 12 288 bytes must be accepted. */
export const SASL_LINE_LIMIT = 12_288;

export function resolveConfig(c: SessionConfig): ResolvedConfig {
  const auth = c.auth ?? 'off';
  const implicitTls = c.implicitTls ?? c.protocol === 'dmtp';
  return {
    hostname: c.hostname,
    protocol: c.protocol,
    // The switch is a STARTTLS: impossible on an implicit-TLS listener.
    dmtpSwitch: c.protocol === 'smtp' && !implicitTls && (c.dmtpSwitch ?? true),
    implicitTls,
    starttls: c.starttls ?? true,
    auth,
    authRequiresTls: auth === 'required' ? true : (c.authRequiresTls ?? true),
    requireTls: c.requireTls ?? false,
    maxMessageSize: c.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    maxRecipients: c.maxRecipients ?? 100,
    maxErrors: c.maxErrors ?? 10,
    errorDelayMs: c.errorDelayMs ?? 0,
    chunking: c.chunking ?? true,
    inputHighWaterMark: c.inputHighWaterMark ?? 256 * 1024,
    idleTimeoutMs: c.idleTimeoutMs ?? 300_000,
  };
}
