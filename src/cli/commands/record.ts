import type { Command } from 'commander';
import { crypto } from '../../crypto/index.js';
import { DimeError } from '../../errors/index.js';
import { destroyKeys } from '../../keys/index.js';
import { certificateToDer } from '../../record/certificate.js';
import {
  buildRecordText,
  POLICIES,
  type Policy,
  parseRecord,
  recordToJson,
  SUBDOMAIN_POLICIES,
  type SubdomainPolicy,
  tlsCertificateSignature,
  zoneLine,
  zoneStrings,
} from '../../record/index.js';
import { signetId } from '../../signet/index.js';
import { collect, readKeyFile, readSignetFile } from '../common.js';
import { usage } from '../exit.js';
import { printJson, readInput } from '../io.js';

interface MakeOptions {
  orgSignet: string;
  orgKey?: string;
  tlsCert?: string[];
  deliver?: string[];
  policy?: string;
  expiry?: string;
  subdomain?: string;
  syndicates?: string;
  zone?: boolean;
  json?: boolean;
  passphraseFile?: string;
  realmKey?: string;
}

export function registerRecordCommands(program: Command): void {
  const record = program.command('record').description('make and parse the _dx DNS management record');

  record
    .command('make')
    .description('the TXT value of the management record for an org signet')
    .requiredOption('--org-signet <file>', 'the org signet whose POK the record publishes')
    .option('--org-key <file>', 'the org key, to sign the TLS certificate binding')
    .option('--tls-cert <pem>', "the DX host's TLS certificate (PEM; repeatable)", collect)
    .option('--deliver <host>', 'a DX delivery host (repeatable, tried in order)', collect)
    .option('--policy <policy>', 'experimental | mixed | strict')
    .option('--expiry <days>', 'days a cached copy may be used (1…3650)')
    .option('--subdomain <policy>', 'strict | relaxed | explicit')
    .option('--syndicates <s>', 'alternative signet lookup sources (kept verbatim)')
    .option('--zone', 'print a zone-file line of quoted strings of at most 255 bytes')
    .option('--json', 'print {"name","type","text","strings"} as JSON')
    .option('--passphrase-file <file>', 'passphrase of a protected org key')
    .option('--realm-key <hex>', 'realm key of an encrypted org key')
    .action((opts: MakeOptions) => {
      if (opts.tlsCert?.length && !opts.orgKey) usage('--tls-cert needs --org-key to sign the certificate');
      if (opts.policy && !(POLICIES as readonly string[]).includes(opts.policy)) {
        usage(`--policy must be one of ${POLICIES.join(', ')}`);
      }
      if (opts.subdomain && !(SUBDOMAIN_POLICIES as readonly string[]).includes(opts.subdomain)) {
        usage(`--subdomain must be one of ${SUBDOMAIN_POLICIES.join(', ')}`);
      }
      let exp: number | undefined;
      if (opts.expiry !== undefined) {
        if (!/^\d+$/.test(opts.expiry)) usage('--expiry must be a number of days');
        exp = Number(opts.expiry);
      }
      const org = readSignetFile(opts.orgSignet, ['org']);
      const tls: Uint8Array[] = [];
      if (opts.tlsCert?.length) {
        const { keys } = readKeyFile(opts.orgKey!, opts, ['org']);
        try {
          if (!crypto().timingSafeEqual(keys.signingPublic, org.signingKey)) {
            throw new DimeError('POK_MISMATCH', 'the org key does not belong to the org signet');
          }
          for (const pem of opts.tlsCert) {
            const der = certificateToDer(Buffer.from(readInput(pem)).toString('utf8'));
            tls.push(tlsCertificateSignature(der, keys.signingSeed));
          }
        } finally {
          destroyKeys(keys);
        }
      }
      const text = buildRecordText({
        pok: [org.signingKey],
        tls,
        dx: opts.deliver ?? [],
        ...(opts.policy ? { policy: opts.policy as Policy } : {}),
        ...(opts.subdomain ? { subdomain: opts.subdomain as SubdomainPolicy } : {}),
        ...(opts.syndicates ? { syndicates: opts.syndicates } : {}),
        ...(exp !== undefined ? { exp } : {}),
      });
      if (opts.json) {
        const domain = signetId(org);
        return printJson({
          name: domain ? `_dx.${domain}` : null,
          type: 'TXT',
          text,
          strings: zoneStrings(text),
        });
      }
      process.stdout.write(`${opts.zone ? zoneLine(text) : text}\n`);
    });

  record
    .command('parse')
    .description('parse a record given as its TXT character-strings (joined with nothing between them)')
    .argument('<strings...>', 'the character-strings of one TXT RR')
    .option('--json', 'print the record as JSON')
    .action((strings: string[], opts: { json?: boolean }) => {
      const r = parseRecord(strings);
      const j = recordToJson(r);
      if (opts.json) return printJson(j);
      const lines = [
        `version:    ${j.version}`,
        ...j.pok.map((p) => `pok:        ${p}`),
        ...j.tls.map((t) => `tls:        ${t}`),
        `policy:     ${j.policy}`,
        ...j.dx.map((d) => `dx:         ${d}`),
        `expiry:     ${j.exp === null ? '-' : `${j.exp} days`}`,
        `subdomain:  ${j.subdomain}`,
        `syndicates: ${j.syndicates ?? '-'}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
