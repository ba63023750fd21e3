/**
 * Legacy mail authentication (issue 7): SPF, DKIM, DMARC and ARC of an inbound message with
 * mailauth, and DKIM signing of outbound legacy mail.
 *
 * DNS goes through an injected resolver function (createMailauthResolver over our DnsClient), so
 * `--resolver` applies and a failed lookup is a temperror within the client's budget (~2 s). A
 * temperror never rejects by itself: it is recorded here (`temperror`, the Authentication-Results
 * header) and the caller passes it on to the spam filter.
 *
 * Unlike mailauth's authenticate(), the checks run concurrently: DKIM and SPF at once, and the
 * DMARC record of the From domain is fetched while they run (each lookup is asked once per check),
 * so a dead resolver costs one lookup budget, not one per check. BIMI is not evaluated (it fetches
 * logos over HTTPS). A whole check is bounded by `timeoutMs`: lookups still pending then fail as
 * temporary failures.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import libmime from 'libmime';
import {
  type ARCResult,
  type AuthStatus,
  arc as arcVerify,
  type DKIMResult,
  type DKIMVerifyResult,
  type DMARCResult,
  type DNSResolver,
  dkimVerify,
  dmarc as dmarcVerify,
  dkimSign as mailauthDkimSign,
  type SPFResult,
  spf as spfVerify,
} from 'mailauth';
import addressparser from 'nodemailer/lib/addressparser';
import { DimeError } from '../../errors/index.js';
import { isTemporaryDnsCode, type MailauthDnsAnswer, type MailauthDnsResolver } from './mailauth-resolver.js';

export {
  createMailauthResolver,
  isTemporaryDnsCode,
  type MailauthDnsAnswer,
  type MailauthDnsError,
  type MailauthDnsErrorCode,
  type MailauthDnsResolver,
  type MailauthMx,
} from './mailauth-resolver.js';

/** The resolver function checkInboundAuthentication takes (mailauth's `resolver` shape). */
export type DnsLookup = MailauthDnsResolver;

/** A result of RFC 8601 (Authentication-Results) as mailauth reports it. */
export type AuthResultValue =
  | 'pass'
  | 'fail'
  | 'softfail'
  | 'neutral'
  | 'none'
  | 'temperror'
  | 'permerror'
  | 'policy'
  | 'skipped';

export interface InboundAuthenticationInput {
  /** The message as received (headers and body, CRLF). */
  readonly message: Uint8Array;
  /** MAIL FROM address without brackets; '' for the null sender (SPF then checks postmaster@HELO). */
  readonly mailFrom: string;
  /** The client's IP address. */
  readonly ip: string;
  /** The EHLO/HELO argument ('' when none was given: the IP stands in). */
  readonly helo: string;
  /** This server's host name: the authserv-id of Authentication-Results and SPF comments. */
  readonly mta: string;
  /** The DNS (createMailauthResolver). */
  readonly dns: DnsLookup;
  /** Bound on the whole check in ms (default 5000): lookups pending then are temporary failures. */
  readonly timeoutMs?: number;
  /** Smallest accepted RSA key for DKIM/ARC (default 1024 bits). */
  readonly minBitLength?: number;
  /** Clock for signature expiry (default now). */
  readonly now?: Date;
}

export interface DkimSignatureResult {
  /** d= */
  readonly domain: string;
  /** s= */
  readonly selector: string;
  readonly result: AuthResultValue;
  /** d= is aligned with the From domain. */
  readonly aligned: boolean;
  readonly algorithm: string | null;
  /** mailauth's comment (e.g. "bad signature", "no key", "DNS failure: ETIMEOUT"). */
  readonly comment: string | null;
}

/** One lookup that failed temporarily during the check. */
export interface DnsFailure {
  readonly name: string;
  readonly type: string;
  readonly code: string;
}

