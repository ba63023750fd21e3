import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { armor } from '../../encoding/armor.js';
import { toHex } from '../../encoding/hex.js';
import { ARMOR_LABEL_FOR_TYPE } from '../../encoding/object-types.js';
import { DimeError } from '../../errors/index.js';
import { isFingerprint } from '../../protocol/dmtp/fingerprint.js';
import { recordToJson } from '../../record/index.js';
import {
  DimeResolver,
  type DxPlan,
  type OrgSignetResolution,
  parseServerAddress,
  SignetResolver,
  type SignetServer,
  type UserSignetResolution,
} from '../../resolver/index.js';
import { allFingerprints, type Signet } from '../../signet/index.js';
import { collect } from '../common.js';
import { usage } from '../exit.js';
import { printJson } from '../io.js';

interface ResolveOptions {
  json?: boolean;
  resolver?: string[];
  trustedResolver?: boolean;
  fingerprint?: string;
  portMap?: string[];
  ca?: string[];
  ehlo?: string;
  timeout?: string;
}

function portMap(specs: readonly string[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of specs) {
    const m = /^(\d{1,5})=(\d{1,5})$/.exec(s);
    const from = m ? Number(m[1]) : 0;
    const to = m ? Number(m[2]) : 0;
    if (!m || from < 1 || from > 65535 || to < 1 || to > 65535) {
      usage(`--port-map must be STANDARD=PORT (e.g. 26=2526), not ${JSON.stringify(s)}`);
    }
    out[from] = to;
  }
  return out;
}

function signetJson(s: Signet) {
  const f = allFingerprints(s);
  return {
    type: s.kind,
    stage: s.stage,
    fingerprints: { crypto: f.crypto?.b64 ?? null, full: f.full?.b64 ?? null, id: f.id?.b64 ?? null },
    signing_key: toHex(s.signingKey),
    armored: armor(ARMOR_LABEL_FOR_TYPE[s.type]!, s.bytes),
  };
}

function serverJson(s: SignetServer | null) {
  if (!s) return null;
  const c = s.tls.certificate;
  return {
    host: s.host,
    port: s.port,
    connected_port: s.connectedPort,
    mode: s.mode,
    address: s.address,
    tls: {
      protocol: s.tls.protocol,
      cipher: s.tls.cipher,
      check: c.check,
      pinned: c.pinned,
      hostname: c.hostname,
      chain: c.chain,
      ocsp: c.ocsp,
      ocsp_detail: c.ocspDetail
        ? {
            source: c.ocspDetail.source,
            url: c.ocspDetail.url,
            response_status: c.ocspDetail.responseStatus ?? null,
            signer: c.ocspDetail.signer ?? null,
            produced_at: c.ocspDetail.producedAt ?? null,
            this_update: c.ocspDetail.thisUpdate ?? null,
            next_update: c.ocspDetail.nextUpdate ?? null,
            nonce: c.ocspDetail.nonce ?? null,
            notes: c.ocspDetail.notes,
          }
        : null,
      certificate_sha512: c.certificateSha512,
      subject: c.subject,
    },
  };
}

function ocspText(d: SignetServer['tls']['certificate']['ocspDetail']): string {
  if (!d) return '';
  const from =
    d.source === 'stapled' ? 'stapled' : d.url ? `from ${d.url}` : 'no OCSP URL in the certificate';
  const status = d.responseStatus ? `, responder status ${d.responseStatus}` : '';
  const next = d.nextUpdate ? `, next update ${d.nextUpdate}` : '';
  return ` (${from}${status}${next})`;
}

function orgJson(o: OrgSignetResolution) {
  return {
    ...signetJson(o.signet),
    source: o.source,
    signatures: o.verification.signatures,
    server: serverJson(o.server),
  };
}

function userJson(u: UserSignetResolution) {
  return {
    address: u.address,
    status: u.status,
    ...signetJson(u.signet),
    source: u.source,
    signatures: u.verification.signatures,
    current: u.status === 'current' ? null : signetJson(u.current),
    chain: u.chain.map((l) => ({ crypto: l.fingerprint, custody: l.custody, org: l.org })),
    server: serverJson(u.server),
  };
}

function dxJson(plan: DxPlan) {
  return plan.capable
    ? plan.candidates.map((c) => ({ host: c.host, port: c.port, mode: c.mode, source: c.source }))
    : [];
}

