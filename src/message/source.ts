import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { DimeError } from '../errors/index.js';

/**
 * Random-access bytes: a message in memory or in a file. One implementation of seal, open and
 * origin signing serves both; in memory every read is a view (no copy), from a file it is a
 * positional read of only the bytes asked for, so memory does not grow with the message.
 */
export interface ByteSource {
  readonly size: number;
  /** A view of [offset, offset + length) when the bytes are in memory, else null. */
  view(offset: number, length: number): Uint8Array | null;
  /**
   * The bytes [offset, offset + length): a view in memory; from a file, read into `into` (when
   * given and large enough) or a fresh buffer. Short reads are TRUNCATED.
   */
  read(offset: number, length: number, into?: Uint8Array): Uint8Array;
}

/** A ByteSource that can also be written at any offset (the output of seal and origin signing). */
export interface ByteStore extends ByteSource {
  write(offset: number, bytes: Uint8Array): void;
}

function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
    throw new DimeError('BAD_INPUT', `bad byte range ${offset}+${length}`);
  }
  if (offset + length > size) {
    throw new DimeError('TRUNCATED', `byte range ${offset}+${length} runs past the end (${size} bytes)`, {
      offset,
      length,
      size,
    });
  }
}

/** Bytes in memory. */
export class MemorySource implements ByteSource {
  constructor(readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  view(offset: number, length: number): Uint8Array {
    checkRange(this.bytes.length, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }

  read(offset: number, length: number): Uint8Array {
    return this.view(offset, length);
  }
}

/** A fixed-size output buffer (seal and origin signing know the output size before writing). */
export class MemoryStore extends MemorySource implements ByteStore {
  constructor(size: number, bytes?: Uint8Array) {
    super(bytes ?? new Uint8Array(size));
  }

  /**
   * A store whose every byte the caller will write (seal and origin signing do) before it reads
   * any: the buffer is not zeroed first.
   */
  static forOverwrite(size: number): MemoryStore {
    const b = Buffer.allocUnsafeSlow(size);
    return new MemoryStore(size, new Uint8Array(b.buffer, b.byteOffset, b.length));
  }

  write(offset: number, bytes: Uint8Array): void {
    checkRange(this.bytes.length, offset, bytes.length);
    this.bytes.set(bytes, offset);
  }
}

/** A file read with positional reads; the size is taken when it is opened. */
export class FileSource implements ByteSource {
  protected constructor(
    readonly fd: number,
    public size: number,
    private readonly owned: boolean,
    readonly path: string,
  ) {}

  static open(path: string): FileSource {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new DimeError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`);
    }
    return new FileSource(fd, fstatSync(fd).size, true, path);
  }

  view(): null {
    return null;
  }

  read(offset: number, length: number, into?: Uint8Array): Uint8Array {
    checkRange(this.size, offset, length);
    const out = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = readSync(this.fd, out, done, length - done, offset + done);
      } catch (e) {
        throw new DimeError('IO_ERROR', `cannot read ${this.path}: ${(e as Error).message}`);
      }
      if (n === 0) {
        throw new DimeError('TRUNCATED', `${this.path} ended at ${offset + done} bytes while reading`, {
          offset: offset + done,
        });
      }
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.owned) closeSync(this.fd);
  }
}

/** A file written (and read back) at any offset, created or truncated when opened. */
export class FileStore extends FileSource implements ByteStore {
  static create(path: string, size: number, mode = 0o644): FileStore {
    let fd: number;
    try {
      fd = openSync(path, 'w+', mode);
    } catch (e) {
      throw new DimeError('IO_ERROR', `cannot write ${path}: ${(e as Error).message}`);
    }
    return new FileStore(fd, size, true, path);
  }

  write(offset: number, bytes: Uint8Array): void {
    checkRange(this.size, offset, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      try {
        done += writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
      } catch (e) {
        throw new DimeError('IO_ERROR', `cannot write ${this.path}: ${(e as Error).message}`);
      }
    }
  }
}

/** Block size of sequential passes over a file (memory per pass, not per message). */
export const BLOCK_SIZE = 1 << 20;

/**
 * The bytes [start, end) as a sequence of blocks: one view in memory, else reads into one reused
 * buffer (a block is only valid until the next one is produced).
 */
export function* blocks(
  source: ByteSource,
  start: number,
  end: number,
  blockSize = BLOCK_SIZE,
): Generator<Uint8Array> {
  if (end <= start) return;
  const v = source.view(start, end - start);
  if (v) {
    yield v;
    return;
  }
  const buf = new Uint8Array(Math.min(blockSize, end - start));
  for (let at = start; at < end; at += buf.length) {
    const n = Math.min(buf.length, end - at);
    yield source.read(at, n, buf);
    processed(n);
  }
}

/** Copies [start, end) of a source to `offset` in a store, block by block. */
export function copyRange(source: ByteSource, start: number, end: number, store: ByteStore, offset: number) {
  let at = offset;
  for (const b of blocks(source, start, end)) {
    store.write(at, b);
    at += b.length;
  }
}

let collectHook: (() => void) | null = null;
let sinceCollect = 0;
/** Bytes processed between two calls of the hook. */
const COLLECT_EVERY = 4 * 1024 * 1024;

/**
 * Sets a function the streaming paths call every few MiB of message they process: a command-line
 * tool passes a garbage collection here, so that the buffers the crypto and MIME streams leave
 * behind are freed as they go and memory stays flat (V8 otherwise lets tens of MiB of dead
 * buffers pile up before it collects). Null: nothing is called.
 */
export function setCollectHook(hook: (() => void) | null): void {
  collectHook = hook;
  sinceCollect = 0;
}

/** Called by the streaming paths with the bytes they just processed. */
export function processed(bytes: number): void {
  if (!collectHook) return;
  sinceCollect += bytes;
  if (sinceCollect >= COLLECT_EVERY) {
    sinceCollect = 0;
    collectHook();
  }
}
