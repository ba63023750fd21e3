import { performance } from 'node:perf_hooks';
import { DimeError } from '../errors/index.js';
import { classifyResponse, type Outcome } from './classify.js';
import { normalizeName } from './names.js';
import { buildQuery, DEFAULT_UDP_PAYLOAD_SIZE } from './query.js';
import { systemResolvers } from './resolv-conf.js';
import { parseResponse } from './response.js';
import { type DnsServer, formatServer, parseServerAddress } from './server-address.js';
import { tcpExchange } from './tcp.js';
import type { QueryType, RDataOf, Transport, UsableDnssecState } from './types.js';
import { udpExchange } from './udp.js';

/** Total time one lookup may take, retries and TCP included, before it is a temporary failure. */
export const DEFAULT_TIMEOUT_MS = 1800;
/** Rounds over the resolver list. */
export const DEFAULT_ATTEMPTS = 3;

export interface DnsClientOptions {
  /** Resolvers as `IP[:PORT]` (server-address.ts); default: the `nameserver`s of resolv.conf. */
  readonly servers?: readonly string[];
  /**
   * The configured resolvers are trusted validating resolvers: their AD bit is believed. Without it
   * only loopback resolvers are trusted (record.md §4 Decision).
   */
  readonly trusted?: boolean;
  /** Whole budget of one lookup in ms (default 1800, so a failure is reported within 2 s). */
  readonly timeoutMs?: number;
  /** Rounds over the resolvers (default 3); each round doubles the per-try timeout. */
  readonly attempts?: number;
  /** EDNS0 UDP payload size advertised (default 1232); larger answers come truncated, then over TCP. */
  readonly udpPayloadSize?: number;
  /** resolv.conf to read when `servers` is not given. */
  readonly resolvConfPath?: string;
}

interface LookupBase<T extends QueryType> {
  /** The name asked for, normalized. */
  readonly name: string;
  readonly type: T;
  readonly dnssec: UsableDnssecState;
  /** Which resolver answered (`IP:PORT`). */
  readonly server: string;
  readonly transport: Transport;
}

export interface DnsData<T extends QueryType> extends LookupBase<T> {
  readonly status: 'data';
  readonly records: readonly RDataOf<T>[];
  /** Owner of the records (the end of a CNAME chain). */
  readonly canonicalName: string;
  /** Seconds. */
  readonly ttl: number;
}

export interface DnsAbsent<T extends QueryType> extends LookupBase<T> {
  readonly status: 'absent';
  /** NXDOMAIN (the name does not exist) rather than NODATA (no RR of this type). */
  readonly nxdomain: boolean;
  /** Seconds, from the zone's SOA, or null when the answer had none. */
  readonly negativeTtl: number | null;
}

export type DnsLookup<T extends QueryType> = DnsData<T> | DnsAbsent<T>;

/** One thing that went wrong on the way to a temporary failure (DNS_TEMPFAIL `context.problems`). */
export interface LookupProblem {
  readonly server: string;
  readonly transport: Transport;
  readonly reason: string;
  readonly detail?: string;
}

type Attempt = { outcome: Outcome; transport: Transport };

/**
 * A stub resolver client (record.md §4): UDP with TCP fallback on truncation, EDNS0 with DO, random
 * IDs and source ports, answers checked against the query (response.ts), retries across resolvers
 * with doubling timeouts inside one total budget.
 *
 * `lookup` resolves to data or absent (NXDOMAIN/NODATA) and throws DimeError:
 * * DNS_BOGUS — a resolver answered SERVFAIL (DNSSEC validation failure; fatal, never retried);
 * * DNS_TEMPFAIL — no usable answer within the budget (timeouts, network errors, REFUSED, …);
 * * BAD_INPUT — the name is not a valid domain name.
 */
export class DnsClient {
  readonly servers: readonly DnsServer[];
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly udpPayloadSize: number;

