/**
 * The DNS function mailauth calls (its `resolver` option), built on our DnsClient (src/resolver) so
 * the configured `--resolver IP[:PORT]` applies, every answer is checked against its query, and a
 * failed lookup is a temporary failure within the client's budget (1.8 s by default).
 *
 * mailauth expects node:dns `resolve()` semantics: TXT → string[][] (the character-strings of each
 * RR), MX → { exchange, priority }[], A/AAAA/PTR → string[]; a failure is an Error whose `code` is
 * ENOTFOUND (NXDOMAIN), ENODATA (no RR of that type), ETIMEOUT (no usable answer: SPF, DKIM and
 * DMARC make it a temperror) or ESERVFAIL (DNSSEC bogus: also a temperror there).
 *
 * PTR is not a type DnsClient asks for (it speaks TXT, MX, A, AAAA), so PTR queries (the deprecated
 * SPF `ptr` mechanism) are sent here with dns-packet over the client's own UDP/TCP exchange
 * functions, to the same servers, within the same budget.
 */
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import dnsPacket from 'dns-packet';
import { DimeError } from '../../errors/index.js';
import { DnsClient, type DnsClientOptions, normalizeName } from '../../resolver/index.js';
import type { DnsServer } from '../../resolver/server-address.js';
import { tcpExchange } from '../../resolver/tcp.js';
import { udpExchange } from '../../resolver/udp.js';

/** One MX as node:dns reports it. */
export interface MailauthMx {
  exchange: string;
  priority: number;
}

/** What a lookup resolves to (node:dns shapes). */
export type MailauthDnsAnswer = string[][] | string[] | MailauthMx[];

/**
 * A resolver function compatible with mailauth's `resolver` option:
 * `(name, rrtype) => Promise<answer>`, rejecting with an Error carrying a node:dns style `code`.
 */
export type MailauthDnsResolver = (name: string, rrtype: string) => Promise<MailauthDnsAnswer>;

/** The node:dns error codes this adapter produces. */
export type MailauthDnsErrorCode = 'ENOTFOUND' | 'ENODATA' | 'ETIMEOUT' | 'ESERVFAIL' | 'ENOTIMP';

/** A failed lookup as mailauth sees it: an Error with `code`, `hostname` and `rrtype`. */
export interface MailauthDnsError extends Error {
  code: MailauthDnsErrorCode;
  hostname: string;
  rrtype: string;
}

/** Whether a code means "try again later" (as opposed to "the record does not exist"). */
export function isTemporaryDnsCode(code: string | undefined): boolean {
  return code === 'ETIMEOUT' || code === 'ESERVFAIL' || code === 'ENOTIMP';
}

export function isMailauthDnsError(e: unknown): e is MailauthDnsError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && 'rrtype' in e;
}

function dnsError(code: MailauthDnsErrorCode, hostname: string, rrtype: string, cause?: unknown) {
  const e = new Error(`${code} ${hostname} ${rrtype}`, cause === undefined ? undefined : { cause });
  return Object.assign(e, { code, hostname, rrtype }) as MailauthDnsError;
}

/**
 * The mailauth resolver over `client` (a DnsClient), or over a new DnsClient made from
 * `DnsClientOptions` (`servers: ['IP[:PORT]']` is what `--resolver` sets; without servers the
 * system's resolv.conf is used).
 */
export function createMailauthResolver(client: DnsClient | DnsClientOptions = {}): MailauthDnsResolver {
  const dns = client instanceof DnsClient ? client : new DnsClient(client);
  return async (name: string, rrtype: string): Promise<MailauthDnsAnswer> => {
    const type = String(rrtype).toUpperCase();
    let qname: string;
    try {
      qname = normalizeName(String(name));
    } catch (e) {
      // No such name can exist in the DNS: nothing is asked.
      throw dnsError('ENOTFOUND', String(name), type, e);
    }
    if (type === 'PTR') return lookupPtr(dns, qname);
    if (type !== 'TXT' && type !== 'MX' && type !== 'A' && type !== 'AAAA') {
      throw dnsError('ENOTIMP', qname, type);
    }
    let answer: Awaited<ReturnType<DnsClient['lookup']>>;
    try {
      answer = await dns.lookup(qname, type);
    } catch (e) {
      throw dnsError(toCode(e), qname, type, e);
    }
    if (answer.status === 'absent') throw dnsError(answer.nxdomain ? 'ENOTFOUND' : 'ENODATA', qname, type);
    const out: MailauthDnsAnswer = [];
    for (const r of answer.records) {
      if (r.type === 'TXT') (out as string[][]).push([...r.strings]);
      else if (r.type === 'MX') {
        // node:dns reports a null MX (RFC 7505) as the empty exchange; mailauth skips it.
        (out as MailauthMx[]).push({
          exchange: r.exchange === '.' ? '' : r.exchange,
          priority: r.preference,
        });
      } else (out as string[]).push(r.address);
    }
    return out;
  };
}

