import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Command } from 'commander';
import PostalMime from 'postal-mime';
import { armor } from '../../encoding/armor.js';
import { utf8DecodeOrNull } from '../../encoding/bytes.js';
import { DimeError } from '../../errors/index.js';
import { type DimeKeys, destroyKeys } from '../../keys/index.js';
import {
  inputPath,
  type MessageInput,
  OutputFile,
  openMessageInput,
  pickSignets,
  sealMimeFile,
} from '../../message/files.js';
import {
  ACTORS,
  type Actor,
  BounceFlag,
  ChunkType,
  chunkSpec,
  type OpenedSource,
  openSource,
  type PartRef,
  partChunks,
  peekEnvelope,
  SIGNETS_NEEDED,
  type SignatureStatus,
  setCollectHook,
  signAsOriginSource,
} from '../../message/index.js';
import { describeEntityStream, joinMimeStream, type PartInfo } from '../../message/mime/index.js';
import type { MessageSignets } from '../../message/open-options.js';
import type { Signet } from '../../signet/index.js';
import { collect, type KeyReadOptions, readKeyFile, readSignetFile } from '../common.js';
import { usage } from '../exit.js';
import { printJson, writeOutput } from '../io.js';

/**
 * Memory stays flat on large messages: a garbage collection every few MiB of message (the message
 * code calls the hook), made available without --expose-gc at startup.
 */
function collectAfterLargeChunks(): void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    if (typeof gc === 'function') setCollectHook(gc);
  } catch {
    // no collection hook: memory is then bounded by V8's own heuristics
  }
}

/** Display parts up to this size are shown as text (`open --json` body and display data). */
const TEXT_LIMIT = 1024 * 1024;
/** Part data goes to the MIME code in slices of this size (its streams queue what they get). */
const SLICE = 256 * 1024;

interface KeyOptions extends KeyReadOptions {
  key: string;
}

const isUserActor = (a: Actor) => a === 'author' || a === 'recipient';

function actorOf(value: string): Actor {
  if (!ACTORS.includes(value as Actor)) usage(`--as must be one of ${ACTORS.join(', ')}`);
  return value as Actor;
}

function loadActorKeys(actor: Actor, opts: KeyOptions): DimeKeys {
  return readKeyFile(opts.key, opts, [isUserActor(actor) ? 'user' : 'org']).keys;
}

/** The signets an actor needs, picked by the envelope's fingerprints (and its own by its keys). */
function chooseSignets(
  input: MessageInput,
  actor: Actor,
  keys: DimeKeys,
  files: readonly string[],
  required: boolean,
): MessageSignets {
  const given: Signet[] = files.map((f) => readSignetFile(f, ['org', 'user']));
  const envelope = peekEnvelope(input.source, actor, keys);
  const signets = pickSignets(actor, keys, envelope, given);
  const missing = SIGNETS_NEEDED[actor].filter((a) => !signets[a]);
  if (required && missing.length > 0) {
    throw new DimeError(
      'SIGNET_REQUIRED',
      `the ${actor} needs the ${missing.join(', ')} signet(s) to verify (--signet; or --no-verify)`,
      { missing },
    );
  }
  return signets;
}

/** Commits a written message: binary as it is, or armored (`out` was then made at a temporary path). */
async function finishOutput(out: OutputFile, target: string, armored: boolean): Promise<void> {
  await out.commit();
  if (!armored) return;
  try {
    writeOutput(target, armor('ENCRYPTED MESSAGE', new Uint8Array(readFileSync(out.path))));
  } finally {
    rmSync(out.path, { force: true });
  }
}

function warnSpanning(parts: readonly { kind: string; size: number; chunks: number }[]): void {
  let n = { display: 0, attachment: 0 } as Record<string, number>;
  for (const p of parts) {
    n = { ...n, [p.kind]: (n[p.kind] ?? 0) + 1 };
    if (p.chunks > 1) {
      process.stderr.write(
        `warning: ${p.kind} part ${n[p.kind]} (${p.size} bytes) spans ${p.chunks} chunks (flag 128); ` +
          'libdime shows the pieces as separate parts\n',
      );
    }
  }
}

