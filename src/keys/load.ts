import { readU16 } from '../encoding/bytes.js';
import { decodeObjectInput, type InputForm } from '../encoding/input.js';
import { ObjectType, PROTECTED_KEY_LABEL } from '../encoding/object-types.js';
import { DimeError } from '../errors/index.js';
import { openKeyObject } from './encrypted-key.js';
import { type DimeKeys, type KeyKind, parseKeys } from './key-file.js';
import { unprotectKeyObject } from './protected-key.js';

export type KeyContainer = 'plain' | 'encrypted' | 'protected';

export interface LoadedKeys {
  keys: DimeKeys;
  /** How the input was encoded (armored, base64, binary). */
  inputForm: InputForm;
  container: KeyContainer;
}

export interface KeySecrets {
  /** Asked only for a protected key file; throw PASSPHRASE_REQUIRED when none is available. */
  passphrase?: () => string;
  /** 64-byte realm key for encrypted keys (types 1947/1976). */
  realmKey?: Uint8Array;
}

/**
 * Reads a private key in every form keys.md names: libdime or PRIME plain key objects (armored,
 * base64 or binary), encrypted keys under a realm key, and protected key files.
 */
export function loadKeys(
  data: Uint8Array,
  secrets: KeySecrets = {},
  expected?: readonly KeyKind[],
): LoadedKeys {
  const input = decodeObjectInput(data);
  if (input.label === PROTECTED_KEY_LABEL) {
    if (!secrets.passphrase)
      throw new DimeError('PASSPHRASE_REQUIRED', 'this key file is protected by a passphrase');
    const plain = unprotectKeyObject(input.binary, secrets.passphrase());
    return { keys: parseKeys(plain, expected), inputForm: input.form, container: 'protected' };
  }
  const type = input.binary.length >= 2 ? readU16(input.binary, 0) : -1;
  if (type === ObjectType.ENCRYPTED_ORG_KEY || type === ObjectType.ENCRYPTED_USER_KEY) {
    if (!secrets.realmKey)
      throw new DimeError('DECRYPT_FAILED', 'an encrypted key needs a realm key (--realm-key)');
    const plain = openKeyObject(input.binary, secrets.realmKey);
    return { keys: parseKeys(plain, expected), inputForm: input.form, container: 'encrypted' };
  }
  return { keys: parseKeys(input.binary, expected), inputForm: input.form, container: 'plain' };
}
