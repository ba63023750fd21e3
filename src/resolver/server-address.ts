import { isIP } from 'node:net';
import { DimeError } from '../errors/index.js';

export const DNS_PORT = 53;

/** One resolver the client sends queries to. */
export interface DnsServer {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /**
   * Whether its AD bit is believed (record.md §4 Decision): a loopback resolver, or one explicitly
   * configured as a trusted validating resolver. For any other resolver every answer is `insecure`.
   */
  readonly trusted: boolean;
}

/** 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/%.*$/, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  if (isIP(a) !== 6) return false;
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped !== null && mapped[1]!.startsWith('127.');
}

/**
 * Parses `IP[:PORT]`: `192.0.2.1`, `192.0.2.1:5353`, `::1`, `[::1]:5353`. A bare IPv6 address has
 * no port (its colons are the address's). `trusted` marks the resolver as a trusted validating one;
 * loopback resolvers are always trusted. Anything else is BAD_INPUT (host names are not accepted: the
 * resolver's own address cannot depend on DNS).
 */
export function parseServerAddress(spec: string, trusted = false): DnsServer {
  if (typeof spec !== 'string' || spec.length === 0) {
    throw new DimeError('BAD_INPUT', 'a resolver address must be IP[:PORT]', { resolver: spec });
  }
  let address = spec;
  let portText: string | null = null;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracket) {
    address = bracket[1]!;
    portText = bracket[2] ?? null;
  } else if ((spec.match(/:/g) ?? []).length === 1) {
    const i = spec.indexOf(':');
    address = spec.slice(0, i);
    portText = spec.slice(i + 1);
  }
  const family = isIP(address);
  if (family !== 4 && family !== 6) {
    throw new DimeError('BAD_INPUT', 'a resolver address must be an IPv4 or IPv6 address', {
      resolver: spec,
    });
  }
  if (bracket && family !== 6) {
    throw new DimeError('BAD_INPUT', 'only IPv6 addresses go in brackets', { resolver: spec });
  }
  let port = DNS_PORT;
  if (portText !== null) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new DimeError('BAD_INPUT', 'a resolver port must be 1…65535', { resolver: spec });
    }
    port = Number(portText);
  }
  return { address, port, family, trusted: trusted || isLoopbackAddress(address) };
}

/** `IP:PORT`, with brackets for IPv6. */
export function formatServer(s: Pick<DnsServer, 'address' | 'port' | 'family'>): string {
  return s.family === 6 ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`;
}
