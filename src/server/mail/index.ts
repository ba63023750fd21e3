/**
 * Mail services of the server (issue 7): inbound SPF/DKIM/DMARC/ARC (mailauth over our resolver),
 * DKIM signing and keys, the rspamd spam-filter hook, DSN bounces and outbound SMTP delivery.
 */
export * from './authentication.js';
export * from './dsn.js';
export * from './smtp-delivery.js';
export * from './spam-filter.js';
