import { decodeObjectInput } from '../../src/encoding/input.js';
import { type DimeKeys, generateKeys, loadKeys } from '../../src/keys/index.js';
import type { Actor, SealInput } from '../../src/message/index.js';
import { createOrgSignet, createSsr, signRequest } from '../../src/signet/build.js';
import { parseSignet, type Signet } from '../../src/signet/index.js';
import type { VectorCase } from '../helpers/vectors.js';

export const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

export interface Parties {
  keys: Record<Actor, DimeKeys>;
  signets: Record<Actor, Signet>;
}

export const ACTOR_LIST: readonly Actor[] = ['author', 'origin', 'destination', 'recipient'];

/** The four actors' keys and signets of a reference case (`keys.<actor>_{key,signet}_armored`). */
export function partiesOf(c: VectorCase): Parties {
  const keys = {} as Record<Actor, DimeKeys>;
  const signets = {} as Record<Actor, Signet>;
  for (const a of ACTOR_LIST) {
    keys[a] = loadKeys(enc(c.keys[`${a}_key_armored`])).keys;
    signets[a] = parseSignet(decodeObjectInput(enc(c.keys[`${a}_signet_armored`])).binary);
  }
  return { keys, signets };
}

/** The actor fields of a SealInput: the author's keys and signet, the other three's signets. */
export function sealActors(p: Parties): Pick<SealInput, 'author' | 'recipient' | 'origin' | 'destination'> {
  return {
    author: { keys: p.keys.author, signet: p.signets.author },
    recipient: { signet: p.signets.recipient },
    origin: { signet: p.signets.origin },
    destination: { signet: p.signets.destination },
  };
}

/** Fresh keys and ID signets for the four actors, made by our own builders. */
export function freshParties(
  names = {
    origin: 'origin.test',
    destination: 'dest.test',
    author: 'alice@origin.test',
    recipient: 'bob@dest.test',
  },
): Parties {
  const orgOKeys = generateKeys('org');
  const orgDKeys = generateKeys('org');
  const authorKeys = generateKeys('user');
  const recipientKeys = generateKeys('user');
  const origin = createOrgSignet(orgOKeys, { domain: names.origin });
  const destination = createOrgSignet(orgDKeys, { domain: names.destination });
  const author = signRequest(createSsr(authorKeys), orgOKeys, { address: names.author });
  const recipient = signRequest(createSsr(recipientKeys), orgDKeys, { address: names.recipient });
  return {
    keys: { author: authorKeys, origin: orgOKeys, destination: orgDKeys, recipient: recipientKeys },
    signets: { author, origin, destination, recipient },
  };
}
