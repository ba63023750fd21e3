import type { DeliveryResult, MessageSink } from '../protocol/index.js';

/**
 * A MessageSink that gathers the content in memory (the session already enforces the size limit),
 * then hands the whole message to `finish` for the final reply. Mail of tens of MB is fine in
 * memory; the store keeps blobs whole too (src/store/README.md).
 */
export function bufferSink(
  finish: (message: Uint8Array) => Promise<DeliveryResult>,
  onAbort?: (reason: string) => void,
): MessageSink {
  const parts: Buffer[] = [];
  let size = 0;
  let done = false;
  return {
    write(chunk) {
      if (done) return;
      parts.push(Buffer.from(chunk));
      size += chunk.length;
    },
    async end() {
      done = true;
      const message = new Uint8Array(Buffer.concat(parts, size));
      parts.length = 0;
      return finish(message);
    },
    abort(reason) {
      done = true;
      parts.length = 0;
      onAbort?.(reason);
    },
  };
}