export interface InboundAuthentication {
  readonly spf: AuthResultValue;
  /** 'pass' if any signature passes, else temperror/fail/… of the signatures, 'none' without any. */
  readonly dkim: AuthResultValue;
  /** 'none' when the From domain publishes no policy or the message has no single From address. */
  readonly dmarc: AuthResultValue;
  readonly arc: AuthResultValue;
  /** Any of the checks ended in temperror (recorded, never a reason to reject by itself). */
  readonly temperror: boolean;
  /** `Authentication-Results: <mta>; …` (folded, CRLF-terminated), ready to prepend. */
  readonly authResultsHeader: string;
  /** `Received-SPF: …` (folded, CRLF-terminated), ready to prepend. */
  readonly receivedSpfHeader: string;
  /** Both header fields, Received-SPF first, as they are prepended. */
  readonly headers: string;
  readonly dkimSignatures: readonly DkimSignatureResult[];
  /** The policy DMARC asks for when it fails (p= or sp=, after pct), or null when there is none. */
  readonly dmarcPolicy: 'none' | 'quarantine' | 'reject' | null;
  /** The RFC5322.From domain DMARC evaluated, or null. */
  readonly headerFromDomain: string | null;
  /** Lookups that failed temporarily (timeouts, unreachable or bogus answers). */
  readonly dnsFailures: readonly DnsFailure[];
  readonly elapsedMs: number;
}

const DEFAULT_CHECK_TIMEOUT_MS = 5000;

/**
 * SPF (RFC 7208), DKIM (RFC 6376), ARC (RFC 8617) and DMARC (RFC 7489) of one inbound message.
 * Never rejects for DNS trouble: failures become temperror results. Throws only for bad arguments
 * (BAD_INPUT).
 */
