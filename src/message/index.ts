/**
 * DMIME v1 messages (spec/message.md): the author's seal, the origin's signatures and every
 * actor's open, as pure functions over bytes. The MIME mapping lives on top of this API.
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
