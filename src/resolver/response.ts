import { isIPv4, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import { DimeError } from '../errors/index.js';
import { canonicalName, isAtOrBelow } from './names.js';
import type { PreparedQuery } from './query.js';
import type { QueryType, RData } from './types.js';

/** EDNS option code of Extended DNS Errors (RFC 8914). */
export const EDNS_OPTION_EDE = 15;
/** Longest CNAME chain followed inside one answer. */
export const MAX_CNAME_CHAIN = 8;
/** RFC 2181 §8: a TTL with the top bit set is read as 0. */
const MAX_TTL = 0x7fffffff;

const OPCODE_MASK = 0x7800;
const FLAG_QR = 0x8000;
const FLAG_TC = 0x0200;
const FLAG_RA = 0x0080;
const FLAG_AD = 0x0020;

/** A response that matched its query and was decoded; nothing in it is interpreted yet (classify.ts). */
export interface DnsResponse {
  /** Response code including the EDNS extended bits (RFC 6891). */
  readonly rcode: number;
  readonly truncated: boolean;
  /** The AD bit as received; whether it is believed depends on the resolver (classify.ts). */
  readonly authenticated: boolean;
  readonly recursionAvailable: boolean;
  /** Answer RRs of the query type owned by canonicalName, in answer order. */
  readonly records: readonly RData[];
  /** Where the CNAME chain starting at the query name ends (the query name when there is none). */
  readonly canonicalName: string;
  /** Smallest TTL of `records` and of the CNAMEs followed, in seconds; null without records. */
  readonly ttl: number | null;
  /** RFC 2308 negative-caching TTL from an in-bailiwick SOA in the authority section, or null. */
  readonly negativeTtl: number | null;
  /** Extended DNS Error info codes (RFC 8914), in order. */
  readonly ede: readonly number[];
  /** Whether the response carried an OPT RR. */
  readonly edns: boolean;
}

/** Why a datagram was not taken as the answer; `mismatch` ones may be spoofed or stray and are skipped. */
export type MalformedReason =
  | 'short'
  | 'id'
  | 'not_response'
  | 'question'
  | 'opcode'
  | 'decode'
  | 'opt'
  | 'cname'
  | 'rdata';

const MISMATCH: ReadonlySet<MalformedReason> = new Set(['id', 'not_response', 'question']);

function malformed(
  reason: MalformedReason,
  message: string,
  context: Record<string, unknown> = {},
): DimeError {
  return new DimeError('DNS_MALFORMED', message, { ...context, reason, mismatch: MISMATCH.has(reason) });
}

/** The `reason` of a DNS_MALFORMED error, or null. */
export function malformedReason(e: unknown): MalformedReason | null {
  if (!(e instanceof DimeError) || e.code !== 'DNS_MALFORMED') return null;
  return typeof e.context.reason === 'string' ? (e.context.reason as MalformedReason) : null;
}

function asciiLower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
}

/** The response repeats the question section byte for byte (names compared case-insensitively). */
function echoesQuestion(wire: Uint8Array, question: Uint8Array): boolean {
  if (wire.length < 12 + question.length) return false;
  for (let i = 0; i < question.length; i++) {
    if (asciiLower(wire[12 + i]!) !== asciiLower(question[i]!)) return false;
  }
  return true;
}

function ttlOf(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TTL ? v : 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

interface DecodedRR {
  name?: unknown;
  type?: unknown;
  class?: unknown;
  ttl?: unknown;
  data?: unknown;
  extendedRcode?: unknown;
  options?: unknown;
}

function rrList(v: unknown): DecodedRR[] {
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is DecodedRR => typeof x === 'object' && x !== null);
}

function nameOf(rr: DecodedRR): string | null {
  return typeof rr.name === 'string' ? canonicalName(rr.name) : null;
}

function toRData(type: QueryType, data: unknown): RData {
  switch (type) {
    case 'TXT': {
      const parts = Array.isArray(data) ? data : [data];
      const strings: string[] = [];
      for (const p of parts) {
        if (Buffer.isBuffer(p)) strings.push(utf8.decode(p));
        else if (typeof p === 'string') strings.push(p);
        else throw malformed('rdata', 'TXT RDATA is not a list of character-strings');
      }
      return { type: 'TXT', strings };
    }
    case 'MX': {
      const d = data as { preference?: unknown; exchange?: unknown } | null;
      if (
        typeof d !== 'object' ||
        d === null ||
        typeof d.exchange !== 'string' ||
        typeof d.preference !== 'number' ||
        !Number.isInteger(d.preference) ||
        d.preference < 0 ||
        d.preference > 0xffff
      ) {
        throw malformed('rdata', 'MX RDATA is not a preference and a name');
      }
      return { type: 'MX', preference: d.preference, exchange: canonicalName(d.exchange) };
    }
    case 'A':
    case 'AAAA': {
      const ok = typeof data === 'string' && (type === 'A' ? isIPv4(data) : isIPv6(data));
      if (!ok) throw malformed('rdata', `${type} RDATA is not an address`);
      return { type, address: data as string };
    }
  }
}

/**
 * Reads a datagram (or TCP message) as the answer to `query`. Checks, in order: header present,
 * same ID, QR set, opcode QUERY, exactly one question that repeats ours byte for byte (names
 * case-insensitively). A truncated answer (TC) is returned at that point, undecoded. Then the whole
 * message is decoded (dns-packet); at most one OPT RR; the CNAME chain from the query name is
 * followed inside the answer section (at most 8 links, no loops, one CNAME per name), and only RRs
 * of class IN owned by a name of that chain are used: everything else in the answer, authority and
 * additional sections is ignored (bailiwick sanity), except the SOA of an enclosing zone for the
 * negative TTL and the OPT RR for the extended RCODE and Extended DNS Errors.
 *
 * Throws only DimeError DNS_MALFORMED, with `context.reason` (MalformedReason) and
 * `context.mismatch` (true for a message that is not an answer to this query at all).
 */