export async function checkInboundAuthentication(
  input: InboundAuthenticationInput,
): Promise<InboundAuthentication> {
  const started = performance.now();
  if (!(input.message instanceof Uint8Array)) throw new DimeError('BAD_INPUT', 'message must be bytes');
  if (isIP(input.ip) === 0) throw new DimeError('BAD_INPUT', 'ip must be an IP address', { ip: input.ip });
  if (typeof input.dns !== 'function') throw new DimeError('BAD_INPUT', 'dns must be a resolver function');
  const timeoutMs = input.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const mta = input.mta;
  const message = Buffer.from(input.message.buffer, input.message.byteOffset, input.message.byteLength);

  const failures: DnsFailure[] = [];
  const dns = checkResolver(input.dns, started + timeoutMs, failures);
  const resolver = dns as unknown as DNSResolver;

  // The DMARC record of the From domain is wanted in any case: ask for it now.
  const fromDomain = headerFromDomain(message);
  if (fromDomain !== null) dns(`_dmarc.${fromDomain}`, 'TXT').catch(() => undefined);

  const sender = input.mailFrom === '' ? undefined : input.mailFrom;
  let helo = input.helo === '' ? input.ip : input.helo;
  if (isIP(helo) !== 0) helo = `[${helo}]`;

  const [dkimResult, spfResult] = await Promise.all([
    dkimVerify(message, {
      resolver,
      sender,
      minBitLength: input.minBitLength,
      ...(input.now ? { curTime: input.now } : {}),
    }),
    spfVerify({ sender, ip: input.ip, helo, mta, resolver }),
  ]);
  const arcData = (dkimResult as { arc?: Parameters<typeof arcVerify>[0] }).arc;
  const arcResult: ARCResult = arcData
    ? await arcVerify(arcData, { resolver, minBitLength: input.minBitLength })
    : { i: false, status: { result: 'none' } };

  let dmarcResult: DMARCResult | false = false;
  if (dkimResult.headerFrom) {
    dmarcResult = await dmarcVerify({
      headerFrom: dkimResult.headerFrom,
      spfDomains: spfResult.status.result === 'pass' && spfResult.domain ? [spfResult.domain] : [],
      dkimDomains: dkimResult.results
        .filter((r) => r.status.result === 'pass')
        .map((r) => ({
          id: r.id,
          domain: r.signingDomain,
          aligned: r.status.aligned,
          underSized: r.status.underSized,
        })),
      arcResult,
      resolver,
    });
  }

  const ar: string[] = [];
  for (const r of dkimResult.results) ar.push(libmime.foldLines(r.info, 160));
  ar.push(libmime.foldLines(spfResult.info, 160));
  if (arcResult.info) ar.push(libmime.foldLines(arcResult.info, 160));
  if (dmarcResult !== false && dmarcResult.info !== '') ar.push(libmime.foldLines(dmarcResult.info, 160));
  const authResultsHeader = `Authentication-Results: ${mta};\r\n ${ar.join(';\r\n ')}\r\n`;
  const receivedSpfHeader = `${spfResult.header}\r\n`;

  const spf = resultOf(spfResult.status);
  const dkimSignatures = dkimResult.results.map(signatureOf);
  const dkim = aggregateDkim(dkimSignatures);
  const dmarc = dmarcResult ? resultOf(dmarcResult.status) : 'none';
  const arc = resultOf(arcResult.status);
  return {
    spf,
    dkim,
    dmarc,
    arc,
    temperror: [spf, dkim, dmarc, arc].includes('temperror'),
    authResultsHeader,
    receivedSpfHeader,
    headers: receivedSpfHeader + authResultsHeader,
    dkimSignatures,
    dmarcPolicy: dmarcPolicyOf(dmarcResult),
    headerFromDomain: dmarcResult ? dmarcResult.domain || fromDomain : fromDomain,
    dnsFailures: failures,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/**
 * The check's view of the resolver: one lookup per name and type (later asks share the answer),
 * temporary failures recorded, and everything still pending at `deadline` failed as ETIMEOUT.
 */
function checkResolver(dns: DnsLookup, deadline: number, failures: DnsFailure[]): MailauthDnsResolver {
  const memo = new Map<string, Promise<MailauthDnsAnswer>>();
  return (name, rrtype) => {
    const key = `${String(name).toLowerCase().replace(/\.$/, '')} ${String(rrtype).toUpperCase()}`;
    let p = memo.get(key);
    if (p === undefined) {
      p = withDeadline(dns(name, rrtype), deadline, name, rrtype);
      p.catch((e: { code?: string }) => {
        if (isTemporaryDnsCode(e?.code) || e?.code === undefined) {
          failures.push({ name: String(name), type: String(rrtype).toUpperCase(), code: e?.code ?? 'ERROR' });
        }
      });
      memo.set(key, p);
    }
    return p;
  };
}

function withDeadline<T>(p: Promise<T>, deadline: number, name: string, rrtype: string): Promise<T> {
  const left = deadline - performance.now();
  const timeout = () =>
    Object.assign(new Error(`ETIMEOUT ${name} ${rrtype} (check deadline)`), {
      code: 'ETIMEOUT',
      hostname: name,
      rrtype,
    });
  if (left <= 0) {
    p.catch(() => undefined);
    return Promise.reject(timeout());
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeout()), left);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

const RESULTS: ReadonlySet<string> = new Set([
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
  'policy',
  'skipped',
]);

function resultOf(status: AuthStatus | undefined): AuthResultValue {
  const r = status?.result === 'temperr' ? 'temperror' : status?.result;
  return r !== undefined && RESULTS.has(r) ? (r as AuthResultValue) : 'none';
}

function signatureOf(r: DKIMResult): DkimSignatureResult {
  return {
    domain: r.signingDomain ?? '',
    selector: r.selector ?? '',
    result: resultOf(r.status),
    aligned: Boolean(r.status.aligned),
    algorithm: (r as { algo?: string }).algo ?? r.algorithm ?? null,
    comment: typeof r.status.comment === 'string' ? r.status.comment : null,
  };
}

function aggregateDkim(sigs: readonly DkimSignatureResult[]): AuthResultValue {
  if (sigs.length === 0) return 'none';
  for (const want of ['pass', 'temperror', 'fail', 'permerror', 'policy', 'neutral'] as const) {
    if (sigs.some((s) => s.result === want)) return want;
  }
  return sigs[0]!.result;
}

function dmarcPolicyOf(r: DMARCResult | false): InboundAuthentication['dmarcPolicy'] {
  if (r === false || r.rr === undefined || r.rr === '') return null;
  const p = String(r.policy ?? '').toLowerCase();
  return p === 'none' || p === 'quarantine' || p === 'reject' ? p : null;
}

/** The domain of the single RFC5322.From address, or null (none, several, unparsable). */
function headerFromDomain(message: Buffer): string | null {
  const end = message.indexOf('\r\n\r\n');
  const head = message.subarray(0, end < 0 ? Math.min(message.length, 65536) : end).toString('latin1');
  const lines = head.split(/\r?\n/);
  const fields: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += line;
    else fields.push(line);
  }
  const from = fields.filter((f) => /^from\s*:/i.test(f));
  if (from.length !== 1) return null;
  const addresses = addressparser(from[0]!.replace(/^from\s*:/i, ''), { flatten: true });
  if (addresses.length !== 1) return null;
  const at = addresses[0]!.address.lastIndexOf('@');
  const domain = at < 0 ? '' : addresses[0]!.address.slice(at + 1).toLowerCase();
  return /^[a-z0-9._-]+\.[a-z0-9-]+$/.test(domain) ? domain : null;
}

// --- DKIM signing --------------------------------------------------------------------------------

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimSignOptions {
  /** d= */
  readonly domain: string;
  /** s= */
  readonly selector: string;
  /** PKCS#8 (or PKCS#1 for RSA) PEM private key. */
  readonly privateKeyPem: string;
  /** Default 'rsa-sha256'; must match the key. */
  readonly algorithm?: DkimAlgorithm;
  /** Header fields to sign (default: mailauth's list: From, To, Subject, Date, Message-ID, …). */
  readonly headerList?: readonly string[];
  /** t= (default now). */
  readonly signTime?: Date;
  /** x= */
  readonly expires?: Date;
}

/**
 * The message with a DKIM-Signature header field prepended (relaxed/relaxed). A key that cannot
 * sign is BAD_KEY; an algorithm that does not match the key is BAD_INPUT.
 */
export async function dkimSign(message: Uint8Array, options: DkimSignOptions): Promise<Uint8Array> {
  const algorithm = options.algorithm ?? 'rsa-sha256';
  if (algorithm !== 'rsa-sha256' && algorithm !== 'ed25519-sha256') {
    throw new DimeError('BAD_INPUT', `unsupported DKIM algorithm ${String(algorithm)}`);
  }
  let keyType: string | undefined;
  try {
    keyType = createPrivateKey(options.privateKeyPem).asymmetricKeyType;
  } catch (e) {
    throw new DimeError('BAD_KEY', 'the DKIM private key cannot be read', { cause: String(e) });
  }
  const wanted = algorithm === 'rsa-sha256' ? 'rsa' : 'ed25519';
  if (keyType !== wanted) {
    throw new DimeError('BAD_INPUT', `a ${algorithm} signature needs an ${wanted} key, not ${keyType}`);
  }
  const input = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const result = await mailauthDkimSign(input, {
    canonicalization: 'relaxed/relaxed',
    algorithm,
    signTime: options.signTime ?? new Date(),
    ...(options.expires ? { expires: options.expires } : {}),
    ...(options.headerList ? { headerList: [...options.headerList] } : {}),
    signatureData: [
      {
        signingDomain: options.domain,
        selector: options.selector,
        privateKey: options.privateKeyPem,
        algorithm,
        canonicalization: 'relaxed/relaxed',
      },
    ],
  } as Parameters<typeof mailauthDkimSign>[1]);
  if (result.errors?.length || !/^DKIM-Signature:/i.test(result.signatures)) {
    throw new DimeError('BAD_KEY', 'DKIM signing failed', {
      errors: (result.errors ?? []).map((e) => String(e?.message ?? e)),
    });
  }
  return new Uint8Array(Buffer.concat([Buffer.from(result.signatures, 'latin1'), input]));
}

export interface DkimKey {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** The TXT value at `<selector>._domainkey.<domain>`: `v=DKIM1; k=rsa; p=…`. */
  readonly publicKeyDnsValue: string;
  readonly algorithm: DkimAlgorithm;
}

/**
 * A new DKIM key: RSA 2048 by default (`k=rsa`, p = base64 SubjectPublicKeyInfo), or Ed25519
 * (RFC 8463: `k=ed25519`, p = base64 of the 32 raw public key bytes).
 */
export function generateDkimKey(options: { algorithm?: DkimAlgorithm; bits?: number } = {}): DkimKey {
  const algorithm = options.algorithm ?? 'rsa-sha256';
  if (algorithm === 'ed25519-sha256') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    return {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyDnsValue: `v=DKIM1; k=ed25519; p=${spki.subarray(spki.length - 32).toString('base64')}`,
      algorithm,
    };
  }
  const bits = options.bits ?? 2048;
  if (!Number.isInteger(bits) || bits < 1024 || bits > 4096) {
    throw new DimeError('BAD_INPUT', 'DKIM RSA keys have 1024…4096 bits');
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyDnsValue: `v=DKIM1; k=rsa; p=${spki.toString('base64')}`,
    algorithm,
  };
}

/** `<selector>._domainkey.<domain>`, where the DKIM key TXT record is published. */
export function dkimRecordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain.replace(/\.$/, '')}`.toLowerCase();
}

export type { DKIMVerifyResult, SPFResult };
