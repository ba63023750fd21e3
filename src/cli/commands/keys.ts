import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { armor } from '../../encoding/armor.js';
import { toHex } from '../../encoding/hex.js';
import { ARMOR_LABEL_FOR_TYPE } from '../../encoding/object-types.js';
import { DimeError } from '../../errors/index.js';
import {
  type DimeKeys,
  destroyKeys,
  generateKeys,
  KEY_TYPE,
  protectKeyObject,
  serializeKeys,
} from '../../keys/index.js';
import { allFingerprints, createOrgSignet, createSsr } from '../../signet/index.js';
import { readKeyFile } from '../common.js';
import { usage } from '../exit.js';
import { printJson, writeNewFile } from '../io.js';
import { type PassphraseOptions, resolvePassphrase } from '../passphrase.js';

interface GenerateOptions extends PassphraseOptions {
  out: string;
  plain?: boolean;
  force?: boolean;
  json?: boolean;
}

/** The key file text: libdime's plain form with --plain, else a protected key file. */
function keyFileText(keys: DimeKeys, opts: GenerateOptions): string {
  const plain = serializeKeys(keys);
  if (opts.plain) return armor(ARMOR_LABEL_FOR_TYPE[KEY_TYPE[keys.kind]]!, plain);
  return protectKeyObject(plain, resolvePassphrase(opts, 'New passphrase: '));
}

function prepareOut(opts: GenerateOptions): void {
  if (opts.plain && opts.passphraseFile) usage('--plain and --passphrase-file exclude each other');
  try {
    mkdirSync(opts.out, { recursive: true, mode: 0o700 });
    chmodSync(opts.out, 0o700);
  } catch (e) {
    throw new DimeError('IO_ERROR', `cannot create ${opts.out}: ${(e as Error).message}`);
  }
}

function addPassphraseOptions(c: Command): Command {
  return c
    .option('--plain', "write libdime's unencrypted key file instead of a protected one")
    .option(
      '--passphrase-file <file>',
      'read the key passphrase from a file (else DIME_PASSPHRASE, else a prompt)',
    )
    .option('--force', 'replace existing files')
    .option('--json', 'machine-readable output');
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('generate and inspect private key files');
  const generate = keys.command('generate').description('generate a key pair and its public object');

  addPassphraseOptions(
    generate
      .command('org')
      .description('org key + org signet (ID stage: crypto, full and ID signatures, field 254 = domain)')
      .requiredOption('--domain <domain>', 'the organization domain (signet identifier)')
      .requiredOption('--out <dir>', 'output directory (created with mode 0700)'),
  ).action((opts: GenerateOptions & { domain: string }) => {
    prepareOut(opts);
    const k = generateKeys('org');
    try {
      const signet = createOrgSignet(k, { stage: 'id', domain: opts.domain });
      const keyPath = join(opts.out, 'org.key');
      const signetPath = join(opts.out, 'org.signet');
      writeNewFile(keyPath, keyFileText(k, opts), 0o600, opts.force ?? false);
      writeNewFile(signetPath, armor('ORGANIZATIONAL SIGNET', signet.bytes), 0o644, opts.force ?? false);
      const fps = allFingerprints(signet);
      if (opts.json) {
        printJson({
          type: 'org',
          domain: opts.domain,
          key: keyPath,
          signet: signetPath,
          pok: toHex(k.signingPublic),
          fingerprints: fps,
        });
      } else {
        process.stdout.write(
          `org key:    ${keyPath}\norg signet: ${signetPath}\npok:        ${toHex(k.signingPublic)}\ncrypto fingerprint: ${fps.crypto?.b64}\n`,
        );
      }
    } finally {
      destroyKeys(k);
    }
  });

  addPassphraseOptions(
    generate
      .command('user')
      .description('user key + signet signing request (SSR)')
      .requiredOption('--address <address>', "the user's address")
      .requiredOption('--out <dir>', 'output directory (created with mode 0700)'),
  ).action((opts: GenerateOptions & { address: string }) => {
    prepareOut(opts);
    const k = generateKeys('user');
    try {
      const ssr = createSsr(k);
      const keyPath = join(opts.out, 'user.key');
      const ssrPath = join(opts.out, 'user.ssr');
      writeNewFile(keyPath, keyFileText(k, opts), 0o600, opts.force ?? false);
      writeNewFile(ssrPath, armor('SIGNET SIGNING REQUEST', ssr.bytes), 0o644, opts.force ?? false);
      const fps = allFingerprints(ssr);
      if (opts.json) {
        printJson({ type: 'user', address: opts.address, key: keyPath, request: ssrPath, fingerprints: fps });
      } else {
        process.stdout.write(
          `user key: ${keyPath}\nrequest:  ${ssrPath}\nssr fingerprint: ${fps.ssr?.b64}\n`,
        );
      }
    } finally {
      destroyKeys(k);
    }
  });

  keys
    .command('show')
    .description('show the public keys of a key file (never the private keys)')
    .argument('<keyfile>', 'key file (armored, base64 or binary; plain, encrypted or protected), - for stdin')
    .option('--realm-key <hex>', '64-byte realm key (128 hex digits) for encrypted keys (types 1947/1976)')
    .option('--passphrase-file <file>', 'passphrase of a protected key file')
    .option('--json', 'machine-readable output')
    .action((file: string, opts: { realmKey?: string; passphraseFile?: string; json?: boolean }) => {
      const { keys: k, container, inputForm } = readKeyFile(file, opts);
      try {
        const out = {
          type: k.kind,
          form: k.form,
          container,
          encoding: inputForm,
          ed25519: toHex(k.signingPublic),
          secp256k1_compressed: toHex(k.encryptionPublic),
        };
        if (opts.json) printJson(out);
        else {
          process.stdout.write(
            `type:      ${out.type} key (${out.form} form, ${container}, ${inputForm})\ned25519:   ${out.ed25519}\nsecp256k1: ${out.secp256k1_compressed}\n`,
          );
        }
      } finally {
        destroyKeys(k);
      }
    });
}
