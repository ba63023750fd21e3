import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { type QueryType, TYPE_CODES } from './types.js';

/** EDNS0 UDP payload size we advertise (the DNS Flag Day 2020 value). */
export const DEFAULT_UDP_PAYLOAD_SIZE = 1232;

/** A query on the wire, with what an answer must echo. */
export interface PreparedQuery {
  readonly id: number;
  /** Normalized (lower case, no trailing dot). */
  readonly name: string;
  readonly type: QueryType;
  /** The whole message, for UDP (TCP adds the 2-byte length). */
  readonly wire: Buffer;
  /** The question section exactly as sent (QNAME, QTYPE, QCLASS); an answer must repeat it. */
  readonly question: Buffer;
}

/**
 * A recursive query (RD) for `name`/`type` class IN with a random ID and an EDNS0 OPT RR carrying
 * the DO bit (record.md §4 Decision: the resolver then reports AD and returns RRSIGs). CD is never
 * set: the resolver must validate. `name` must already be normalized (names.ts).
 */
export function buildQuery(
  name: string,
  type: QueryType,
  udpPayloadSize = DEFAULT_UDP_PAYLOAD_SIZE,
  id = randomInt(0, 0x10000),
): PreparedQuery {
  const wire = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
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
  // QNAME is uncompressed labels: one length byte per label plus its bytes, then the root byte.
  const qnameLength = name.split('.').reduce((n, l) => n + 1 + Buffer.byteLength(l), 0) + 1;
  const question = Buffer.from(wire.subarray(12, 12 + qnameLength + 4));
  if (question.readUInt16BE(qnameLength) !== TYPE_CODES[type]) {
    throw new Error('internal error: question section not where expected');
  }
  return { id, name, type, wire, question };
}
