/**
 * DMTP targets for the OCSP tests: a DX whose management record has no `tls` pin (record.md §5
 * case 2: the certificate is checked against the CA and then by OCSP), and a connection that only
 * reports the certificate check.
 */

import { type DmtpClientOptions, DmtpConnection, type DmtpTarget } from '../../src/protocol/index.js';

/** `host`'s DX on port 26 for `domain`, a record with the org key `pok` and no tls pin. */
export function unpinnedTarget(
  domain: string,
  host: string,
  pok: Uint8Array,
  extra: Partial<DmtpTarget> = {},
): DmtpTarget {
  return {
    domain,
    record: { pok: [pok], tls: [] },
    dnssec: 'secure',
    host,
    port: 26,
    mode: 'dmtp',
    address: '127.0.0.1',
    ...extra,
  };
}

/** Opens a DMTP connection, quits, and returns its certificate check. */
export async function openAndQuit(t: DmtpTarget, o: DmtpClientOptions) {
  const c = await DmtpConnection.open(t, o);
  const cert = c.tls.certificate;
  await c.quit();
  return cert;
}
