/**
 * Management record (record.md): pure functions. certificateToDer (node:crypto X509Certificate) is
 * not re-exported here; import it from './certificate.js'.
 */
export { buildRecordText, type RecordContent } from './build.js';
export { chooseRecord } from './choose.js';
export { sameRecord } from './equal.js';
export { recordToJson } from './json.js';
export * from './limits.js';
export { parseRecord } from './parse.js';
export {
  RECORD_FAILURE_REASONS,
  type RecordFailureReason,
  recordError,
  recordFailureReason,
} from './record-error.js';
export {
  tlsCertificateDigest,
  tlsCertificateSignature,
  verifyTlsBinding,
  verifyTlsBindingDigest,
} from './tls.js';
export * from './types.js';
export { quoteCharacterString, zoneLine, zoneStrings } from './zone.js';