export function registerResolveCommand(program: Command): void {
  program
    .command('resolve')
    .description(
      'look up a domain (management record, DX hosts, org signet) or an address (also its user signet) ' +
        'over DNS(SEC) and DMTP, with every check of record.md §5–§6 and signets.md §4',
    )
    .argument('<target>', 'DOMAIN or user@DOMAIN')
    .option('--json', 'print one JSON object')
    .option(
      '--resolver <ip[:port]>',
      'validating DNS resolver to ask (repeatable; default: resolv.conf)',
      collect,
    )
    .option('--trusted-resolver', "believe the resolvers' AD bit even when they are not on loopback")
    .option(
      '--fingerprint <fp>',
      'the user signet with this crypto or full fingerprint (shows whether it is superseded)',
    )
    .option(
      '--port-map <std=port>',
      'connect to PORT where the standard port STD (26, 25, 587) is meant (repeatable)',
      collect,
    )
    .option(
      '--ca <pem>',
      'trusted CA certificates for x509 checks, replacing the built-in roots (repeatable)',
      collect,
    )
    .option('--ehlo <name>', 'EHLO name', 'localhost')
    .option('--timeout <ms>', 'time limit of each DMTP step in ms', '15000')
    .action(async (target: string, opts: ResolveOptions) => {
      if (!/^\d{1,7}$/.test(opts.timeout ?? '') || Number(opts.timeout) < 1)
        usage('--timeout must be milliseconds');
      const ms = Number(opts.timeout);
      if (opts.fingerprint !== undefined) {
        if (!target.includes('@')) usage('--fingerprint needs an address');
        if (!isFingerprint(opts.fingerprint)) usage('--fingerprint must be 86 unpadded base64 characters');
      }
      for (const r of opts.resolver ?? []) {
        try {
          parseServerAddress(r, false);
        } catch (e) {
          usage(`--resolver ${JSON.stringify(r)}: ${(e as Error).message}`);
        }
      }
      const overrides = portMap(opts.portMap ?? []);
      const ca = (opts.ca ?? []).map((f) => {
        try {
          return readFileSync(f, 'utf8');
        } catch (e) {
          throw new DimeError('IO_ERROR', `cannot read ${f}: ${(e as Error).message}`);
        }
      });
      const resolver = new DimeResolver({
        ...(opts.resolver?.length ? { servers: opts.resolver } : {}),
        ...(opts.trustedResolver ? { trusted: true } : {}),
      });
      const signets = new SignetResolver({
        resolver,
        portOverrides: overrides,
        ...(ca.length > 0 ? { ca } : {}),
        ehlo: opts.ehlo ?? 'localhost',
        timeouts: { connectMs: ms, tlsMs: ms, ocspMs: ms, commandMs: ms, dataMs: ms },
      });

      let org: OrgSignetResolution;
      let user: UserSignetResolution | null = null;
      if (target.includes('@')) {
        user = await signets.resolveUser(target, opts.fingerprint ? { fingerprint: opts.fingerprint } : {});
        org = user.org;
      } else {
        org = await signets.resolveOrg(target);
      }
      const plan = await resolver.chooseDxHosts(org.domain);
      const record = org.record!;
      if (opts.json) {
        printJson({
          domain: org.domain,
          dnssec: record.dnssec,
          record_name: `_dx.${org.domain}`,
          record: recordToJson(record.record),
          dx: dxJson(plan),
          org_signet: orgJson(org),
          ...(user ? { user_signet: userJson(user) } : {}),
        });
        return;
      }
      const r = recordToJson(record.record);
      const server = user?.server ?? org.server;
      const lines = [
        `domain:       ${org.domain}`,
        `dnssec:       ${record.dnssec}${record.dnssec === 'secure' ? '' : ' (record not authenticated)'}`,
        `record:       _dx.${org.domain}: ${r.pok.length} pok, ${r.tls.length} tls, pol=${r.policy}${r.dx.length ? `, dx=${r.dx.join(',')}` : ''}`,
        ...r.pok.map((p) => `  pok:        ${p}`),
        `dx:           ${dxJson(plan)
          .map((c) => `${c.host}:${c.port} (${c.mode})`)
          .join(', ')}`,
      ];
      if (server) {
        const c = server.tls.certificate;
        lines.push(
          `server:       ${server.host}:${server.port} via ${server.address}:${server.connectedPort}, ${server.mode} mode, ${server.tls.protocol ?? '?'}`,
          `certificate:  ${c.check}${c.pinned ? ' (pinned by the record)' : ''}; host name ${c.hostname}, chain ${c.chain}, OCSP ${c.ocsp}${ocspText(c.ocspDetail)}`,
        );
      }
      const f = allFingerprints(org.signet);
      lines.push(
        `org signet:   ${org.signet.stage} stage, POK-checked and verified (${org.source})`,
        `  crypto fp:  ${f.crypto?.b64}`,
      );
      if (user) {
        const u = allFingerprints(user.signet);
        lines.push(
          `user signet:  ${user.address}, ${user.status}, ${user.signet.stage} stage, verified with the org signet (${user.source})`,
          `  crypto fp:  ${u.crypto?.b64}`,
          `  chain:      ${user.chain.length} link${user.chain.length === 1 ? '' : 's'}, custody ${user.chain.map((l) => l.custody).join(' → ')}`,
        );
        if (user.status === 'superseded') {
          lines.push(
            `  current:    ${allFingerprints(user.current).crypto?.b64} (the asked signet is revoked)`,
          );
        }
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
