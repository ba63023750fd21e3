/**
 * SPF/DKIM/DMARC/ARC with mailauth over the real DNS harness (Knot + Unbound, DNSSEC-signed zones):
 * keys made by generateDkimKey are published as TXT records, messages signed by dkimSign pass, and
 * DNS failures (a silent resolver, a bogus zone) become temperror results within the time limits.
 */
import { createPublicKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { dkimVerify, sealMessage } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimeError } from '../../../src/errors/index.js';
import {
  checkInboundAuthentication,
  createMailauthResolver,
  dkimRecordName,
  dkimSign,
  generateDkimKey,
} from '../../../src/server/mail/authentication.js';
import { aRecord, type DnsHarness, mxRecord, startDnsHarness, txt } from '../../helpers/dns-harness.js';
import { closedPort } from '../../resolver/helpers.js';

const rsa = generateDkimKey();
const ed = generateDkimKey({ algorithm: 'ed25519-sha256' });
const otherRsa = generateDkimKey();
const SENDER_IP = '198.18.0.10'; // RFC 2544 range: Unbound has no built-in reverse zone for it
const MTA = 'mx.receiver.test';

let h: DnsHarness;
let dns: ReturnType<typeof createMailauthResolver>;

beforeAll(async () => {
  h = await startDnsHarness({
    zones: {
      'sender.test': [
        txt('@', `v=spf1 ip4:${SENDER_IP} -all`),
        mxRecord('@', 10, 'mail'),
        aRecord('mail', SENDER_IP),
        txt('mail', `v=spf1 a -all`),
        txt('sel1._domainkey', rsa.publicKeyDnsValue),
        txt('ed1._domainkey', ed.publicKeyDnsValue),
        txt('_dmarc', 'v=DMARC1; p=reject; adkim=s; aspf=s'),
        txt('ptr', 'v=spf1 ptr:sender.test -all'),
        mxRecord('nomail', 0, '.'),
      ],
      'relaxed.test': [txt('@', 'v=spf1 -all'), txt('_dmarc', 'v=DMARC1; p=quarantine')],
      'broken.test': [
        txt('@', `v=spf1 ip4:${SENDER_IP} -all`),
        txt('sel1._domainkey', rsa.publicKeyDnsValue),
        txt('_dmarc', 'v=DMARC1; p=none'),
      ],
      '18.198.in-addr.arpa': [{ name: '10.0', type: 'PTR', data: 'mail.sender.test.' }],
    },
    bogus: ['sel1._domainkey.broken.test'],
  });
  dns = createMailauthResolver({ servers: [h.resolverAddress] });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

function message(from: string, body = 'Hello Bob,\r\n\r\nsee you at noon.\r\n', extra = ''): Uint8Array {
  return new TextEncoder().encode(
    `From: Alice <${from}>\r\nTo: Bob <bob@receiver.test>\r\nSubject: Lunch\r\n` +
      `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@sender.test>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n${extra}\r\n${body}`,
  );
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('createMailauthResolver (node:dns shapes over DnsClient)', () => {
  it('TXT, MX (null MX as ""), A, PTR; ENOTFOUND vs ENODATA', async () => {
    const spfTxt = (await dns('sender.test', 'TXT')) as string[][];
    expect(spfTxt).toEqual([[`v=spf1 ip4:${SENDER_IP} -all`]]);
    // a 2048-bit RSA key is longer than 255 bytes: several character-strings in one RR
    const key = (await dns('sel1._domainkey.sender.test', 'TXT')) as string[][];
    expect(key).toHaveLength(1);
    expect(key[0]!.length).toBeGreaterThan(1);
    expect(key[0]!.join('')).toBe(rsa.publicKeyDnsValue);
    expect(await dns('sender.test', 'MX')).toEqual([{ exchange: 'mail.sender.test', priority: 10 }]);
    expect(await dns('nomail.sender.test', 'MX')).toEqual([{ exchange: '', priority: 0 }]);
    expect(await dns('MAIL.sender.test.', 'A')).toEqual([SENDER_IP]);
    expect(await dns('10.0.18.198.in-addr.arpa', 'PTR')).toEqual(['mail.sender.test']);
    await expect(dns('nope.sender.test', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(dns('mail.sender.test', 'MX')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(dns('11.0.18.198.in-addr.arpa', 'PTR')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(dns('sender.test', 'CAA')).rejects.toMatchObject({ code: 'ENOTIMP' });
    await expect(dns('bad name!.test', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(dns('sel1._domainkey.broken.test', 'TXT')).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });

  it('a resolver that does not answer: ETIMEOUT within 2 s (TXT and PTR)', async () => {
    h.suspendResolver();
    try {
      for (const [name, type] of [
        ['sender.test', 'TXT'],
        ['10.0.18.198.in-addr.arpa', 'PTR'],
      ] as const) {
        const t = performance.now();
        await expect(dns(name, type)).rejects.toMatchObject({ code: 'ETIMEOUT' });
        const ms = performance.now() - t;
        expect(ms).toBeLessThan(2000);
        expect(ms).toBeGreaterThan(1000);
      }
    } finally {
      h.resumeResolver();
    }
  });
});

describe('dkimSign and generateDkimKey', () => {
  it('publishes the public key of the private key (RSA SPKI, Ed25519 raw 32 bytes)', () => {
    expect(rsa.publicKeyDnsValue).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/);
    const p = rsa.publicKeyDnsValue.split('p=')[1]!;
    const fromPrivate = createPublicKey(rsa.privateKeyPem).export({ type: 'spki', format: 'der' });
    expect(p).toBe(fromPrivate.toString('base64'));
    expect(createPublicKey(rsa.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    const edRaw = Buffer.from(ed.publicKeyDnsValue.split('p=')[1]!, 'base64');
    expect(edRaw).toHaveLength(32);
    const edSpki = createPublicKey(ed.privateKeyPem).export({ type: 'spki', format: 'der' });
    expect(edSpki.subarray(-32).equals(edRaw)).toBe(true);
    expect(dkimRecordName('Sel1', 'Sender.Test.')).toBe('sel1._domainkey.sender.test');
  });

  it('prepends one DKIM-Signature and keeps the message byte for byte', async () => {
    const m = message('alice@sender.test');
    const signed = await dkimSign(m, {
      domain: 'sender.test',
      selector: 'sel1',
      privateKeyPem: rsa.privateKeyPem,
    });
    const s = text(signed);
    expect(s).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=sender.test;/);
    expect(s.endsWith(text(m))).toBe(true);
    expect(s.match(/^DKIM-Signature:/gim)).toHaveLength(1);
  });

  it('refuses a key of the other algorithm and an unreadable key', async () => {
    const m = message('alice@sender.test');
    await expect(
      dkimSign(m, { domain: 'sender.test', selector: 's', privateKeyPem: ed.privateKeyPem }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(
      dkimSign(m, { domain: 'sender.test', selector: 's', privateKeyPem: 'not a key' }),
    ).rejects.toBeInstanceOf(DimeError);
    await expect(
      dkimSign(m, { domain: 'sender.test', selector: 's', privateKeyPem: 'not a key' }),
    ).rejects.toMatchObject({ code: 'BAD_KEY' });
  });
});

describe('checkInboundAuthentication', () => {
  it('RSA-signed mail from the permitted IP: SPF, DKIM and DMARC pass', async () => {
    const signed = await dkimSign(message('alice@sender.test'), {
      domain: 'sender.test',
      selector: 'sel1',
      privateKeyPem: rsa.privateKeyPem,
    });
    const r = await checkInboundAuthentication({
      message: signed,
      mailFrom: 'alice@sender.test',
      ip: SENDER_IP,
      helo: 'mail.sender.test',
      mta: MTA,
      dns,
    });
    expect(r).toMatchObject({ spf: 'pass', dkim: 'pass', dmarc: 'pass', arc: 'none', temperror: false });
    expect(r.dkimSignatures).toEqual([
      expect.objectContaining({ domain: 'sender.test', selector: 'sel1', result: 'pass', aligned: true }),
    ]);
    expect(r.dmarcPolicy).toBe('reject');
    expect(r.headerFromDomain).toBe('sender.test');
    expect(r.dnsFailures).toEqual([]);
    expect(r.authResultsHeader).toMatch(/^Authentication-Results: mx\.receiver\.test;\r\n /);
    expect(r.authResultsHeader).toMatch(
      /dkim=pass [^;]*header\.i=@sender\.test header\.s=sel1 header\.a=rsa-sha256/,
    );
    expect(r.authResultsHeader).toMatch(/spf=pass [^;]*smtp\.mailfrom=alice@sender\.test/);
    expect(r.authResultsHeader).toMatch(/dmarc=pass [^;]*header\.from=sender\.test/);
    expect(r.authResultsHeader.endsWith('\r\n')).toBe(true);
    expect(r.receivedSpfHeader).toMatch(
      /^Received-SPF: pass \(mx\.receiver\.test: domain of alice@sender\.test/,
    );
    expect(r.receivedSpfHeader).toContain(`client-ip=${SENDER_IP};`);
    expect(r.headers).toBe(r.receivedSpfHeader + r.authResultsHeader);
    // the headers are well-formed header fields: mailauth re-reads them as part of the message
    const again = await dkimVerify(Buffer.concat([Buffer.from(r.headers), Buffer.from(signed)]), {
      resolver: dns as never,
    });
    expect(again.results[0]?.status.result).toBe('pass');
  });

  it('Ed25519-signed mail passes DKIM (RFC 8463)', async () => {
    const signed = await dkimSign(message('alice@sender.test'), {
      domain: 'sender.test',
      selector: 'ed1',
      privateKeyPem: ed.privateKeyPem,
      algorithm: 'ed25519-sha256',
    });
    const r = await checkInboundAuthentication({
      message: signed,
      mailFrom: 'alice@sender.test',
      ip: SENDER_IP,
      helo: 'mail.sender.test',
      mta: MTA,
      dns,
    });
    expect(r).toMatchObject({ spf: 'pass', dkim: 'pass', dmarc: 'pass', temperror: false });
    expect(r.dkimSignatures[0]).toMatchObject({ algorithm: 'ed25519-sha256', result: 'pass' });
  });

  it('a changed body does not pass DKIM; a wrong key fails DKIM; DMARC still passes on aligned SPF', async () => {
    const signed = text(
      await dkimSign(message('alice@sender.test'), {
        domain: 'sender.test',
        selector: 'sel1',
        privateKeyPem: rsa.privateKeyPem,
      }),
    );
    const tampered = new TextEncoder().encode(signed.replace('see you at noon', 'send me money'));
    const r = await checkInboundAuthentication({
      message: tampered,
      mailFrom: 'alice@sender.test',
      ip: SENDER_IP,
      helo: 'mail.sender.test',
      mta: MTA,
      dns,
    });
    // mailauth reports a body hash mismatch as neutral (RFC 8601 §2.7.1 leaves it to the verifier)
    expect(r).toMatchObject({ spf: 'pass', dkim: 'neutral', dmarc: 'pass', temperror: false });
    expect(r.dkimSignatures[0]?.comment).toBe('body hash did not verify');
    const wrongKey = await dkimSign(message('alice@sender.test'), {
      domain: 'sender.test',
      selector: 'sel1',
      privateKeyPem: otherRsa.privateKeyPem,
    });
    const r2 = await checkInboundAuthentication({
      message: wrongKey,
      mailFrom: 'alice@sender.test',
      ip: SENDER_IP,
      helo: 'mail.sender.test',
      mta: MTA,
      dns,
    });
    expect(r2.dkim).toBe('fail');
  });

  it('an ARC-sealed forwarded message: arc=pass; changed after sealing: arc=fail', async () => {
    const original = await dkimSign(message('alice@sender.test'), {
      domain: 'sender.test',
      selector: 'sel1',
      privateKeyPem: rsa.privateKeyPem,
    });
    // a forwarder (here signing as sender.test with the published key) seals what it received
    const seal = await sealMessage(Buffer.from(original), {
      signingDomain: 'sender.test',
      selector: 'sel1',
      privateKey: rsa.privateKeyPem,
      authResults:
        'mx.forwarder.test; spf=pass smtp.mailfrom=alice@sender.test; dkim=pass header.d=sender.test',
      cv: 'none',
    } as Parameters<typeof sealMessage>[1]);
    const sealed = Buffer.concat([seal, Buffer.from(original)]);
    expect(seal.toString()).toMatch(/^ARC-Seal: i=1;/m);
    const r = await checkInboundAuthentication({
      message: sealed,
      mailFrom: 'list@forwarder.test',
      ip: '198.51.100.7',
      helo: 'mx.forwarder.test',
      mta: MTA,
      dns,
    });
    expect(r).toMatchObject({ arc: 'pass', dkim: 'pass', dmarc: 'pass', temperror: false });
    expect(r.authResultsHeader).toMatch(/arc=pass/);
    const broken = new TextEncoder().encode(
      sealed.toString('latin1').replace('Subject: Lunch', 'Subject: Lunch?'),
    );
    const r2 = await checkInboundAuthentication({
      message: broken,
      mailFrom: 'list@forwarder.test',
      ip: '198.51.100.7',
      helo: 'mx.forwarder.test',
      mta: MTA,
      dns,
    });
    expect(r2.arc).toBe('fail');
    expect(r2.dkim).toBe('fail');
  });

  it('forged mail from another IP: SPF fail, no DKIM, DMARC fail with p=reject', async () => {
    const r = await checkInboundAuthentication({
      message: message('alice@sender.test'),
      mailFrom: 'alice@sender.test',
      ip: '198.51.100.7',
      helo: 'forger.example',
      mta: MTA,
      dns,
    });
    expect(r).toMatchObject({ spf: 'fail', dkim: 'none', dmarc: 'fail', temperror: false });
    expect(r.dmarcPolicy).toBe('reject');
    expect(r.authResultsHeader).toMatch(/dkim=none/);
    expect(r.receivedSpfHeader).toMatch(/^Received-SPF: fail /);
    const q = await checkInboundAuthentication({
      message: message('carol@relaxed.test'),
      mailFrom: 'carol@relaxed.test',
      ip: '198.51.100.7',
      helo: 'forger.example',
      mta: MTA,
      dns,
    });
    expect(q).toMatchObject({ spf: 'fail', dmarc: 'fail', dmarcPolicy: 'quarantine' });
  });

  it('null sender: SPF checks postmaster@HELO; the ptr mechanism uses PTR lookups', async () => {
    const bounce = await checkInboundAuthentication({
      message: message('mailer-daemon@mail.sender.test'),
      mailFrom: '',
      ip: SENDER_IP,
      helo: 'mail.sender.test',
      mta: MTA,
      dns,
    });
    expect(bounce.spf).toBe('pass');
    expect(bounce.authResultsHeader).toContain('smtp.mailfrom=postmaster@mail.sender.test');
    const viaPtr = await checkInboundAuthentication({
      message: message('alice@ptr.sender.test'),
      mailFrom: 'alice@ptr.sender.test',
      ip: SENDER_IP,
      helo: 'mail.sender.test',
      mta: MTA,
      dns,
    });
    expect(viaPtr.spf).toBe('pass');
    const noPtr = await checkInboundAuthentication({
      message: message('alice@ptr.sender.test'),
      mailFrom: 'alice@ptr.sender.test',
      ip: '198.18.0.11',
      helo: 'mail.sender.test',
      mta: MTA,
      dns,
    });
    expect(noPtr.spf).toBe('fail');
  });

  it('a bogus DKIM key record is a DKIM temperror, recorded, not a rejection', async () => {
    const signed = await dkimSign(message('alice@broken.test'), {
      domain: 'broken.test',
      selector: 'sel1',
      privateKeyPem: rsa.privateKeyPem,
    });
    const r = await checkInboundAuthentication({
      message: signed,
      mailFrom: 'alice@broken.test',
      ip: SENDER_IP,
      helo: 'mail.broken.test',
      mta: MTA,
      dns,
    });
    expect(r).toMatchObject({ spf: 'pass', dkim: 'temperror', temperror: true });
    expect(r.dmarc).toBe('pass'); // aligned SPF pass
    expect(r.authResultsHeader).toMatch(/dkim=temperror/);
    expect(r.dnsFailures).toEqual([{ name: 'sel1._domainkey.broken.test', type: 'TXT', code: 'ESERVFAIL' }]);
  });

  it('resolver silent: every check is temperror, the whole check within ~2 s', async () => {
    const signed = await dkimSign(message('alice@sender.test'), {
      domain: 'sender.test',
      selector: 'sel1',
      privateKeyPem: rsa.privateKeyPem,
    });
    h.suspendResolver();
    let r: Awaited<ReturnType<typeof checkInboundAuthentication>>;
    const t = performance.now();
    try {
      r = await checkInboundAuthentication({
        message: signed,
        mailFrom: 'alice@sender.test',
        ip: SENDER_IP,
        helo: 'mail.sender.test',
        mta: MTA,
        dns,
      });
    } finally {
      h.resumeResolver();
    }
    const ms = performance.now() - t;
    expect(ms).toBeLessThan(2500);
    expect(r).toMatchObject({ spf: 'temperror', dkim: 'temperror', dmarc: 'temperror', temperror: true });
    expect(r.authResultsHeader).toMatch(/spf=temperror/);
    expect(r.authResultsHeader).toMatch(/dkim=temperror/);
    expect(r.authResultsHeader).toMatch(/dmarc=temperror/);
    expect(r.receivedSpfHeader).toMatch(/^Received-SPF: temperror /);
    expect(r.dnsFailures.map((f) => `${f.name} ${f.type} ${f.code}`).sort()).toEqual([
      '_dmarc.sender.test TXT ETIMEOUT',
      'sel1._domainkey.sender.test TXT ETIMEOUT',
      'sender.test TXT ETIMEOUT',
    ]);
  });

  it('resolver address where nothing listens: temperror at once; the check deadline bounds slow DNS', async () => {
    const dead = createMailauthResolver({ servers: [`127.0.0.1:${await closedPort()}`] });
    const t = performance.now();
    const r = await checkInboundAuthentication({
      message: message('alice@sender.test'),
      mailFrom: 'alice@sender.test',
      ip: SENDER_IP,
      helo: 'mail.sender.test',
      mta: MTA,
      dns: dead,
    });
    expect(performance.now() - t).toBeLessThan(2000);
    expect(r).toMatchObject({ spf: 'temperror', dkim: 'none', dmarc: 'temperror', temperror: true });

    // a resolver function that never answers: the check's own deadline ends it
    const never = () => new Promise<never>(() => {});
    const t2 = performance.now();
    const r2 = await checkInboundAuthentication({
      message: message('alice@sender.test'),
      mailFrom: 'alice@sender.test',
      ip: SENDER_IP,
      helo: 'mail.sender.test',
      mta: MTA,
      dns: never,
      timeoutMs: 300,
    });
    const ms2 = performance.now() - t2;
    expect(ms2).toBeLessThan(1000);
    expect(ms2).toBeGreaterThanOrEqual(290);
    expect(r2).toMatchObject({ spf: 'temperror', dmarc: 'temperror', temperror: true });
  });

  it('bad arguments are BAD_INPUT', async () => {
    await expect(
      checkInboundAuthentication({
        message: message('alice@sender.test'),
        mailFrom: 'alice@sender.test',
        ip: 'not-an-ip',
        helo: 'x',
        mta: MTA,
        dns,
      }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