export function parseResponse(query: PreparedQuery, wire: Uint8Array): DnsResponse {
  if (wire.length < 12) throw malformed('short', 'DNS message shorter than its header');
  const buf = Buffer.isBuffer(wire) ? wire : Buffer.from(wire.buffer, wire.byteOffset, wire.length);
  if (buf.readUInt16BE(0) !== query.id) throw malformed('id', 'DNS answer ID does not match the query');
  const flags = buf.readUInt16BE(2);
  if ((flags & FLAG_QR) === 0) throw malformed('not_response', 'DNS message is not a response');
  if (buf.readUInt16BE(4) !== 1 || !echoesQuestion(buf, query.question)) {
    throw malformed('question', 'DNS answer does not repeat the question');
  }
  if ((flags & OPCODE_MASK) !== 0) throw malformed('opcode', 'DNS answer opcode is not QUERY');

  const header = {
    rcode: flags & 0x0f,
    authenticated: (flags & FLAG_AD) !== 0,
    recursionAvailable: (flags & FLAG_RA) !== 0,
  };
  if ((flags & FLAG_TC) !== 0) {
    return {
      ...header,
      truncated: true,
      records: [],
      canonicalName: query.name,
      ttl: null,
      negativeTtl: null,
      ede: [],
      edns: false,
    };
  }

  // Counts that cannot fit are refused before decoding: dns-packet would allocate arrays of those
  // sizes (up to 4 × 65 535 slots) for every such datagram. A question takes ≥ 5 bytes, an RR ≥ 11.
  const rrCount = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  if (12 + 5 + rrCount * 11 > buf.length) {
    throw malformed('decode', 'DNS answer has more records than bytes', { rrCount, length: buf.length });
  }

  let packet: ReturnType<typeof dnsPacket.decode>;
  try {
    packet = dnsPacket.decode(buf);
  } catch (e) {
    throw malformed('decode', 'DNS answer cannot be decoded', { cause: String(e) });
  }

  // EDNS: extended RCODE and Extended DNS Errors.
  const opts = rrList(packet.additionals).filter((rr) => rr.type === 'OPT');
  if (opts.length > 1) throw malformed('opt', 'DNS answer has more than one OPT RR');
  let rcode = header.rcode;
  const ede: number[] = [];
  const opt = opts[0];
  if (opt !== undefined) {
    const ext = typeof opt.extendedRcode === 'number' ? opt.extendedRcode & 0xff : 0;
    rcode |= ext << 4;
    for (const o of Array.isArray(opt.options) ? opt.options : []) {
      const option = o as { code?: unknown; data?: unknown } | null;
      if (option?.code === EDNS_OPTION_EDE && Buffer.isBuffer(option.data) && option.data.length >= 2) {
        ede.push(option.data.readUInt16BE(0));
      }
    }
  }

  // Answer section: follow the CNAME chain from the query name, keep the RRs of the query type.
  const answers = rrList(packet.answers).filter((rr) => rr.class === 'IN');
  let current = query.name;
  let ttl = Number.POSITIVE_INFINITY;
  const chain = new Set([current]);
  for (;;) {
    const here = answers.filter((rr) => nameOf(rr) === current);
    if (here.some((rr) => rr.type === query.type)) break;
    const cnames = here.filter((rr) => rr.type === 'CNAME');
    if (cnames.length === 0) break;
    const targets = new Set(cnames.map((rr) => (typeof rr.data === 'string' ? canonicalName(rr.data) : '')));
    const target = [...targets][0]!;
    if (targets.size !== 1 || target === '') throw malformed('cname', 'several or empty CNAMEs at one name');
    if (chain.has(target)) throw malformed('cname', 'CNAME loop in the answer');
    if (chain.size > MAX_CNAME_CHAIN) throw malformed('cname', 'CNAME chain too long');
    for (const rr of cnames) ttl = Math.min(ttl, ttlOf(rr.ttl));
    chain.add(target);
    current = target;
  }
  const records: RData[] = [];
  for (const rr of answers) {
    if (rr.type !== query.type || nameOf(rr) !== current) continue;
    records.push(toRData(query.type, rr.data));
    ttl = Math.min(ttl, ttlOf(rr.ttl));
  }

  // Negative TTL (RFC 2308 §5): min(SOA TTL, SOA MINIMUM) of a zone enclosing the final name.
  let negativeTtl: number | null = null;
  for (const rr of rrList(packet.authorities)) {
    if (rr.type !== 'SOA' || rr.class !== 'IN') continue;
    const zone = nameOf(rr);
    if (zone === null || !isAtOrBelow(current, zone)) continue;
    const minimum = (rr.data as { minimum?: unknown } | null)?.minimum;
    const n = Math.min(ttlOf(rr.ttl), ttlOf(minimum));
    negativeTtl = negativeTtl === null ? n : Math.min(negativeTtl, n);
  }

  return {
    ...header,
    rcode,
    truncated: false,
    records,
    canonicalName: current,
    ttl: records.length > 0 ? ttl : null,
    negativeTtl,
    ede,
    edns: opt !== undefined,
  };
}
