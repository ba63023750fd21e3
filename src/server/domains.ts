/**
 * Local domains: each has an org key (DIME PROTECTED KEY under the server passphrase, keys.md §6),
 * its org signet (ID stage with field 253, so libdime resolvers accept the SGNT answer: README "SGNT
 * signet form"), and a DKIM key for outbound legacy mail (PKCS#8 encrypted under the same
 * passphrase). The store's domain row holds the org signet and `orgKeyRef` (the key file's path
 * relative to the data directory); the key itself never enters the database.
 */

import { createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { armor } from '../encoding/armor.js';
import { bytesEqual } from '../encoding/bytes.js';
import { DimeError } from '../errors/index.js';
import {
  type DimeKeys,
  destroyKeys,
  generateKeys,
  loadKeys,
  protectKeyObject,
  serializeKeys,
} from '../keys/index.js';
import { checkKeysMatchSignet } from '../message/parties.js';
import { createOrgSignet, parseOrgSignet, type Signet, signetId, verifySignet } from '../signet/index.js';
import type { Domain, MailStore } from '../store/index.js';
import { type DataPaths, readFileOrThrow, writeFileAtomic } from './data-dir.js';
import { encryptKeyPem } from './tls-material.js';

/** Makes a DKIM key pair: what src/server/mail's generateDkimKey returns. */
export type DkimKeyMaker = () => { privateKeyPem: string; publicKeyDnsValue: string };

export interface DkimKey {
  selector: string;
  /** Decrypted, memory only. */
  privateKeyPem: string;
  /** `v=DKIM1; k=rsa; p=…` */
  publicKeyDnsValue: string;
}

/** A local domain with its keys opened (memory only). */
export interface LocalDomain {
  id: number;
  name: string;
  orgKeys: DimeKeys;
  orgSignet: Signet;
  dkim: DkimKey | null;
}

const DOMAIN_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Lower-case, no final dot; BAD_INPUT for something that is not a domain name with at least two labels. */
export function normalizeDomainName(name: string): string {
  const d = name.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN_NAME.test(d)) throw new DimeError('BAD_INPUT', `not a domain name: ${JSON.stringify(name)}`);
  return d;
}

/** Writes the DKIM key files of a domain (when missing). */
function writeDkim(paths: DataPaths, domain: string, passphrase: string, make: DkimKeyMaker): void {
  if (existsSync(paths.dkimKey(domain))) return;
  const k = make();
  writeFileAtomic(paths.dkimKey(domain), encryptKeyPem(k.privateKeyPem, passphrase), 0o600);
  writeFileAtomic(paths.dkimPublic(domain), `${k.publicKeyDnsValue}\n`, 0o644, false);
}

/** An org key and org signet made elsewhere (`dime admin domain add --org-key --org-signet`). */
export interface ImportedOrgKey {
  /** The caller keeps ownership (addLocalDomain does not destroy them). */
  keys: DimeKeys;
  signet: Uint8Array;
}

function sameKeys(a: DimeKeys, b: DimeKeys): boolean {
  return bytesEqual(a.signingPublic, b.signingPublic) && bytesEqual(a.encryptionPublic, b.encryptionPublic);
}

/**
 * Checks an imported org key and signet for `domain`: an org signet whose own signatures verify
 * with its POK, whose keys are the key file's (SIGNET_MISMATCH otherwise) and whose ID field, when
 * present, names the domain (SIGNET_MISMATCH).
 */
export function checkImportedOrgKey(domain: string, imported: ImportedOrgKey): Signet {
  const signet = parseOrgSignet(imported.signet);
  const { keys } = imported;
  try {
    checkKeysMatchSignet('origin', keys, signet);
  } catch {
    throw new DimeError(
      'SIGNET_MISMATCH',
      `the org key does not belong to the org signet given for ${domain}`,
      {
        domain,
      },
    );
  }
  verifySignet(signet, { pok: [keys.signingPublic] });
  const id = signetId(signet);
  if (id !== null && id.toLowerCase().replace(/\.$/, '') !== domain) {
    throw new DimeError('SIGNET_MISMATCH', `the org signet is for ${JSON.stringify(id)}, not ${domain}`, {
      domain,
      id,
    });
  }
  return signet;
}

/**
 * A new local domain: org key and signet files, DKIM key, and the store row. CONFLICT when the
 * domain exists. The key files are written before the row, so a crash leaves at most unused files
 * (which a retry reuses: an existing org key file is loaded, not replaced).
 *
 * `imported`: the domain's existing org key and signet instead of new ones (checked with
 * checkImportedOrgKey); the key is stored protected under the passphrase like a generated one, the
 * signet as given. A key file left by an earlier attempt must hold the same key (CONFLICT).
 */
