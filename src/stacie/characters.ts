/**
 * Password character count (stacie.md §2.2): Unicode code points after strict UTF-8 decoding, not
 * counting Default_Ignorable_Code_Point (utf8proc's `ignorable`, which magma's `utf8_length_st`
 * skips). Invalid UTF-8 counts as 0, which makes the rounds derivation fail.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

export function passwordCharacterCount(password: Uint8Array): number {
  let text: string;
  try {
    text = strictUtf8.decode(password);
  } catch {
    return 0;
  }
  let count = 0;
  for (const ch of text) if (!IGNORABLE.test(ch)) count++;
  return count;
}
