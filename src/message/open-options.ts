import { DimeError } from '../errors/index.js';
import type { Signet } from '../signet/signet.js';
import { ACTORS, type Actor } from './constants.js';
import { checkSignetKind, envelopeFingerprint } from './parties.js';

export type MessageSignets = Partial<Record<Actor, Signet>>;

export interface OpenOptions {
  actor: Actor;
  /** The actor's private keys; only the secp256k1 encryption key is used. */
  keys: { encryptionPrivate: Uint8Array };
  signets?: MessageSignets;
  /**
   * true (default): every signature the actor can check is checked and must be good, and the
   * signets it needs must be given (SIGNET_REQUIRED) and match the envelope fingerprints
   * (SIGNET_MISMATCH). false: nothing is checked; present signatures are reported 'unverified'.
   */
  verify?: boolean;
}

/**
 * The signets each actor needs to check what it can see: the keys of the signatures it verifies
 * and the fingerprints in the envelope chunks it reads. (libdime also wants the destination's own
 * signet for the destination; it checks nothing with it.)
 */
export const SIGNETS_NEEDED: Readonly<Record<Actor, readonly Actor[]>> = {
  author: ['author', 'origin', 'destination', 'recipient'],
  origin: ['author', 'origin', 'destination'],
  destination: ['origin', 'recipient'],
  recipient: ['author', 'origin', 'destination', 'recipient'],
};

export function checkOpenOptions(
  options: OpenOptions,
  requireSignets = true,
): {
  actor: Actor;
  verify: boolean;
  signets: MessageSignets;
} {
  if (!options || typeof options !== 'object') throw new DimeError('BAD_INPUT', 'open options are missing');
  const { actor } = options;
  if (!ACTORS.includes(actor)) throw new DimeError('BAD_INPUT', `unknown actor "${String(actor)}"`);
  if (!(options.keys?.encryptionPrivate instanceof Uint8Array)) {
    throw new DimeError('BAD_INPUT', `the ${actor} private encryption key is required`);
  }
  const verify = options.verify ?? true;
  const signets: MessageSignets = {};
  for (const a of ACTORS) {
    const s = options.signets?.[a];
    if (s !== undefined) signets[a] = checkSignetKind(a, s);
  }
  if (verify && requireSignets) {
    const missing = SIGNETS_NEEDED[actor].filter((a) => !signets[a]);
    if (missing.length > 0) {
      throw new DimeError(
        'SIGNET_REQUIRED',
        `the ${actor} needs the ${missing.join(', ')} signet(s) to verify`,
        {
          missing,
        },
      );
    }
  }
  return { actor, verify, signets };
}

/** Compares an envelope fingerprint with the signet the caller gave for that party. */
export function checkFingerprint(party: Actor, signet: Signet | undefined, wire: string): void {
  if (!signet) return;
  const own = envelopeFingerprint(signet);
  if (own !== wire) {
    throw new DimeError('SIGNET_MISMATCH', `the ${party} signet does not match the envelope fingerprint`, {
      party,
      envelope: wire,
      signet: own,
    });
  }
}