export async function addLocalDomain(
  store: MailStore,
  paths: DataPaths,
  name: string,
  passphrase: string,
  makeDkim: DkimKeyMaker,
  imported?: ImportedOrgKey,
): Promise<Domain> {
  const domain = normalizeDomainName(name);
  if (await store.getDomain(domain)) throw new DimeError('CONFLICT', `domain ${domain} exists already`);
  const importedSignet = imported ? checkImportedOrgKey(domain, imported) : null;
  let keys: DimeKeys | null = null;
  try {
    if (existsSync(paths.orgKey(domain))) {
      keys = loadKeys(readFileOrThrow(paths.orgKey(domain)), { passphrase: () => passphrase }, ['org']).keys;
      if (imported && !sameKeys(keys, imported.keys)) {
        throw new DimeError(
          'CONFLICT',
          `${paths.orgKey(domain)} exists already with another org key (remove it to import a different one)`,
          { domain },
        );
      }
    } else {
      // an imported key stays the caller's; a new one is ours to destroy
      if (!imported) keys = generateKeys('org');
      const plain = serializeKeys(imported ? imported.keys : keys!);
      try {
        writeFileAtomic(paths.orgKey(domain), protectKeyObject(plain, passphrase), 0o600);
      } finally {
        plain.fill(0);
      }
    }
    const signet = importedSignet ?? createOrgSignet(keys!, { stage: 'id', domain });
    writeFileAtomic(paths.orgSignet(domain), armor('ORGANIZATIONAL SIGNET', signet.bytes), 0o644, false);
    writeDkim(paths, domain, passphrase, makeDkim);
    return await store.addDomain({
      name: domain,
      orgKeyRef: paths.orgKeyRef(domain),
      orgSignet: signet.bytes,
    });
  } finally {
    if (keys) destroyKeys(keys);
  }
}

/** Opens a domain's org key and DKIM key (null DKIM when the domain has no key file). */
export function openLocalDomain(
  paths: DataPaths,
  row: Domain,
  passphrase: string,
  dkimSelector: string,
): LocalDomain {
  if (!row.orgKeyRef || !row.orgSignet) {
    throw new DimeError('NOT_FOUND', `domain ${row.name} has no org key`, { domain: row.name });
  }
  const keyFile = paths.resolve(row.orgKeyRef);
  const loaded = loadKeys(readFileOrThrow(keyFile), { passphrase: () => passphrase }, ['org']);
  if (loaded.container !== 'protected') {
    destroyKeys(loaded.keys);
    throw new DimeError(
      'IO_ERROR',
      `${keyFile} is not a protected key file (keys must not be stored in plain)`,
    );
  }
  const orgSignet = parseOrgSignet(row.orgSignet);
  if (!bytesEqual(orgSignet.signingKey, loaded.keys.signingPublic)) {
    destroyKeys(loaded.keys);
    throw new DimeError('SIGNET_MISMATCH', `the org key of ${row.name} does not match its org signet`);
  }
  let dkim: DkimKey | null = null;
  if (existsSync(paths.dkimKey(row.name))) {
    const pem = readFileOrThrow(paths.dkimKey(row.name)).toString('utf8');
    let privateKeyPem: string;
    try {
      privateKeyPem = decryptPem(pem, passphrase);
    } catch (e) {
      destroyKeys(loaded.keys);
      throw new DimeError(
        'DECRYPT_FAILED',
        `cannot open the DKIM key of ${row.name}: ${(e as Error).message}`,
      );
    }
    const publicKeyDnsValue = existsSync(paths.dkimPublic(row.name))
      ? readFileOrThrow(paths.dkimPublic(row.name)).toString('utf8').trim()
      : '';
    dkim = { selector: dkimSelector, privateKeyPem, publicKeyDnsValue };
  }
  return { id: row.id, name: row.name, orgKeys: loaded.keys, orgSignet, dkim };
}

function decryptPem(pem: string, passphrase: string): string {
  return createPrivateKey({ key: pem, format: 'pem', passphrase })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** Adds a missing DKIM key to an existing domain (domains made before a DKIM key maker was known). */
export function ensureDkimKey(
  paths: DataPaths,
  domain: string,
  passphrase: string,
  make: DkimKeyMaker,
): void {
  writeDkim(paths, domain, passphrase, make);
}
