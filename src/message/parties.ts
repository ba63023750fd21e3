import { bytesEqual } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import type { DimeKeys } from '../keys/key-file.js';
import type { SignetKind } from '../signet/field-table.js';
import { cryptoFingerprintB64 } from '../signet/fingerprint.js';
import { type Signet, signetId } from '../signet/signet.js';
import type { Actor } from './constants.js';

/**
 * The signet kinds each actor may use: users for author and recipient, orgs for the servers. An org
 * signet also authors the bounces its origin server writes (flow.md §3.2: author = the origin's
 * postmaster with the org signet).
 */
export const ACTOR_SIGNET_KINDS: Readonly<Record<Actor, readonly SignetKind[]>> = {
  author: ['user', 'org'],
  origin: ['org'],
  destination: ['org'],
  recipient: ['user'],
};

export function checkSignetKind(actor: Actor, s: Signet | undefined): Signet {
  if (!s || typeof s !== 'object' || !(s.bytes instanceof Uint8Array)) {
    throw new DimeError('BAD_INPUT', `the ${actor} signet is missing or not a parsed signet`, { actor });
  }
  const allowed = ACTOR_SIGNET_KINDS[actor];
  if (!allowed.includes(s.kind)) {
    throw new DimeError(
      'BAD_INPUT',
      `the ${actor} signet must be a ${allowed.join(' or ')} signet, not a ${s.kind}`,
      { actor },
    );
  }
  return s;
}

/** The address (users) or domain (orgs) an envelope names: given explicitly, or the signet's ID field. */
export function identityOf(actor: Actor, s: Signet, given: string | undefined): string {
  const id = given ?? signetId(s);
  if (!id) {
    throw new DimeError('BAD_INPUT', `no ${actor} identity: pass it, or use an ID-stage signet (field 254)`, {
      actor,
    });
  }
  return id;
}

const fingerprints = new WeakMap<Signet, string>();

/** The crypto fingerprint the envelope carries for this signet (computed once per parsed signet). */
export function envelopeFingerprint(s: Signet): string {
  let fp = fingerprints.get(s);
  if (fp === undefined) {
    fp = cryptoFingerprintB64(s);
    fingerprints.set(s, fp);
  }
  return fp;
}

/** Private keys must belong to the signet they act for. */
export function checkKeysMatchSignet(actor: Actor, keys: DimeKeys, s: Signet): void {
  if (!bytesEqual(keys.signingPublic, s.signingKey) || !bytesEqual(keys.encryptionPublic, s.encryptionKey)) {
    throw new DimeError('BAD_KEY', `the ${actor} keys do not belong to the ${actor} signet`, { actor });
  }
}
