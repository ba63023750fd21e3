import { crypto } from '../crypto/index.js';
import { concatBytes } from '../encoding/bytes.js';
import { encodeField, type Field, genericWidth, splitFields } from '../encoding/fields.js';
import { readObjectHeader, writeObject } from '../encoding/object.js';
import { ObjectType } from '../encoding/object-types.js';
import { DimeError } from '../errors/index.js';

export type KeyKind = 'org' | 'user';
/** libdime's plain key file (`03|02 00 20 <scalar>`) or magma's PRIME form (`03|02 20 <scalar>`). */
export type KeyForm = 'libdime' | 'prime';

/** A private key pair: Ed25519 seed and secp256k1 scalar, with the derived public keys. */
export interface DimeKeys {
  kind: KeyKind;
  form: KeyForm;
  signingSeed: Uint8Array;
  encryptionPrivate: Uint8Array;
  signingPublic: Uint8Array;
  encryptionPublic: Uint8Array;
}

export const KEY_TYPE: Readonly<Record<KeyKind, number>> = {
  org: ObjectType.ORG_KEY,
  user: ObjectType.USER_KEY,
};
const ENC_FIELD: Readonly<Record<KeyKind, number>> = { org: 3, user: 2 };

/** keys.md §4: the libdime form has `00 20` + exactly 32 bytes that end the object. */
function keyWidth(kind: KeyKind) {
  return (fid: number, payload: Uint8Array, at: number) => {
    if (
      fid === ENC_FIELD[kind] &&
      payload[at] === 0x00 &&
      payload[at + 1] === 0x20 &&
      at + 34 === payload.length
    ) {
      return 2 as const;
    }
    return genericWidth(fid);
  };
}

function definedKeyField(kind: KeyKind, fid: number): boolean {
  return kind === 'org' ? fid >= 1 && fid <= 3 : fid === 1 || fid === 2;
}

/** Parses an org (1952) or user (2013) key object in either form and derives its public keys. */
export function parseKeys(bytes: Uint8Array, expected: readonly KeyKind[] = ['org', 'user']): DimeKeys {
  const header = readObjectHeader(
    bytes,
    expected.map((k) => KEY_TYPE[k]),
  );
  const kind: KeyKind = header.type === ObjectType.ORG_KEY ? 'org' : 'user';
  const fields = splitFields(bytes.subarray(5), keyWidth(kind));
  let prev = 0;
  for (const f of fields) {
    if (!definedKeyField(kind, f.id)) {
      throw new DimeError('UNKNOWN_FIELD', `field ${f.id} is not defined for a ${kind} key`, { fid: f.id });
    }
  }
  for (const f of fields) {
    if (f.id < prev) throw new DimeError('FIELD_ORDER', `field ${f.id} follows field ${prev}`, { fid: f.id });
    if (f.id === prev && f.id !== 2)
      throw new DimeError('DUPLICATE_FIELD', `field ${f.id} repeated`, { fid: f.id });
    prev = f.id;
  }
  const sign = fields.find((f) => f.id === 1);
  const enc = fields.find((f) => f.id === ENC_FIELD[kind]);
  if (!sign) throw new DimeError('MISSING_FIELD', 'signing key (field 1) is missing', { fid: 1 });
  if (!enc) throw new DimeError('MISSING_FIELD', 'encryption key is missing', { fid: ENC_FIELD[kind] });
  return keysFromFields(kind, sign, enc);
}

function keysFromFields(kind: KeyKind, sign: Field, enc: Field): DimeKeys {
  if (sign.data.length !== 32)
    throw new DimeError('BAD_KEY_LENGTH', `signing seed is ${sign.data.length} bytes`);
  if (enc.data.length !== 32)
    throw new DimeError('BAD_KEY_LENGTH', `encryption scalar is ${enc.data.length} bytes`);
  const c = crypto();
  if (!c.secp256k1PrivateKeyValid(enc.data)) {
    throw new DimeError('BAD_KEY', 'encryption scalar is zero or not below the curve order');
  }
  const signingSeed = new Uint8Array(sign.data);
  const encryptionPrivate = new Uint8Array(enc.data);
  return {
    kind,
    form: enc.prefix === 2 ? 'libdime' : 'prime',
    signingSeed,
    encryptionPrivate,
    signingPublic: c.ed25519PublicKey(signingSeed),
    encryptionPublic: c.secp256k1PublicKey(encryptionPrivate),
  };
}

/** A fresh key pair. */
export function generateKeys(kind: KeyKind): DimeKeys {
  const c = crypto();
  const signingSeed = c.randomBytes(32);
  const encryptionPrivate = c.secp256k1GeneratePrivate();
  return {
    kind,
    form: 'libdime',
    signingSeed,
    encryptionPrivate,
    signingPublic: c.ed25519PublicKey(signingSeed),
    encryptionPublic: c.secp256k1PublicKey(encryptionPrivate),
  };
}

/**
 * Serializes a key object. We write libdime's layout by default (keys.md §4 decision) so the
 * reference reads our plain key files; PRIME's on request (magma interop).
 */
export function serializeKeys(keys: DimeKeys, form: KeyForm = 'libdime'): Uint8Array {
  const payload = concatBytes(
    encodeField(1, keys.signingSeed, 1),
    encodeField(ENC_FIELD[keys.kind], keys.encryptionPrivate, form === 'libdime' ? 2 : 1),
  );
  return writeObject(KEY_TYPE[keys.kind], payload);
}

/** Overwrites the private halves. */
export function destroyKeys(keys: DimeKeys): void {
  crypto().zeroize(keys.signingSeed);
  crypto().zeroize(keys.encryptionPrivate);
}
