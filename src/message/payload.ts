import { crypto } from '../crypto/index.js';
import { readU24, u24be } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import {
  MAX_ALIGNED_PAYLOAD,
  MAX_CHUNK_DATA,
  MINIMUM_PAYLOAD_SIZE,
  STANDARD_OVERHEAD,
  UNSUPPORTED_FLAGS,
} from './constants.js';
import { Ed25519Verifier } from './ed25519.js';

/**
 * How the encoder picks the padding (message.md §2.2). 'random' is libdime's default algorithm
 * with a random byte r; 'minimal' is the same algorithm with r = 0 (deterministic test vectors).
 */
export type PaddingMode = 'random' | 'minimal';

/**
 * Padding length P for D data bytes with libdime's default algorithm and random byte `r`:
 * s = D + 69; s < 256 → (256 − s) + 16·(r mod (⌊s/16⌋ + 1)); else 16 − (s mod 16) + 16·(r mod 16).
 * The random multiple of 16 is reduced when it would push the payload past the u24 limit (libdime
 * fails there instead, "what if the padding made it too big?").
 */
export function paddingLength(dataLen: number, r: number): number {
  if (!Number.isInteger(dataLen) || dataLen < 1) throw new DimeError('BAD_INPUT', 'chunk data is empty');
  if (dataLen > MAX_CHUNK_DATA) {
    throw new DimeError('TOO_LARGE', `chunk data of ${dataLen} bytes exceeds ${MAX_CHUNK_DATA}`);
  }
  const s = dataLen + STANDARD_OVERHEAD;
  const rr = r & 0xff;
  if (s < MINIMUM_PAYLOAD_SIZE) return MINIMUM_PAYLOAD_SIZE - s + 16 * (rr % (Math.floor(s / 16) + 1));
  const base = 16 - (s % 16);
  const room = Math.floor((MAX_ALIGNED_PAYLOAD - s - base) / 16);
  return base + 16 * Math.min(rr % 16, room);
}

/**
 * How the paddings of the chunks in one repeated section (display 67, attachments 131) relate.
 * 'equal' (default): every chunk of the section gets the payload length of the largest one.
 * libdime's reader needs this: `dmsg_section_deserialize` reads the payload length of the FIRST
 * chunk of a section for every chunk of that section (`_int_no_get_3b(in + 1)`), so it cannot parse
 * a section whose chunks differ in payload length (it fails, or overruns its chunk array).
 * 'independent': libdime's own per-chunk padding, which libdime then cannot read back.
 */
export type SectionPadding = 'equal' | 'independent';

/**
 * Padding lengths for the chunks of one section: libdime's default algorithm per chunk (random
 * byte `rs[i]`), then, for 'equal', every chunk padded up to the largest payload. The result keeps
 * every payload a multiple of 16 with P ≥ 1, which is all libdime's decoder asks of padding.
 */
export function sectionPaddingLengths(
  dataLens: readonly number[],
  rs: readonly number[],
  mode: SectionPadding,
): number[] {
  const own = dataLens.map((d, i) => paddingLength(d, rs[i] ?? 0));
  if (mode === 'independent' || dataLens.length < 2) return own;
  const payload = Math.max(...dataLens.map((d, i) => STANDARD_OVERHEAD + d + own[i]!));
  return dataLens.map((d) => payload - STANDARD_OVERHEAD - d);
}

/** The plaintext STANDARD payload: signature, header fields, data and padding. */
export interface StandardPayload {
  /** The author's Ed25519 signature over `signed`. */
  signature: Uint8Array;
  /** Bytes [64 .. payload_len): data_len, flags, pad byte, data, padding. */
  signed: Uint8Array;
  flags: number;
  padByte: number;
  data: Uint8Array;
}

/**
 * Builds and signs a STANDARD payload (message.md §2.2):
 * `sig[64] ‖ u24 data_len ‖ flags ‖ pad_byte ‖ data ‖ pad_byte × P`, the signature by the author's
 * signing key over everything after it.
 */
export function encodeStandardPayload(
  data: Uint8Array,
  flags: number,
  signingSeed: Uint8Array,
  padLen: number,
): Uint8Array {
  if (data.length < 1) throw new DimeError('BAD_INPUT', 'chunk data is empty');
  if (flags & UNSUPPORTED_FLAGS || flags < 0 || flags > 255) {
    throw new DimeError('BAD_INPUT', `chunk flags ${flags} are not supported`);
  }
  const total = STANDARD_OVERHEAD + data.length + padLen;
  if (padLen < 1 || total % 16 !== 0 || total > MAX_ALIGNED_PAYLOAD) {
    throw new DimeError('BAD_INPUT', `padding of ${padLen} bytes does not align the payload`);
  }
  const out = new Uint8Array(total);
  const padByte = padLen & 0xff;
  out.set(u24be(data.length), 64);
  out[67] = flags;
  out[68] = padByte;
  out.set(data, STANDARD_OVERHEAD);
  out.fill(padByte, STANDARD_OVERHEAD + data.length);
  out.set(crypto().ed25519Sign(signingSeed, out.subarray(64)), 0);
  return out;
}

