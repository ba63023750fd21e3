import { toHex } from '../encoding/hex.js';
import type { ManagementRecord, RecordJson } from './types.js';

/** The record as plain JSON: the test vectors' `expect.record` shape, pok/tls in lower-case hex. */
export function recordToJson(r: ManagementRecord): RecordJson {
  return {
    version: r.version,
    pok: r.pok.map(toHex),
    tls: r.tls.map(toHex),
    policy: r.policy,
    syndicates: r.syndicates,
    dx: [...r.dx],
    exp: r.exp,
    subdomain: r.subdomain,
  };
}
