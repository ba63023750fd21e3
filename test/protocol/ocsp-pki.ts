/**
 * A test PKI made with Debian's `openssl` CLI, and real OCSP responders (`openssl ocsp -index …`)
 * on loopback ports, for the OCSP step of the DX certificate check (record.md §5, no pin).
 *
 * The CA (RSA) issues DX leaves whose Authority Information Access names an OCSP URL, delegated
 * responder certificates (with or without id-kp-OCSPSigning), and the index.txt that the responders
 * read ('V' valid, 'R' revoked; a serial not in it is unknown). An impostor has the CA's name but
 * its own key; a second CA is a stranger to all of it. Nothing is mocked.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '../resolver/helpers.js';

export interface Issued {
  readonly keyFile: string;
  readonly certFile: string;
  readonly keyPem: string;
  readonly certPem: string;
  /** Leaf then the CA (what a DX sends, D15). */
  readonly chainPem: string;
  readonly certDer: Uint8Array;
  /** Serial in hex, upper case (index.txt). */
  readonly serial: string;
}

export interface Authority {
  readonly name: string;
  readonly keyFile: string;
  readonly certFile: string;
  readonly certPem: string;
  readonly certDer: Uint8Array;
}

export interface IndexEntry {
  readonly serial: string;
  readonly subject: string;
  /** Revocation: UTC time `YYMMDDHHMMSSZ` and an optional CRL reason (keyCompromise, …). */
  readonly revoked?: { at: string; reason?: string };
}

