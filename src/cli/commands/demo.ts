import type { Command } from 'commander';
import { toHex } from '../../encoding/hex.js';
import { generateKeys } from '../../keys/index.js';
import {
  allFingerprints,
  createOrgSignet,
  createSsr,
  signetId,
  signRequest,
  verifySignet,
} from '../../signet/index.js';

/** A short local tour of the object layer: make an org and a user, sign, verify, print. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('make an org and a user in memory, sign the user signet, verify the chain and print it')
    .option('--domain <domain>', 'org domain', 'dime.localhost')
    .option('--user <local>', 'user local part', 'alice')
    .action((opts: { domain: string; user: string }) => {
      const address = `${opts.user}@${opts.domain}`;
      const orgKeys = generateKeys('org');
      const org = createOrgSignet(orgKeys, { domain: opts.domain });
      const userKeys = generateKeys('user');
      const ssr = createSsr(userKeys);
      const user = signRequest(ssr, orgKeys, { address });
      const orgCheck = verifySignet(org, { pok: [orgKeys.signingPublic] });
      const userCheck = verifySignet(user, { org });
      const lines = [
        `org ${signetId(org)}: POK ${toHex(orgKeys.signingPublic)}`,
        `  org signet ${org.bytes.length} bytes, ${orgCheck.stage} stage, signatures ${JSON.stringify(orgCheck.signatures)}`,
        `  crypto fingerprint ${allFingerprints(org).crypto?.b64}`,
        `user ${signetId(user)}: SSR ${ssr.bytes.length} bytes → user signet ${user.bytes.length} bytes`,
        `  ${userCheck.stage} stage, signatures ${JSON.stringify(userCheck.signatures)}, complete=${userCheck.complete}`,
        `  crypto fingerprint ${allFingerprints(user).crypto?.b64}`,
        'chain verified: org self-signatures by its POK, user self-signature, org signatures over the user signet',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
