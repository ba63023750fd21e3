import { DimeError } from '../errors/index.js';
import { checkLabelType, dearmor, looksArmored } from './armor.js';
import { fromBase64 } from './base64.js';

export type InputForm = 'armored' | 'base64' | 'binary';

export interface DecodedInput {
  form: InputForm;
  label: string | null;
  binary: Uint8Array;
}

const B64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

/**
 * Accepts an object as armored text, bare base64 (libdime's `b64_serialize`) or binary, telling the
 * forms apart by content: binary objects start with 0x04..0x07, which are not base64 characters.
 */
export function decodeObjectInput(data: Uint8Array): DecodedInput {
  if (data.length === 0) throw new DimeError('TRUNCATED', 'empty input');
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 1 << 20)).toString(
    'latin1',
  );
  if (looksArmored(head) || looksArmored(Buffer.from(data).toString('latin1'))) {
    const { label, binary } = dearmor(Buffer.from(data).toString('latin1'));
    checkLabelType(label, binary);
    return { form: 'armored', label, binary };
  }
  const first = data[0]!;
  const isText = first !== 0x04 && first !== 0x06 && first !== 0x07;
  if (isText) {
    const text = Buffer.from(data).toString('latin1');
    if (B64_TEXT.test(text)) {
      try {
        return { form: 'base64', label: null, binary: fromBase64(text.replace(/\s+/g, ''), 'optional') };
      } catch {
        // not base64 after all: fall through to binary
      }
    }
  }
  return { form: 'binary', label: null, binary: data };
}
