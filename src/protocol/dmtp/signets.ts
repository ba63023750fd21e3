/**
 * SGNT / HIST / VRFY answers from a signet chain (dmtp.md §3.1, §8, §9; README "SGNT signet form"):
 * the chain is oldest first, the last element is current. A command fingerprint may be the crypto,
 * full or ID fingerprint of a signet (all three are matched). Signets go out in their full split
 * (fields up to 253) when they have field 253, else as stored, in padded standard base64.
 */

import { toBase64, toBase64Unpadded } from '../../encoding/base64.js';
import { splitSignet } from '../../signet/build.js';
import { FULL_SIG } from '../../signet/field-table.js';
import { fingerprint } from '../../signet/fingerprint.js';
import type { Signet } from '../../signet/signet.js';
import { type Reply, reply } from '../smtp/reply.js';
import type { SignetTarget } from './command.js';

const FINGERPRINTS = new WeakMap<Signet, ReadonlySet<string>>();

/** Unpadded base64 crypto, full and ID fingerprints of a signet (cached per object). */
export function signetFingerprints(s: Signet): ReadonlySet<string> {
  let set = FINGERPRINTS.get(s);
  if (!set) {
    const fps = new Set<string>();
    for (const kind of ['crypto', 'full', 'id'] as const) {
      const fp = fingerprint(s, kind);
      if (fp) fps.add(toBase64Unpadded(fp));
    }
    set = fps;
    FINGERPRINTS.set(s, set);
  }
  return set;
}

/** Index of the chain element matching `fp`, or -1. */
export function findInChain(chain: readonly Signet[], fp: string): number {
  return chain.findIndex((s) => signetFingerprints(s).has(fp));
}

/** The binary form SGNT and HIST serve (libdime's resolver accepts only SS_FULL, D12). */
export function servedSignetBytes(s: Signet): Uint8Array {
  return s.fields.some((f) => f.id === FULL_SIG) ? splitSignet(s, 'full').bytes : s.bytes;
}

export function signetB64(s: Signet): string {
  return toBase64(servedSignetBytes(s));
}

function name(t: SignetTarget): string {
  return t.kind === 'user' ? t.address : t.domain;
}

function unknown(t: SignetTarget): Reply {
  return reply(550, `no signet for ${name(t)}`);
}

function notInChain(t: SignetTarget): Reply {
  return reply(551, `fingerprint is not in the signet chain of ${name(t)}`);
}

/** `SGNT <name> [fp]`: the current signet, or the one matching fp. */
export function sgntReply(target: SignetTarget, chain: readonly Signet[] | null, fp: string | null): Reply {
  if (!chain || chain.length === 0) return unknown(target);
  const at = fp === null ? chain.length - 1 : findInChain(chain, fp);
  if (at < 0) return notInChain(target);
  return reply(250, `OK [${signetB64(chain[at]!)}]`);
}

/** `HIST <name> [start] [stop]`: start (inclusive) to stop or the current signet, oldest first. */
export function histReply(
  target: SignetTarget,
  chain: readonly Signet[] | null,
  start: string | null,
  stop: string | null,
): Reply {
  if (!chain || chain.length === 0) return unknown(target);
  const from = start === null ? 0 : findInChain(chain, start);
  if (from < 0) return notInChain(target);
  const to = stop === null ? chain.length - 1 : findInChain(chain, stop);
  if (to < 0 || to < from) return notInChain(target);
  return reply(250, ...chain.slice(from, to + 1).map((s) => `[${signetB64(s)}]`));
}

/** `VRFY <name> [fp]`: `CURRENT`, or `UPDATE [<crypto fp of the current signet>]`. */
export function vrfyReply(target: SignetTarget, chain: readonly Signet[] | null, fp: string | null): Reply {
  if (fp === null) return reply(501, 'VRFY needs a fingerprint');
  if (!chain || chain.length === 0) return unknown(target);
  const at = findInChain(chain, fp);
  if (at < 0) return notInChain(target);
  const current = chain[chain.length - 1]!;
  if (at === chain.length - 1) return reply(250, 'CURRENT');
  const cryptoFp = fingerprint(current, 'crypto');
  return reply(250, `UPDATE [${cryptoFp ? toBase64Unpadded(cryptoFp) : ''}]`);
}