export interface Responder {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export interface ResponderOptions {
  readonly index: string;
  /** The CA whose certificates it answers for (`-CA`). */
  readonly ca: Authority;
  readonly signerCert: string;
  readonly signerKey: string;
  readonly port?: number;
  /** Extra arguments (`-resp_key_id`, `-rcid sha256`, `-resp_no_certs`, `-ndays 1`, …). */
  readonly args?: readonly string[];
}

export class OcspPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'dime-ocsp-'));
  private readonly children = new Set<ChildProcess>();
  private nextSerial = 0x1000;

  openssl(...args: string[]): string {
    return execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString(
      'utf8',
    );
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private key(name: string, type: 'rsa' | 'ec'): string {
    const f = this.file(`${name}.key`);
    if (type === 'rsa')
      this.openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f);
    else this.openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f);
    return f;
  }

  /** A self-signed CA (`name` is also its CN). */
  authority(name: string, file: string): Authority {
    const keyFile = this.key(file, 'rsa');
    const certFile = this.file(`${file}.pem`);
    this.openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-out',
      certFile,
      '-days',
      '30',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    const certPem = readFileSync(certFile, 'utf8');
    return { name, keyFile, certFile, certPem, certDer: pemToDer(certPem) };
  }

  /** A certificate signed by `ca` with the given extensions (openssl x509 -extfile syntax). */
  issue(
    ca: Authority,
    file: string,
    cn: string,
    extensions: string[],
    keyType: 'rsa' | 'ec' = 'rsa',
  ): Issued {
    const keyFile = this.key(file, keyType);
    const csr = this.file(`${file}.csr`);
    const ext = this.file(`${file}.ext`);
    const certFile = this.file(`${file}.pem`);
    const serial = (this.nextSerial++).toString(16).toUpperCase();
    writeFileSync(ext, `${extensions.join('\n')}\n`);
    this.openssl('req', '-new', '-key', keyFile, '-out', csr, '-subj', `/CN=${cn}`);
    this.openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      `0x${serial}`,
      '-days',
      '30',
      '-extfile',
      ext,
      '-out',
      certFile,
    );
    const certPem = readFileSync(certFile, 'utf8');
    return {
      keyFile,
      certFile,
      keyPem: readFileSync(keyFile, 'utf8'),
      certPem,
      chainPem: `${certPem}${ca.certPem}`,
      certDer: pemToDer(certPem),
      serial,
    };
  }

  /** A DX leaf for `host`, its AIA naming `ocspUrl` (none when null). */
  dxLeaf(ca: Authority, file: string, host: string, ocspUrl: string | null): Issued {
    return this.issue(ca, file, host, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=DNS:${host}`,
      ...(ocspUrl ? [`authorityInfoAccess=OCSP;URI:${ocspUrl}`] : []),
    ]);
  }

  /** A responder certificate issued by `ca`: with id-kp-OCSPSigning unless `ocspSigning` is false. */
  responderCert(ca: Authority, file: string, ocspSigning = true, keyType: 'rsa' | 'ec' = 'ec'): Issued {
    return this.issue(
      ca,
      file,
      `OCSP responder ${file}`,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        ocspSigning ? 'extendedKeyUsage=OCSPSigning' : 'extendedKeyUsage=serverAuth',
      ],
      keyType,
    );
  }

  /** Writes an index.txt; returns its path. */
  index(file: string, entries: readonly IndexEntry[]): string {
    const f = this.file(file);
    const lines = entries.map((e) => {
      const rev = e.revoked ? `${e.revoked.at}${e.revoked.reason ? `,${e.revoked.reason}` : ''}` : '';
      return [e.revoked ? 'R' : 'V', '300101000000Z', rev, e.serial, 'unknown', e.subject].join('\t');
    });
    writeFileSync(f, `${lines.join('\n')}\n`);
    writeFileSync(`${f}.attr`, 'unique_subject = no\n');
    return f;
  }

  /**
   * An index.txt of the named leaves the CA knows (all but `unknown`): subject `/CN=host(name)`,
   * revoked as `revoked(name)` says.
   */
  leafIndex(
    file: string,
    leaves: Readonly<Record<string, Issued>>,
    host: (name: string) => string,
    revoked: (name: string) => IndexEntry['revoked'],
  ): string {
    return this.index(
      file,
      Object.entries(leaves)
        .filter(([n]) => n !== 'unknown')
        .map(([n, l]) => {
          const r = revoked(n);
          return { serial: l.serial, subject: `/CN=${host(n)}`, ...(r ? { revoked: r } : {}) };
        }),
    );
  }

  /** Starts `openssl ocsp` as a responder; resolves once it waits for connections. */
  async responder(o: ResponderOptions): Promise<Responder> {
    const port = o.port ?? (await closedPort());
    const child = spawn(
      'openssl',
      [
        'ocsp',
        '-index',
        o.index,
        '-port',
        String(port),
        '-rsigner',
        o.signerCert,
        '-rkey',
        o.signerKey,
        '-CA',
        o.ca.certFile,
        ...(o.args ?? []),
      ],
      { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.children.add(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`openssl ocsp did not start: ${out}`)), 10_000);
      const seen = (d: Buffer) => {
        out += d.toString('utf8');
        if (out.includes('waiting for OCSP client connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', seen);
      child.stderr!.on('data', seen);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`openssl ocsp exited (${code}): ${out}`));
      });
    });
    return {
      port,
      url: `http://127.0.0.1:${port}/`,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
        this.children.delete(child);
      },
    };
  }

  /** A responder signing with `ca`'s own key (no delegated certificate), responses valid for a day. */
  caResponder(index: string, ca: Authority, port: number): Promise<Responder> {
    return this.responder({
      index,
      ca,
      signerCert: ca.certFile,
      signerKey: ca.keyFile,
      port,
      args: ['-ndays', '1'],
    });
  }

  /** A DER OCSP response fetched with `openssl ocsp` as client (no nonce: for stapling). */
  fetchResponse(ca: Authority, cert: Issued, url: string): Uint8Array {
    const out = this.file(`resp-${cert.serial}-${Date.now()}.der`);
    this.openssl(
      'ocsp',
      '-issuer',
      ca.certFile,
      '-cert',
      cert.certFile,
      '-url',
      url,
      '-no_nonce',
      '-noverify',
      '-respout',
      out,
    );
    return new Uint8Array(readFileSync(out));
  }

  async close(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    }
    await Promise.all(
      [...this.children].map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? Promise.resolve()
          : new Promise<void>((r) => c.once('exit', () => r())),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
