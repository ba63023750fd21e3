/** Sizes and limits of the management record (record.md §3 "Limits"). */

/** Maximum size of the joined record text, in UTF-8 bytes (Decision, record.md §3). */
export const MAX_RECORD_BYTES = 4000;
/** Maximum number of `pok`, of `tls` and of `dx` values, each (Decision, record.md §3). */
export const MAX_LIST_ENTRIES = 8;
/** A DNS character-string holds at most 255 bytes. */
export const MAX_CHARACTER_STRING_BYTES = 255;

export const POK_BYTES = 32;
/** Unpadded standard base64 of 32 bytes. */
export const POK_BASE64_CHARS = 43;
export const TLS_SIGNATURE_BYTES = 64;
/** Unpadded standard base64 of 64 bytes. */
export const TLS_BASE64_CHARS = 86;

export const EXP_MIN_DAYS = 1;
export const EXP_MAX_DAYS = 3650;