/**
 * Checks a decrypted STANDARD payload as it streams in slices (message.md §2.2), like libdime's
 * `dmsg_chunk_data_get` but stricter: data_len ≥ 1, pad byte = P mod 256 and every padding byte
 * equal to it. A framing error after decryption means a wrong key or corrupted bytes, so it is
 * DECRYPT_FAILED; unsupported flags (1, 2, 4) are BAD_MESSAGE (reported last, as the buffered
 * decoder does). With `verifyKey`, the author's plaintext signature over bytes [64 …) is checked
 * on the way (one pass); `onData` receives the data segment in order.
 */
export class PayloadCheck {
  private pos = 0;
  private readonly head = new Uint8Array(STANDARD_OVERHEAD);
  private verifier: Ed25519Verifier | null = null;
  dataLength = -1;
  flags = 0;
  padByte = 0;

  constructor(
    readonly payloadLength: number,
    private readonly verifyKey: Uint8Array | null = null,
    private readonly onData: ((data: Uint8Array) => void) | null = null,
  ) {
    if (payloadLength < STANDARD_OVERHEAD + 1) bad('payload too short');
  }

  /** The signature field (valid once 64 bytes were given). */
  get signature(): Uint8Array {
    return this.head.subarray(0, 64);
  }

  update(plain: Uint8Array): void {
    let rest = plain;
    if (this.pos < STANDARD_OVERHEAD) {
      const n = Math.min(STANDARD_OVERHEAD - this.pos, rest.length);
      this.head.set(rest.subarray(0, n), this.pos);
      this.pos += n;
      rest = rest.subarray(n);
      if (this.pos === STANDARD_OVERHEAD) this.parseHead();
    }
    if (rest.length === 0) return;
    if (this.pos + rest.length > this.payloadLength) bad('more bytes than the payload holds');
    this.verifier?.update(rest);
    const dataEnd = STANDARD_OVERHEAD + this.dataLength;
    const start = this.pos;
    const end = start + rest.length;
    if (start < dataEnd && this.onData) this.onData(rest.subarray(0, Math.min(end, dataEnd) - start));
    for (let i = Math.max(start, dataEnd); i < end; i++) {
      if (rest[i - start] !== this.padByte) bad('padding bytes differ from the pad byte');
    }
    this.pos = end;
  }

  private parseHead(): void {
    const dataLen = readU24(this.head, 64);
    if (dataLen < 1) bad('empty data segment');
    if (STANDARD_OVERHEAD + dataLen > this.payloadLength) bad('data length runs past the payload');
    const padLen = this.payloadLength - STANDARD_OVERHEAD - dataLen;
    const padByte = this.head[68]!;
    if (padByte !== (padLen & 0xff)) bad('pad byte does not match the padding length');
    this.dataLength = dataLen;
    this.padByte = padByte;
    this.flags = this.head[67]!;
    if (this.verifyKey) {
      this.verifier = new Ed25519Verifier(this.verifyKey, this.head.slice(0, 64));
      this.verifier.update(this.head.subarray(64));
    }
  }

  /** Ends the payload: its framing is complete; the signature verdict (null: not checked). */
  finish(): { flags: number; dataLength: number; signatureValid: boolean | null } {
    if (this.pos !== this.payloadLength) bad('the payload ended early');
    if (this.flags & UNSUPPORTED_FLAGS) {
      throw new DimeError(
        'BAD_MESSAGE',
        `chunk flags ${this.flags} use an unimplemented feature (1, 2 or 4)`,
        {
          flags: this.flags,
        },
      );
    }
    return {
      flags: this.flags,
      dataLength: this.dataLength,
      signatureValid: this.verifier ? this.verifier.finish() : null,
    };
  }
}

function bad(why: string): never {
  throw new DimeError('DECRYPT_FAILED', `chunk plaintext is malformed: ${why}`);
}

/** Splits a decrypted STANDARD payload in memory and checks its framing (PayloadCheck). */
export function decodeStandardPayload(plain: Uint8Array): StandardPayload {
  const check = new PayloadCheck(plain.length);
  check.update(plain);
  const { flags, dataLength } = check.finish();
  return {
    signature: plain.subarray(0, 64),
    signed: plain.subarray(64),
    flags,
    padByte: check.padByte,
    data: plain.subarray(STANDARD_OVERHEAD, STANDARD_OVERHEAD + dataLength),
  };
}
