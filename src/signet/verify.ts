import { crypto } from '../crypto/index.js';
import { toHex } from '../encoding/hex.js';
import { DimeError } from '../errors/index.js';
import { CRYPTO_SIG, CUSTODY_SIG, FULL_SIG, ID_SIG, SELF_SIG } from './field-table.js';
import { fieldWithId, orgSignetSigningKeys, type Signet } from './signet.js';

export type SignatureStatus = 'valid' | 'unchecked';

export interface VerifyOptions {
  /** The org signet whose keys signed a user signet (fields 6, 253, 255). */
  org?: Signet;
  /** POKs the org signet must carry (the DNS record's `pok=` values). */
  pok?: readonly Uint8Array[];
  /** The previous user signet, for the chain-of-custody signature (field 4). */
  previous?: Signet;
  /**
   * Check the user's own signature (field 5) of a user signet. Default true; libdime's
   * validate-all skips it, and the benchmark measures that same work.
   */
  selfSignature?: boolean;
}

export interface VerifyResult {
  kind: Signet['kind'];
  form: Signet['form'];
  stage: Signet['stage'];
  signatures: Record<string, SignatureStatus>;
  /** Every signature present was checked (none left "unchecked"). */
  complete: boolean;
  /**
   * Ids of fields no signature covers: informational fields after the last signature of a
   * crypto-stage signet. libdime (and the vectors) accept them; callers must not trust them.
   */
  unsignedFields: number[];
}

function checkSig(s: Signet, fid: number, keys: readonly Uint8Array[]): boolean {
  const f = fieldWithId(s, fid);
  if (!f) return false;
  // fields are ascending, so the signed bytes are exactly everything before the signature field
  const msg = s.payload.subarray(0, f.offset);
  const c = crypto();
  for (const k of keys) if (c.ed25519Verify(k, msg, f.data)) return true;
  return false;
}

function requireSig(s: Signet, fid: number, keys: readonly Uint8Array[], what: string): void {
  if (!checkSig(s, fid, keys)) {
    throw new DimeError('BAD_SIGNATURE', `${what} signature (field ${fid}) does not verify`, {
      fid,
      kind: s.kind,
    });
  }
}

/**
 * Verifies every signature of a signet that the given context allows, strongest chain first:
 * org: 4, 253, 255 with its own POK (pinned by `pok`); user: 5 with its own key, 6/253/255 with
 * the org's keys, 4 with the previous signet's key; SSR: 5, and 4 with the previous key.
 * Throws DimeError (BAD_SIGNATURE, POK_MISMATCH, BROKEN_CUSTODY) on the first failure.
 */
export function verifySignet(s: Signet, opts: VerifyOptions = {}): VerifyResult {
  const signatures: Record<string, SignatureStatus> = {};
  const present = (fid: number) => fieldWithId(s, fid) !== undefined;

  if (s.kind === 'org') {
    if (opts.pok && opts.pok.length > 0) {
      const c = crypto();
      if (!opts.pok.some((p) => p.length === 32 && c.timingSafeEqual(p, s.signingKey))) {
        throw new DimeError('POK_MISMATCH', 'the org signet POK is not one of the expected POKs', {
          pok: toHex(s.signingKey),
        });
      }
    }
    for (const fid of [CRYPTO_SIG.org, FULL_SIG, ID_SIG]) {
      if (!present(fid)) continue;
      requireSig(s, fid, [s.signingKey], 'organizational');
      signatures[fid] = 'valid';
    }
  } else {
    if (s.kind === 'ssr' || opts.selfSignature !== false) {
      requireSig(s, SELF_SIG, [s.signingKey], 'user');
      signatures[SELF_SIG] = 'valid';
    }
    if (s.kind === 'user') {
      const orgKeys = opts.org ? orgSignetSigningKeys(opts.org) : null;
      if (opts.org && opts.org.kind !== 'org') {
        throw new DimeError('BAD_MAGIC', 'the signet given to verify a user signet is not an org signet');
      }
      for (const fid of [CRYPTO_SIG.user, FULL_SIG, ID_SIG]) {
        if (!present(fid)) continue;
        if (orgKeys) {
          requireSig(s, fid, orgKeys, 'organizational');
          signatures[fid] = 'valid';
        } else {
          signatures[fid] = 'unchecked';
        }
      }
    }
  }

  if (s.kind !== 'org') {
    if (opts.previous) {
      if (!present(CUSTODY_SIG)) {
        throw new DimeError(
          'BROKEN_CUSTODY',
          'a previous signet was given but this one has no custody signature',
        );
      }
      requireSig(s, CUSTODY_SIG, [opts.previous.signingKey], 'chain-of-custody');
      signatures[CUSTODY_SIG] = 'valid';
    } else if (present(CUSTODY_SIG)) {
      signatures[CUSTODY_SIG] = 'unchecked';
    }
  }

  let complete = true;
  let lastSig = 0;
  for (const k in signatures) {
    if (signatures[k] !== 'valid') complete = false;
    if (Number(k) > lastSig) lastSig = Number(k);
  }
  const unsignedFields: number[] = [];
  for (const f of s.fields) if (f.id > lastSig) unsignedFields.push(f.id);
  return { kind: s.kind, form: s.form, stage: s.stage, signatures, complete, unsignedFields };
}