  constructor(options: DnsClientOptions = {}) {
    const specs = options.servers ?? systemResolvers(options.resolvConfPath);
    if (specs.length === 0) throw new DimeError('BAD_INPUT', 'at least one resolver address is needed');
    this.servers = specs.map((s) => parseServerAddress(s, options.trusted === true));
    this.timeoutMs = positiveInteger(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.attempts = positiveInteger(options.attempts, DEFAULT_ATTEMPTS, 'attempts');
    this.udpPayloadSize = positiveInteger(options.udpPayloadSize, DEFAULT_UDP_PAYLOAD_SIZE, 'udpPayloadSize');
    if (this.udpPayloadSize < 512 || this.udpPayloadSize > 65535) {
      throw new DimeError('BAD_INPUT', 'udpPayloadSize must be 512…65535');
    }
  }

  async lookup<T extends QueryType>(name: string, type: T): Promise<DnsLookup<T>> {
    const qname = normalizeName(name, 'name');
    const started = performance.now();
    const deadline = started + this.timeoutMs;
    const problems: LookupProblem[] = [];
    const firstTry = Math.max(50, Math.floor(this.timeoutMs / 3));

    for (let round = 0; round < this.attempts; round++) {
      for (const server of this.servers) {
        const remaining = deadline - performance.now();
        if (remaining < 1) return this.tempfail(qname, type, problems, started);
        const budget = Math.max(1, Math.round(Math.min(remaining, firstTry * 2 ** round)));
        let attempt: Attempt;
        try {
          attempt = await this.attempt(server, qname, type, budget, deadline);
        } catch (e) {
          if (!(e instanceof DimeError) || (e.code !== 'DNS_TEMPFAIL' && e.code !== 'DNS_MALFORMED')) throw e;
          const skipped = Array.isArray(e.context.skipped) ? e.context.skipped : [];
          problems.push({
            server: formatServer(server),
            transport: e.context.transport === 'tcp' ? 'tcp' : 'udp',
            reason: String(e.context.reason ?? e.code),
            detail: skipped.length > 0 ? `${e.message}; skipped datagrams: ${skipped.join(', ')}` : e.message,
          });
          continue;
        }
        const { outcome, transport } = attempt;
        const base = { name: qname, type, server: formatServer(server), transport };
        switch (outcome.kind) {
          case 'data':
            return {
              ...base,
              status: 'data',
              records: outcome.records as readonly RDataOf<T>[],
              canonicalName: outcome.canonicalName,
              ttl: outcome.ttl,
              dnssec: outcome.dnssec,
            };
          case 'absent':
            return {
              ...base,
              status: 'absent',
              nxdomain: outcome.nxdomain,
              negativeTtl: outcome.negativeTtl,
              dnssec: outcome.dnssec,
            };
          case 'bogus':
            throw new DimeError('DNS_BOGUS', `DNSSEC validation failed for ${qname} ${type}`, {
              name: qname,
              type,
              server: base.server,
              ede: outcome.ede,
            });
          case 'retry':
            problems.push({
              server: base.server,
              transport,
              reason: `rcode ${outcome.rcode}`,
              detail: outcome.why,
            });
            break;
        }
      }
    }
    return this.tempfail(qname, type, problems, started);
  }

  private async attempt(
    server: DnsServer,
    name: string,
    type: QueryType,
    budget: number,
    deadline: number,
  ): Promise<Attempt> {
    const query = buildQuery(name, type, this.udpPayloadSize);
    let response = await udpExchange(server, query.wire, budget, (m) => parseResponse(query, m));
    let transport: Transport = 'udp';
    if (response.truncated) {
      transport = 'tcp';
      const remaining = Math.max(1, Math.round(deadline - performance.now()));
      const message = await tcpExchange(server, query.wire, remaining);
      try {
        response = parseResponse(query, message);
      } catch (e) {
        throw tagTcp(e); // a DNS_MALFORMED over TCP ends this try; the caller records it
      }
      if (response.truncated) {
        throw new DimeError('DNS_MALFORMED', 'answer truncated over TCP', {
          reason: 'truncated',
          transport: 'tcp',
        });
      }
    }
    return { outcome: classifyResponse(response, server.trusted), transport };
  }

  private tempfail(name: string, type: QueryType, problems: LookupProblem[], started: number): never {
    const elapsedMs = Math.round(performance.now() - started);
    throw new DimeError('DNS_TEMPFAIL', `no usable answer for ${name} ${type} (${problems.length} tries)`, {
      name,
      type,
      elapsedMs,
      problems,
    });
  }
}

function tagTcp(e: unknown): unknown {
  if (e instanceof DimeError) return new DimeError(e.code, e.message, { ...e.context, transport: 'tcp' });
  return e;
}

function positiveInteger(v: number | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v <= 0) throw new DimeError('BAD_INPUT', `${what} must be a positive integer`);
  return v;
}
