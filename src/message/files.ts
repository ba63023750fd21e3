import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decodeObjectInput } from '../encoding/input.js';
import { DimeError, isDimeError } from '../errors/index.js';
import type { DimeKeys } from '../keys/key-file.js';
import type { Signet } from '../signet/signet.js';
import { type Actor, MAX_CHUNK_DATA } from './constants.js';
import { splitLengths } from './content.js';
import type { CommonHeaders } from './headers.js';
import { splitMimeStream } from './mime/index.js';
import { type MessageSignets, SIGNETS_NEEDED } from './open-options.js';
import { envelopeFingerprint } from './parties.js';
import { type PartSize, type SealInput, type SealOptions, SealWriter } from './seal.js';
import { type ByteSource, FileSource, FileStore, MemorySource, processed } from './source.js';
import type { EnvelopeView } from './view.js';

/**
 * Messages as files: the glue the CLI and the servers share. Inputs may be standard input
 * (spooled to a temporary file, so that it can be read more than once at bounded memory),
 * outputs are written to a temporary file and renamed (or copied to standard output) only when
 * complete, and a MIME message is sealed in two streaming passes (sizes, then bytes).
 */

const tempName = (dir: string, stem: string) =>
  join(dir, `.${stem}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);

/** Copies standard input (or any readable) into a new private temporary file; returns its path. */
export async function spool(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const path = tempName(tmpdir(), 'dime-stdin');
  try {
    await pipeline(input, createWriteStream(path, { mode: 0o600 }));
  } catch (e) {
    rmSync(path, { force: true });
    throw new DimeError('IO_ERROR', `cannot read standard input: ${(e as Error).message}`);
  }
  return path;
}

/** A readable file path for `path` ("-": standard input, spooled); `done()` removes a spool. */
export async function inputPath(path: string): Promise<{ path: string; done: () => void }> {
  if (path !== '-') return { path, done: () => {} };
  const p = await spool();
  return { path: p, done: () => rmSync(p, { force: true }) };
}

export interface MessageInput {
  source: ByteSource;
  /** binary messages are read from the file as needed; armored or base64 ones are decoded in memory. */
  form: 'binary' | 'armored' | 'base64';
  close(): void;
}

/**
 * Opens a serialized message given as a file or "-": binary (read positionally, never held in
 * memory), or armored `ENCRYPTED MESSAGE` / bare base64 text (decoded in memory).
 */
export async function openMessageInput(path: string): Promise<MessageInput> {
  const { path: p, done } = await inputPath(path);
  let src: FileSource;
  try {
    src = FileSource.open(p);
  } catch (e) {
    done();
    throw e;
  }
  try {
    const head = src.read(0, Math.min(2, src.size));
    const binary = head.length === 2 && head[0] === 0x07 && (head[1] === 0x37 || head[1] === 0x2d);
    if (binary || src.size === 0) {
      return {
        source: src,
        form: 'binary',
        close: () => {
          src.close();
          done();
        },
      };
    }
    const decoded = decodeObjectInput(src.read(0, src.size));
    src.close();
    done();
    return {
      source: new MemorySource(decoded.binary),
      form: decoded.form === 'binary' ? 'binary' : decoded.form,
      close: () => {},
    };
  } catch (e) {
    src.close();
    done();
    throw e;
  }
}

/**
 * An output file written in place at any offset: a temporary file beside the target (or in the
 * temporary directory for "-"), renamed over the target, or copied to standard output, by commit().
 */
export class OutputFile {
  private store: FileStore | null = null;
  readonly tempPath: string;

  constructor(readonly path: string) {
    this.tempPath = path === '-' ? tempName(tmpdir(), 'dime-out') : tempName(dirname(path), basename(path));
  }

  /** The store of `size` bytes to write into. */
  create(size: number): FileStore {
    if (this.store) throw new DimeError('BAD_INPUT', 'the output was already created');
    this.store = FileStore.create(this.tempPath, size, 0o644);
    return this.store;
  }

  async commit(stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
    if (!this.store) throw new DimeError('BAD_INPUT', 'nothing was written');
    this.store.close();
    try {
      if (this.path === '-') {
        await pipeline(createReadStream(this.tempPath), stdout, { end: false });
        rmSync(this.tempPath, { force: true });
      } else renameSync(this.tempPath, this.path);
    } catch (e) {
      this.abort();
      throw new DimeError('IO_ERROR', `cannot write ${this.path}: ${(e as Error).message}`);
    }
  }

  abort(): void {
    try {
      this.store?.close();
    } catch {
      // already closed
    }
    rmSync(this.tempPath, { force: true });
  }
}

/**
 * Picks, among signets given in any order, the ones an actor needs (SIGNETS_NEEDED): by the
 * crypto fingerprints the envelope names, and its own by its keys.
 */
export function pickSignets(
  actor: Actor,
  keys: DimeKeys,
  envelope: EnvelopeView,
  given: readonly Signet[],
): MessageSignets {
  const named: Record<Actor, string | null> = {
    author: envelope.authorFingerprint,
    origin: envelope.originFingerprint,
    destination: envelope.destinationFingerprint,
    recipient: envelope.recipientFingerprint,
  };
  const byFp = new Map(given.map((s) => [envelopeFingerprint(s), s]));
  const own = given.find(
    (s) =>
      Buffer.from(s.signingKey).equals(Buffer.from(keys.signingPublic)) &&
      Buffer.from(s.encryptionKey).equals(Buffer.from(keys.encryptionPublic)),
  );
  const out: MessageSignets = {};
  for (const party of SIGNETS_NEEDED[actor]) {
    const fp = named[party];
    const s = fp !== null ? byFp.get(fp) : party === actor ? own : undefined;
    if (s) out[party] = s;
  }
  return out;
}

export interface MimeSealParties {
  author: SealInput['author'];
  recipient: SealInput['recipient'];
  origin: SealInput['origin'];
  destination: SealInput['destination'];
}

export interface SealedPartInfo {
  kind: 'display' | 'attachment';
  size: number;
  /** Chunks it spans (more than one: flag 128, which libdime shows as separate pieces). */
  chunks: number;
}

export interface MimeSealOptions extends SealOptions {
  /** Date for a message without a Date header (default: now). */
  now?: Date;
}

/**
 * Seals an RFC 5322/MIME message file (message.md §8, §7.1) into `out` at bounded memory: a first
 * streaming pass over the MIME splitter learns the headers and every part's size (the section
 * padding and the body length need them), a second one pushes the bytes through SealWriter.
 */
export async function sealMimeFile(
  mimePath: string,
  parties: MimeSealParties,
  out: OutputFile,
  options: MimeSealOptions = {},
): Promise<{ size: number; parts: SealedPartInfo[] }> {
  const now = options.now ?? new Date();
  const read = () => createReadStream(mimePath, { highWaterMark: 1 << 20 });
  let fields: CommonHeaders | null = null;
  let other: Uint8Array = new Uint8Array(0);
  const parts: { kind: 'display' | 'attachment'; size: number }[] = [];
  for await (const item of splitMimeStream(read(), { now })) {
    if (item.kind === 'common-headers') fields = item.fields;
    else if (item.kind === 'other-headers') other = item.data;
    else {
      let size = 0;
      for await (const b of item.data) {
        size += b.length;
        processed(b.length);
      }
      parts.push({ kind: item.kind, size });
    }
  }
  if (!fields) throw new DimeError('BAD_MIME', 'the message has no header block');
  const sizes = (kind: string): PartSize[] =>
    parts.filter((p) => p.kind === kind).map((p) => ({ size: p.size }));
  const ordered = [
    ...parts.filter((p) => p.kind === 'display'),
    ...parts.filter((p) => p.kind === 'attachment'),
  ];
  if (ordered.some((p, i) => p !== parts[i])) {
    throw new DimeError('BAD_MIME', 'a display part follows an attachment');
  }
  const empty = parts.find((p) => p.size === 0);
  if (empty) throw new DimeError('BAD_MIME', `an empty ${empty.kind} part cannot be sealed`);
  const writer = new SealWriter(
    {
      ...parties,
      commonHeaders: fields,
      otherHeaders: other,
      display: sizes('display'),
      attachments: sizes('attachment'),
    },
    options,
  );
  try {
    writer.begin(out.create(writer.size));
    let n = 0;
    for await (const item of splitMimeStream(read(), { now })) {
      if (item.kind !== 'display' && item.kind !== 'attachment') continue;
      if (parts[n]?.kind !== item.kind) {
        throw new DimeError('IO_ERROR', 'the input changed between the two passes');
      }
      for await (const b of item.data) writer.write(b);
      writer.endPart();
      n++;
    }
    writer.finish();
  } catch (e) {
    writer.destroy();
    if (isDimeError(e) && e.code === 'BAD_INPUT' && /announced/.test(e.message)) {
      throw new DimeError('IO_ERROR', `the input changed between the two passes (${e.message})`);
    }
    throw e;
  }
  const max = options.maxChunkData ?? MAX_CHUNK_DATA;
  return {
    size: writer.size,
    parts: parts.map((p) => ({ ...p, chunks: splitLengths(p.size, max).length })),
  };
}
