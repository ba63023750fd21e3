import type { Command } from 'commander';
import { armor } from '../../encoding/armor.js';
import { utf8DecodeOrNull } from '../../encoding/bytes.js';
import { toHex } from '../../encoding/hex.js';
import { ARMOR_LABEL_FOR_TYPE } from '../../encoding/object-types.js';
import { DimeError } from '../../errors/index.js';
import { destroyKeys } from '../../keys/index.js';
import {
  allFingerprints,
  fieldRule,
  type SignedStage,
  type Signet,
  type SignetKind,
  signetId,
  signRequest,
  verifySignet,
} from '../../signet/index.js';
import { collect, parsePokOption, readKeyFile, readSignetFile } from '../common.js';
import { usage } from '../exit.js';
import { printJson, writeOutput } from '../io.js';

const KINDS: readonly SignetKind[] = ['org', 'user', 'ssr'];
const STAGES: readonly SignedStage[] = ['crypto', 'full', 'id'];

function describeFields(s: Signet) {
  return s.fields.map((f) => {
    const rule = fieldRule(s.kind, f.id)!;
    const text = rule.text ? utf8DecodeOrNull(f.data) : null;
    return {
      id: f.id,
      name: rule.name,
      length: f.data.length,
      hex: toHex(f.data),
      ...(f.name ? { field_name: utf8DecodeOrNull(f.name) ?? toHex(f.name) } : {}),
      ...(text !== null ? { text } : {}),
    };
  });
}

export function registerSignetCommands(program: Command): void {
  const signet = program.command('signet').description('sign, show, verify and fingerprint signets');

  signet
    .command('sign')
    .description("sign a user's signet signing request with the org key (the request's bytes are kept)")
    .requiredOption('--org-key <file>', 'org key file')
    .requiredOption('--request <file>', 'the signet signing request (SSR), - for stdin')
    .requiredOption('--address <address>', "the user's address (field 254 at the ID stage)")
    .option('--stage <stage>', 'crypto | full | id', 'id')
    .option('--previous <file>', "the user's previous signet, to check the request's custody signature")
    .option('--out <file>', 'output file, - for stdout', '-')
    .option('--passphrase-file <file>', 'passphrase of a protected org key')
    .option('--realm-key <hex>', 'realm key of an encrypted org key')
    .action(
      (opts: {
        orgKey: string;
        request: string;
        address: string;
        stage: string;
        previous?: string;
        out: string;
        passphraseFile?: string;
        realmKey?: string;
      }) => {
        if (!STAGES.includes(opts.stage as SignedStage)) usage(`--stage must be one of ${STAGES.join(', ')}`);
        const ssr = readSignetFile(opts.request, ['ssr']);
        const previous = opts.previous ? readSignetFile(opts.previous, ['user']) : undefined;
        const { keys } = readKeyFile(opts.orgKey, opts, ['org']);
        try {
          const user = signRequest(ssr, keys, {
            stage: opts.stage as SignedStage,
            address: opts.address,
            ...(previous ? { previous } : {}),
          });
          writeOutput(opts.out, armor(ARMOR_LABEL_FOR_TYPE[user.type]!, user.bytes));
        } finally {
          destroyKeys(keys);
        }
      },
    );

  signet
    .command('show')
    .description('show every field, named, with fingerprints')
    .argument('<file>', 'signet or SSR (armored, base64 or binary), - for stdin')
    .option('--json', 'machine-readable output')
    .action((file: string, opts: { json?: boolean }) => {
      const s = readSignetFile(file);
      const out = {
        type: s.kind,
        form: s.form,
        stage: s.stage,
        id: signetId(s),
        length: s.bytes.length,
        fields: describeFields(s),
        fingerprints: allFingerprints(s),
      };
      if (opts.json) return printJson(out);
      const lines = [`type:   ${s.kind} (${s.form} form, ${s.stage} stage, ${s.bytes.length} bytes)`];
      if (out.id) lines.push(`id:     ${out.id}`);
      for (const f of out.fields) {
        lines.push(
          `  ${String(f.id).padStart(3)} ${f.name} (${f.length}): ${'text' in f ? JSON.stringify(f.text) : f.hex}`,
        );
      }
      for (const [k, v] of Object.entries(out.fingerprints))
        if (v) lines.push(`${k.padEnd(6)} fingerprint: ${v.b64}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  signet
    .command('verify')
    .description('verify an org signet, SSR or user signet')
    .argument('<file>', 'signet or SSR (armored, base64 or binary), - for stdin')
    .option('--org <file>', 'the org signet that signed a user signet')
    .option('--pok <hex>', 'a POK the org signet must carry (repeatable)', collect)
    .option('--previous <file>', 'the previous user signet (chain of custody)')
    .option('--type <type>', 'the object type expected: org | user | ssr')
    .option('--json', 'machine-readable output')
    .action(
      (
        file: string,
        opts: { org?: string; pok?: string[]; previous?: string; type?: string; json?: boolean },
      ) => {
        if (opts.type && !KINDS.includes(opts.type as SignetKind)) usage('--type must be org, user or ssr');
        const s = readSignetFile(file, opts.type ? [opts.type as SignetKind] : undefined);
        const pok = (opts.pok ?? []).map(parsePokOption);
        let org: Signet | undefined;
        if (opts.org) {
          org = readSignetFile(opts.org, ['org']);
          // the org signet itself must verify (pinned by --pok when given) before it vouches for anyone
          verifySignet(org, { pok });
        }
        const previous = opts.previous
          ? readSignetFile(opts.previous, s.kind === 'org' ? ['org'] : ['user'])
          : undefined;
        if (s.kind === 'org' && previous)
          throw new DimeError('BROKEN_CUSTODY', 'org signets carry no custody signature');
        const r = verifySignet(s, {
          ...(s.kind === 'org' ? { pok } : {}),
          ...(org ? { org } : {}),
          ...(previous ? { previous } : {}),
        });
        if (r.unsignedFields.length > 0) {
          process.stderr.write(`warning: no signature covers field(s) ${r.unsignedFields.join(', ')}\n`);
        }
        if (s.kind === 'user' && !org) {
          process.stderr.write(
            'warning: no --org given: the org signatures of this user signet were not checked\n',
          );
        }
        const out = {
          valid: true,
          type: r.kind,
          form: r.form,
          stage: r.stage,
          signatures: r.signatures,
          complete: r.complete,
        };
        if (opts.json) return printJson(out);
        const sigs = Object.entries(r.signatures)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        process.stdout.write(
          `valid ${r.kind} signet (${r.form} form, ${r.stage} stage): ${sigs}${r.complete ? '' : ' (incomplete)'}\n`,
        );
      },
    );

  signet
    .command('fingerprint')
    .description('the ssr, crypto, full and id fingerprints (null where libdime gives none)')
    .argument('<file>', 'signet or SSR, - for stdin')
    .option('--json', 'machine-readable output')
    .action((file: string, opts: { json?: boolean }) => {
      const fps = allFingerprints(readSignetFile(file));
      if (opts.json) return printJson(fps);
      for (const [k, v] of Object.entries(fps)) process.stdout.write(`${k.padEnd(6)} ${v ? v.b64 : '-'}\n`);
    });
}
