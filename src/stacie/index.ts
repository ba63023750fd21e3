export {
  deriveEphemeralToken,
  deriveMasterKey,
  derivePasswordKey,
  deriveVerificationToken,
} from './chain.js';
export { passwordCharacterCount } from './characters.js';
export * from './constants.js';
export { type StacieInput, type StacieValues, stacieDerive } from './derive.js';
export { deriveKey } from './derive-key.js';
export { deriveToken } from './derive-token.js';
export { realmDecrypt, realmEncrypt, realmEnvelopeSerial } from './envelope.js';
export { fakeSalt } from './fake-salt.js';
export { decodeModifiedBase64, encodeModifiedBase64 } from './modified-base64.js';
export { deriveRealmKey, type RealmKeyOptions, type RealmKeyParts, splitRealmKey } from './realm-key.js';
export { deriveRounds } from './rounds.js';
export { deriveSeed } from './seed.js';
export { normalizeUsername } from './username.js';
export { verifyEphemeral, verifyPasswordKey } from './verify.js';
