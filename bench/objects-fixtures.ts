import { generateKeys } from '../src/keys/index.js';
import { createOrgSignet, createSsr, signRequest } from '../src/signet/index.js';

/** The same setup as libdime-bench: two orgs and two users at the ID stage. */
export function objectFixtures() {
  const orgKeys = generateKeys('org');
  const org = createOrgSignet(orgKeys, { domain: 'alpha.test' });
  const userKeys = generateKeys('user');
  const ssr = createSsr(userKeys);
  const user = signRequest(ssr, orgKeys, { address: 'user@alpha.test' });
  return { orgKeys, org, userKeys, ssr, user };
}
