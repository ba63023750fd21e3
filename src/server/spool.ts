/**
 * The spool key: the outbound queue's envelope and message bytes are sealed to it
 * (src/crypto/sealed-box.ts), so the database shows neither addresses nor content of queued mail.
 * It is a secp256k1 key pair kept as a DIME PROTECTED KEY (keys.md §6) under the server passphrase,
 * made on first start. Every server instance that shares a store must share this file.
 */

import { existsSync } from 'node:fs';
import { openForUser, sealForUser } from '../crypto/sealed-box.js';
import {
  type DimeKeys,
  destroyKeys,
  generateKeys,
  loadKeys,
  protectKeyObject,
  serializeKeys,
} from '../keys/index.js';
import { type DataPaths, readFileOrThrow, writeFileAtomic } from './data-dir.js';

export class SpoolKey {
  private constructor(private readonly keys: DimeKeys) {}

  /** Loads DATA/keys/spool.key, making it when `create` and it does not exist. */
  static load(paths: DataPaths, passphrase: string, create: boolean): SpoolKey {
    if (!existsSync(paths.spoolKey) && create) {
      const keys = generateKeys('user');
      const plain = serializeKeys(keys);
      try {
        writeFileAtomic(paths.spoolKey, protectKeyObject(plain, passphrase), 0o600);
      } finally {
        plain.fill(0);
      }
      return new SpoolKey(keys);
    }
    const loaded = loadKeys(readFileOrThrow(paths.spoolKey), { passphrase: () => passphrase }, ['user']);
    return new SpoolKey(loaded.keys);
  }

  seal(plain: Uint8Array): Uint8Array {
    return sealForUser(this.keys.encryptionPublic, plain);
  }

  open(sealed: Uint8Array): Uint8Array {
    return openForUser(this.keys.encryptionPrivate, sealed);
  }

  destroy(): void {
    destroyKeys(this.keys);
  }
}
