/** STACIE sizes and limits (stacie.md §1). */

/** Per-user salt (`STACIE_SALT_LENGTH`). */
export const STACIE_SALT_LENGTH = 128;
/** Per-challenge nonce (`STACIE_NONCE_LENGTH`). */
export const STACIE_NONCE_LENGTH = 128;
/** Per-user, per-realm shard (`STACIE_SHARD_LENGTH`). */
export const STACIE_SHARD_LENGTH = 64;
/** Keys, tokens, the seed and every `base` value are SHA-512 outputs. */
export const STACIE_KEY_LENGTH = 64;

/** `STACIE_KEY_ROUNDS_MIN` = 2^3. */
export const STACIE_KEY_ROUNDS_MIN = 8;
/** `STACIE_KEY_ROUNDS_MAX` = 2^24: the round counter is hashed as 3 bytes and never wraps. */
export const STACIE_KEY_ROUNDS_MAX = 0x1000000;
/** `STACIE_TOKEN_ROUNDS`. */
export const STACIE_TOKEN_ROUNDS = 8;
/** Largest bonus `deriveRounds` accepts (a u32; the sum is clamped, §3). */
export const STACIE_BONUS_MAX = 0xffffffff;

/** Realm envelope: serial(2) ‖ vshard(16) ‖ tshard(16). */
export const STACIE_ENVELOPE_HEADER_LENGTH = 34;
/** Smallest envelope: header + one 16-byte block (plaintexts of 1 … 11 bytes), §6 decision. */
export const STACIE_ENVELOPE_MIN_LENGTH = STACIE_ENVELOPE_HEADER_LENGTH + 16;
/** Plaintext bounds of a realm envelope (the length is framed as a u24). */
export const STACIE_ENCRYPT_MIN = 1;
export const STACIE_ENCRYPT_MAX = 0xffffff;
