/**
 * DMIME v1 messages (spec/message.md): the author's seal, the origin's signatures and every
 * actor's open. One implementation over random-access byte sources (source.ts: memory or file):
 * SealWriter writes a message chunk by chunk into a store, openSource checks everything an actor
 * can check in one pass before partChunks releases any content, signAsOriginSource signs in
 * place; every full signature covers one contiguous range, signed and verified in passes
 * (ed25519.ts), so memory does not grow with the message. sealMessage, openMessage and
 * signAsOrigin are the same code over bytes in memory. files.ts: the file and MIME glue the CLI
 * uses; the MIME mapping itself is in ./mime.
 */
export * from './chunk-codec.js';
export * from './chunk-crypto.js';
export * from './constants.js';
export * from './content.js';
export * from './ed25519.js';
export * from './envelope.js';
export * from './framing.js';
export * from './headers.js';
export * from './kek.js';
export * from './keyslot.js';
export * from './layout.js';
export * from './open.js';
export * from './open-options.js';
export * from './origin-sign.js';
export * from './payload.js';
export * from './seal.js';
export * from './signature-inputs.js';
export * from './source.js';
export * from './view.js';