const STATUS_NAMES = {
  tree: 'tree',
  authorFull: 'author_full',
  metaBounce: 'meta_bounce',
  displayBounce: 'display_bounce',
  originFull: 'origin_full',
} as const;

/** One status for the per-chunk plaintext signatures: the worst of them. */
function chunkStatus(o: OpenedSource): SignatureStatus {
  const all = o.signatures.chunks.map((x) => x.status);
  if (all.length === 0) return 'absent';
  for (const s of ['invalid', 'unverified', 'absent'] as const) if (all.includes(s)) return s;
  return 'valid';
}

function signatureStatuses(o: OpenedSource): Record<string, SignatureStatus> {
  const out: Record<string, SignatureStatus> = { chunks: chunkStatus(o) };
  for (const [k, name] of Object.entries(STATUS_NAMES)) {
    out[name] = o.signatures[k as keyof typeof STATUS_NAMES] as SignatureStatus;
  }
  return out;
}

function envelopeJson(o: OpenedSource) {
  const e = o.envelope;
  return {
    author: e.author,
    recipient: e.recipient,
    origin: e.origin,
    destination: e.destination,
    fingerprints: {
      author: e.authorFingerprint,
      recipient: e.recipientFingerprint,
      origin: e.originFingerprint,
      destination: e.destinationFingerprint,
    },
  };
}

function headersJson(o: OpenedSource) {
  const f = o.commonHeaders?.fields;
  return {
    date: f?.date ?? null,
    to: f?.to ?? null,
    cc: f?.cc ?? null,
    from: f?.from ?? null,
    organization: f?.organization ?? null,
    subject: f?.subject ?? null,
  };
}

interface Described {
  info: PartInfo;
  part: PartRef;
  /** The raw chunk data, for parts up to TEXT_LIMIT. */
  raw: Uint8Array | null;
}

async function describePart(
  input: MessageInput,
  o: OpenedSource,
  part: PartRef,
  kind: 'display' | 'attachment',
  index: number,
): Promise<Described> {
  if (part.size <= TEXT_LIMIT) {
    const raw = new Uint8Array(Buffer.concat([...partChunks(input.source, o, part)]));
    return { info: await describeEntityStream(raw, { kind, index }), part, raw };
  }
  return {
    info: await describeEntityStream(partChunks(input.source, o, part, SLICE), { kind, index }),
    part,
    raw: null,
  };
}

/** The readable text of a display part: raw data as it is, a MIME entity decoded (postal-mime). */
async function displayText(d: Described): Promise<string | null> {
  if (!d.raw) return null;
  if (!d.info.mime) return utf8DecodeOrNull(d.raw);
  const parsed = await PostalMime.parse(d.raw);
  return parsed.text ?? parsed.html ?? null;
}

async function describeOpened(input: MessageInput, o: OpenedSource) {
  const display: Described[] = [];
  for (const [i, p] of o.display.entries()) display.push(await describePart(input, o, p, 'display', i));
  const attachments: Described[] = [];
  for (const [i, p] of o.attachments.entries())
    attachments.push(await describePart(input, o, p, 'attachment', i));
  const texts: string[] = [];
  for (const d of display) {
    const t = await displayText(d);
    if (t !== null) texts.push(t);
  }
  return {
    actor: o.actor,
    envelope: envelopeJson(o),
    headers: headersJson(o),
    other_headers: o.otherHeaders ? Buffer.from(o.otherHeaders).toString('utf8') : null,
    body: o.display.length > 0 ? (texts.length > 0 ? texts.join('\n') : null) : null,
    display: display.map((d) => ({
      type: d.info.type,
      mime: d.info.mime,
      size: d.info.size,
      sha256: d.info.sha256,
      chunk_size: d.info.chunk_size,
      chunk_sha256: d.info.chunk_sha256,
      chunks: d.part.chunks.length,
      flags: d.part.flags,
      data: d.raw ? utf8DecodeOrNull(d.raw) : null,
    })),
    attachments: attachments.map((d) => ({
      name: d.info.name,
      type: d.info.type,
      size: d.info.size,
      sha256: d.info.sha256,
      chunk_size: d.info.chunk_size,
      chunk_sha256: d.info.chunk_sha256,
      chunks: d.part.chunks.length,
      flags: d.part.flags,
    })),
    signatures: signatureStatuses(o),
    tree_layout: o.signatures.treeLayout,
    tracing: o.tracing ? Buffer.from(o.tracing).toString('latin1') : null,
  };
}

