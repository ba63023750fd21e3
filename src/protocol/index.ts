export * from './dmtp/client.js';
export {
  type ConnectFailure,
  isTemporaryFailure,
  type ProtocolReason,
  type UntrustedReason,
} from './dmtp/client-errors.js';
export * from './dmtp/client-reader.js';
export * from './dmtp/client-replies.js';
export * from './dmtp/client-tls.js';
export * from './dmtp/command.js';
export * from './dmtp/fingerprint.js';
export * from './dmtp/signets.js';
export * from './dmtp/tokens.js';
export * from './net/listener.js';
export * from './net/serve-connection.js';
export * from './net/tls-context.js';
export * from './session/config.js';
export * from './session/session.js';
export * from './session/types.js';
export * from './smtp/command.js';
export * from './smtp/dot-data.js';
export * from './smtp/line-reader.js';
export * from './smtp/reply.js';
export * from './smtp/sasl.js';
export * from './smtp/syntax.js';
export * from './tls/ocsp.js';
export * from './tls/self-signed.js';
