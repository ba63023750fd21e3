/**
 * DNS for DIME (record.md §1, §4, §6, §7; flow.md §2–§3): a stub resolver client with DNSSEC state,
 * management-record lookup and cache, MX/address lookups, DX host choice and the delivery policy.
 */
export { type AddressLookup, type HostAddress, lookupAddress } from './address.js';
export {
  classifyResponse,
  EDE_DNSSEC_FAILURE,
  EDE_UNREACHABLE,
  type Outcome,
} from './classify.js';
export {
  DEFAULT_ATTEMPTS,
  DEFAULT_TIMEOUT_MS,
  type DnsAbsent,
  DnsClient,
  type DnsClientOptions,
  type DnsData,
  type DnsLookup,
  type LookupProblem,
} from './client.js';
export {
  chooseDxHosts,
  DMTP_PORT,
  type DxCandidate,
  type DxHostDeps,
  type DxPlan,
  MAX_MX_HOSTS,
  SMTP_PORT,
  SUBMISSION_PORT,
} from './dx-hosts.js';
export { fetchManagementRecord, type RecordFetch } from './management-record.js';
export { lookupMx, type MxHost, type MxLookup } from './mx.js';
export { canonicalName, DX_RECORD_PREFIX, dxRecordName, isAtOrBelow, normalizeName } from './names.js';
export {
  type CertificateCheck,
  type DeliveryPolicy,
  deliveryPolicy,
  type PolicyOptions,
  type RecordOutcome,
  recordOutcome,
} from './policy.js';
export { buildQuery, DEFAULT_UDP_PAYLOAD_SIZE, type PreparedQuery } from './query.js';
export {
  type Clock,
  MAX_NEGATIVE_TTL_SECONDS,
  MAX_SOFT_TTL_SECONDS,
  ManagementRecordCache,
  type ManagementRecordLookup,
  MIN_NEGATIVE_TTL_SECONDS,
  MIN_SOFT_TTL_SECONDS,
  type RecordSource,
} from './record-cache.js';
export { parseResolvConf, RESOLV_CONF_PATH, systemResolvers } from './resolv-conf.js';
export {
  DimeResolver,
  type DimeResolverOptions,
  defaultResolver,
  isLookupError,
  lookupManagementRecord,
} from './resolver.js';
export { type DnsResponse, type MalformedReason, malformedReason, parseResponse } from './response.js';
export {
  DNS_PORT,
  type DnsServer,
  formatServer,
  isLoopbackAddress,
  parseServerAddress,
} from './server-address.js';
export {
  type ChainLink,
  DEFAULT_ORG_SIGNET_TTL_SECONDS,
  DEFAULT_SIGNET_NEGATIVE_TTL_SECONDS,
  DEFAULT_USER_SIGNET_TTL_SECONDS,
  type LocalSignetSource,
  type OrgSignetResolution,
  parseAddress,
  SignetResolver,
  type SignetResolverOptions,
  type SignetServer,
  type SignetSource,
  type SignetSubject,
  staticSignetSource,
  type UserLookupOptions,
  type UserSignetResolution,
} from './signets.js';
export * from './types.js';