type OpenJson = Awaited<ReturnType<typeof describeOpened>>;

function summary(j: OpenJson): string {
  const lines = [`actor:        ${j.actor}`];
  const fp = j.envelope.fingerprints;
  for (const party of ['author', 'recipient', 'origin', 'destination'] as const) {
    const who = j.envelope[party];
    if (who !== null) lines.push(`${`${party}:`.padEnd(14)}${who}${fp[party] ? ` [${fp[party]}]` : ''}`);
  }
  for (const [k, v] of Object.entries(j.headers)) if (v !== null) lines.push(`${`${k}:`.padEnd(14)}${v}`);
  if (j.other_headers)
    lines.push(`other headers: ${j.other_headers.split('\r\n').filter(Boolean).length} line(s)`);
  j.display.forEach((d, i) => {
    lines.push(
      `display ${i + 1}:    ${d.type}, ${d.size} bytes${d.chunks > 1 ? ` in ${d.chunks} chunks` : ''}`,
    );
  });
  j.attachments.forEach((a, i) => {
    lines.push(
      `attachment ${i + 1}: ${a.name ?? '(no name)'} (${a.type}), ${a.size} bytes, sha256 ${a.sha256}`,
    );
  });
  lines.push(
    `signatures:   ${Object.entries(j.signatures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  if (j.body !== null) lines.push('', j.body);
  return `${lines.join('\n')}\n`;
}

async function writeMime(input: MessageInput, o: OpenedSource): Promise<void> {
  if (!o.commonHeaders) {
    throw new DimeError('NOT_AUTHORIZED', `the ${o.actor} cannot read the message content (no --mime)`);
  }
  async function* parts() {
    for (const p of o.display)
      yield { kind: 'display' as const, data: partChunks(input.source, o, p, SLICE) };
    for (const p of o.attachments)
      yield { kind: 'attachment' as const, data: partChunks(input.source, o, p, SLICE) };
  }
  const out = joinMimeStream({ commonHeaders: o.commonHeaders.raw, otherHeaders: o.otherHeaders }, parts(), {
    counts: { display: o.display.length, attachments: o.attachments.length },
  });
  await pipeline(Readable.from(out), process.stdout, { end: false });
}

function bounceOf(value: string): number {
  const map: Record<string, number> = {
    both: BounceFlag.META | BounceFlag.DISPLAY,
    meta: BounceFlag.META,
    display: BounceFlag.DISPLAY,
    none: 0,
  };
  if (!(value in map)) usage('--bounce must be both, meta, display or none');
  return map[value]!;
}

function addKeyOptions(c: Command): Command {
  return c
    .option('--passphrase-file <file>', 'passphrase of a protected key file')
    .option('--realm-key <hex>', 'realm key of an encrypted key');
}

export function registerMessageCommands(program: Command): void {
  const message = program
    .command('message')
    .description('seal, origin-sign, open and verify DIME messages (DMIME v1, streamed from files)')
    .hook('preAction', collectAfterLargeChunks);

  addKeyOptions(
    message
      .command('seal')
      .description("the author's message from a MIME message (origin signatures still zero)")
      .requiredOption('--key <file>', "the author's user key file")
      .requiredOption('--signet <file>', "the author's user signet")
      .requiredOption('--to <file>', "the recipient's user signet")
      .requiredOption('--origin <file>', "the origin (author's) org signet")
      .requiredOption('--destination <file>', "the destination (recipient's) org signet")
      .option('--in <file>', 'the RFC 5322/MIME message, - for stdin', '-')
      .option('--out <file>', 'output file, - for stdout', '-')
      .option('--armor', 'write an armored ENCRYPTED MESSAGE instead of binary')
      .option('--author-address <address>', "envelope author (default: the author signet's ID)")
      .option('--recipient-address <address>', "envelope recipient (default: the recipient signet's ID)")
      .option('--origin-domain <domain>', "envelope origin (default: the origin signet's ID)")
      .option('--destination-domain <domain>', "envelope destination (default: the destination signet's ID)"),
  ).action(
    async (
      opts: KeyOptions & {
        signet: string;
        to: string;
        origin: string;
        destination: string;
        in: string;
        out: string;
        armor?: boolean;
        authorAddress?: string;
        recipientAddress?: string;
        originDomain?: string;
        destinationDomain?: string;
      },
    ) => {
      const author = readSignetFile(opts.signet, ['user']);
      const recipient = readSignetFile(opts.to, ['user']);
      const origin = readSignetFile(opts.origin, ['org']);
      const destination = readSignetFile(opts.destination, ['org']);
      const keys = loadActorKeys('author', opts);
      const input = await inputPath(opts.in);
      const tmp = opts.armor ? join(tmpdir(), `.dime-seal.${process.pid}.${Date.now()}.bin`) : null;
      const out = new OutputFile(tmp ?? opts.out);
      try {
        const r = await sealMimeFile(
          input.path,
          {
            author: { keys, signet: author, ...(opts.authorAddress ? { address: opts.authorAddress } : {}) },
            recipient: {
              signet: recipient,
              ...(opts.recipientAddress ? { address: opts.recipientAddress } : {}),
            },
            origin: { signet: origin, ...(opts.originDomain ? { domain: opts.originDomain } : {}) },
            destination: {
              signet: destination,
              ...(opts.destinationDomain ? { domain: opts.destinationDomain } : {}),
            },
          },
          out,
        );
        await finishOutput(out, opts.out, opts.armor === true);
        warnSpanning(r.parts);
      } catch (e) {
        out.abort();
        throw e;
      } finally {
        input.done();
        destroyKeys(keys);
      }
    },
  );

  addKeyOptions(
    message
      .command('sign-origin')
      .description(
        "the origin server's step: check the author's signatures, then write the origin signatures",
      )
      .argument('<file>', "the author's message (binary or armored), - for stdin")
      .requiredOption('--key <file>', "the origin's org key file")
      .option('--signet <file>', 'signets (author, origin, destination; any order, repeatable)', collect)
      .option('--out <file>', 'output file, - for stdout', '-')
      .option('--armor', 'write an armored ENCRYPTED MESSAGE instead of binary')
      .option('--bounce <which>', 'bounce signatures to write: both, meta, display or none', 'both')
      .option('--drop-tracing', 'leave out the tracing prefix'),
  ).action(
    async (
      file: string,
      opts: KeyOptions & {
        signet?: string[];
        out: string;
        armor?: boolean;
        bounce: string;
        dropTracing?: boolean;
      },
    ) => {
      const bounce = bounceOf(opts.bounce);
      const keys = loadActorKeys('origin', opts);
      const input = await openMessageInput(file);
      const tmp = opts.armor ? join(tmpdir(), `.dime-sign.${process.pid}.${Date.now()}.bin`) : null;
      const out = new OutputFile(tmp ?? opts.out);
      try {
        const signets = chooseSignets(input, 'origin', keys, opts.signet ?? [], true);
        signAsOriginSource(input.source, keys, signets, (n) => out.create(n), {
          bounce,
          keepTracing: opts.dropTracing !== true,
        });
        await finishOutput(out, opts.out, opts.armor === true);
      } catch (e) {
        out.abort();
        throw e;
      } finally {
        input.close();
        destroyKeys(keys);
      }
    },
  );

  addKeyOptions(
    message
      .command('open')
      .description('decrypt and verify a message as one actor; nothing is shown before every check passed')
      .argument('<file>', 'the message (binary or armored), - for stdin')
      .requiredOption('--key <file>', "the actor's key file")
      .requiredOption('--as <actor>', 'author | origin | destination | recipient')
      .option('--signet <file>', "the other parties' signets (any order, repeatable)", collect)
      .option('--no-verify', 'skip the signature checks (signatures are then "unverified")')
      .option('--json', 'machine-readable output')
      .option('--mime', 'write the reconstructed MIME message to stdout'),
  ).action(
    async (
      file: string,
      opts: KeyOptions & { as: string; signet?: string[]; verify: boolean; json?: boolean; mime?: boolean },
    ) => {
      const actor = actorOf(opts.as);
      if (opts.json && opts.mime) usage('--json and --mime exclude each other');
      const keys = loadActorKeys(actor, opts);
      const input = await openMessageInput(file);
      try {
        const verify = opts.verify !== false;
        const signets = chooseSignets(input, actor, keys, opts.signet ?? [], verify);
        const o = openSource(input.source, { actor, keys, signets, verify });
        if (opts.mime) return await writeMime(input, o);
        const j = await describeOpened(input, o);
        if (opts.json) printJson(j);
        else process.stdout.write(summary(j));
      } finally {
        input.close();
        destroyKeys(keys);
      }
    },
  );

  addKeyOptions(
    message
      .command('verify')
      .description(
        'check every signature the actor can: valid, invalid or unchecked (exit 1 if any is invalid)',
      )
      .argument('<file>', 'the message (binary or armored), - for stdin')
      .requiredOption('--key <file>', "the actor's key file")
      .requiredOption('--as <actor>', 'author | origin | destination | recipient')
      .option('--signet <file>', "the other parties' signets (any order, repeatable)", collect)
      .option('--json', 'machine-readable output'),
  ).action(async (file: string, opts: KeyOptions & { as: string; signet?: string[]; json?: boolean }) => {
    const actor = actorOf(opts.as);
    const keys = loadActorKeys(actor, opts);
    const input = await openMessageInput(file);
    try {
      const signets = chooseSignets(input, actor, keys, opts.signet ?? [], false);
      const o = openSource(input.source, { actor, keys, signets, report: true });
      const present = new Set(o.layout.chunks.map((c) => c.type));
      const checkable = (type: number) =>
        present.has(type) && (chunkSpec(type)?.slots.includes(actor) ?? false);
      const shown = (s: SignatureStatus) => (s === 'valid' || s === 'invalid' ? s : 'unchecked');
      const sigs: Record<string, string> = {};
      if (o.signatures.chunks.length > 0) sigs.chunks = shown(chunkStatus(o));
      const byType: [number, keyof typeof STATUS_NAMES][] = [
        [ChunkType.AUTHOR_TREE_SIG, 'tree'],
        [ChunkType.AUTHOR_FULL_SIG, 'authorFull'],
        [ChunkType.ORIGIN_META_BOUNCE_SIG, 'metaBounce'],
        [ChunkType.ORIGIN_DISPLAY_BOUNCE_SIG, 'displayBounce'],
        [ChunkType.ORIGIN_FULL_SIG, 'originFull'],
      ];
      for (const [type, k] of byType) {
        if (checkable(type)) sigs[STATUS_NAMES[k]] = shown(o.signatures[k] as SignatureStatus);
      }
      const invalid = Object.entries(sigs)
        .filter(([, v]) => v === 'invalid')
        .map(([k]) => k);
      const out = {
        valid: invalid.length === 0,
        actor,
        signatures: sigs,
        chunk_signatures: o.signatures.chunks.map((x) => ({
          type: x.type,
          index: x.index,
          status: shown(x.status),
        })),
        tree_layout: o.signatures.treeLayout,
        signets: Object.keys(signets),
      };
      if (opts.json) printJson(out);
      else {
        process.stdout.write(
          `${Object.entries(sigs)
            .map(([k, v]) => `${k.padEnd(15)}${v}`)
            .join('\n')}\n`,
        );
      }
      if (invalid.length > 0) {
        throw new DimeError('BAD_SIGNATURE', `invalid signature(s): ${invalid.join(', ')}`, { invalid });
      }
    } finally {
      input.close();
      destroyKeys(keys);
    }
  });
}
