import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export const RESOLV_CONF_PATH = '/etc/resolv.conf';

/** glibc's limit: only the first three `nameserver` lines count. */
const MAX_NAMESERVERS = 3;

/** The `nameserver` addresses of resolv.conf text, in order (at most three); bad lines are skipped. */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)$/.exec(line);
    if (!m) continue;
    const address = m[1]!;
    if (isIP(address.replace(/%.*$/, '')) === 0) continue;
    // IPv6 addresses are written bare here; bracket them so parseServerAddress reads no port.
    out.push(isIP(address.replace(/%.*$/, '')) === 6 ? `[${address}]` : address);
    if (out.length === MAX_NAMESERVERS) break;
  }
  return out;
}

/**
 * The system's resolvers. Like glibc, a missing file or one without a usable `nameserver` line
 * means the local resolver, 127.0.0.1.
 */
export function systemResolvers(path = RESOLV_CONF_PATH): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return ['127.0.0.1'];
  }
  const servers = parseResolvConf(text);
  return servers.length > 0 ? servers : ['127.0.0.1'];
}