function toCode(e: unknown): MailauthDnsErrorCode {
  if (e instanceof DimeError) {
    if (e.code === 'DNS_BOGUS') return 'ESERVFAIL';
    if (e.code === 'BAD_INPUT') return 'ENOTFOUND';
  }
  return 'ETIMEOUT';
}

// --- PTR -----------------------------------------------------------------------------------------

type PtrOutcome =
  | { kind: 'data'; names: string[] }
  | { kind: 'absent'; nxdomain: boolean }
  | { kind: 'bogus' }
  | { kind: 'retry' }
  | { kind: 'truncated' };

class Mismatch extends Error {}

/** PTR names of `qname` (an in-addr.arpa/ip6.arpa name), asked like DnsClient.lookup asks. */
async function lookupPtr(client: DnsClient, qname: string): Promise<string[]> {
  const deadline = performance.now() + client.timeoutMs;
  const firstTry = Math.max(50, Math.floor(client.timeoutMs / 3));
  let lastError: unknown;
  for (let round = 0; round < client.attempts; round++) {
    for (const server of client.servers) {
      const remaining = deadline - performance.now();
      if (remaining < 1) throw dnsError('ETIMEOUT', qname, 'PTR', lastError);
      const budget = Math.max(1, Math.round(Math.min(remaining, firstTry * 2 ** round)));
      let outcome: PtrOutcome;
      try {
        outcome = await ptrAttempt(server, qname, budget, deadline, client.udpPayloadSize);
      } catch (e) {
        lastError = e;
        continue;
      }
      if (outcome.kind === 'data') return outcome.names;
      if (outcome.kind === 'absent') throw dnsError(outcome.nxdomain ? 'ENOTFOUND' : 'ENODATA', qname, 'PTR');
      if (outcome.kind === 'bogus') throw dnsError('ESERVFAIL', qname, 'PTR');
    }
  }
  throw dnsError('ETIMEOUT', qname, 'PTR', lastError);
}

async function ptrAttempt(
  server: DnsServer,
  qname: string,
  budget: number,
  deadline: number,
  udpPayloadSize: number,
): Promise<PtrOutcome> {
  const id = randomInt(0, 0x10000);
  const wire = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'PTR', name: qname, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: dnsPacket.DNSSEC_OK,
        flag_do: true,
        options: [],
      },
    ],
  });
  const accept = (m: Buffer): PtrOutcome => {
    try {
      return readPtrAnswer(m, id, qname);
    } catch (e) {
      if (e instanceof Mismatch) {
        // udpExchange skips a datagram that throws DNS_MALFORMED (stray or spoofed) and keeps waiting.
        throw new DimeError('DNS_MALFORMED', e.message, { reason: 'question', mismatch: true });
      }
      throw e;
    }
  };
  const first = await udpExchange(server, wire, budget, accept);
  if (first.kind !== 'truncated') return first;
  const remaining = Math.max(1, Math.round(deadline - performance.now()));
  const viaTcp = accept(await tcpExchange(server, wire, remaining));
  if (viaTcp.kind === 'truncated') throw new Error('PTR answer truncated over TCP');
  return viaTcp;
}

function readPtrAnswer(m: Buffer, id: number, qname: string): PtrOutcome {
  if (m.length < 12 || m.readUInt16BE(0) !== id) throw new Mismatch('PTR answer ID does not match');
  let p: ReturnType<typeof dnsPacket.decode>;
  try {
    p = dnsPacket.decode(m);
  } catch {
    throw new Mismatch('PTR answer does not decode');
  }
  const q = p.questions?.[0];
  if (p.type !== 'response' || p.questions?.length !== 1 || q?.type !== 'PTR' || lower(q.name) !== qname) {
    throw new Mismatch('PTR answer does not repeat the question');
  }
  if (p.flag_tc) return { kind: 'truncated' };
  const rcode = (p.flags ?? 0) & 0x0f;
  if (rcode === 2) return { kind: 'bogus' };
  if (rcode === 3) return { kind: 'absent', nxdomain: true };
  if (rcode !== 0) return { kind: 'retry' };
  // Follow a CNAME chain (RFC 2317 classless delegation) inside the answer.
  const answers = (p.answers ?? []).flatMap((a) =>
    a.type !== 'OPT' && (a.class === 'IN' || a.class === undefined) && typeof a.data === 'string'
      ? [{ type: a.type, name: lower(a.name), data: lower(a.data) }]
      : [],
  );
  let current = qname;
  for (let i = 0; i < 8; i++) {
    const cname = answers.find((a) => a.type === 'CNAME' && a.name === current);
    if (!cname) break;
    current = cname.data;
  }
  const names = answers.filter((a) => a.type === 'PTR' && a.name === current).map((a) => a.data);
  return names.length > 0 ? { kind: 'data', names } : { kind: 'absent', nxdomain: false };
}

function lower(name: string): string {
  const n = name.toLowerCase();
  return n.length > 1 && n.endsWith('.') ? n.slice(0, -1) : n;
}
