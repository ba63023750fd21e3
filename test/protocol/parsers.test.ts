/**
 * Pure pieces: DMTP and SMTP command parsers, address syntax, line reader, DATA decoder, SASL,
 * reply formatting.
 */

import { describe, expect, it } from 'vitest';
import {
  classifyFingerprint,
  DotDataDecoder,
  decodeSaslBase64,
  formatReply,
  InputQueue,
  isAddressLiteral,
  isDomain,
  isFingerprint,
  parseDmtpCommand,
  parseMailbox,
  parsePath,
  parsePlainMessage,
  parseSmtpCommand,
  reply,
} from '../../src/protocol/index.js';

const FP = `${'A'.repeat(85)}Q`;
const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const dec = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function dmtpOk(line: string) {
  const r = parseDmtpCommand(line);
  if (!r.ok) throw new Error(`${line}: ${r.error.code} ${r.error.message}`);
  return r.command;
}

function dmtpErr(line: string): number {
  const r = parseDmtpCommand(line);
  if (r.ok) throw new Error(`${line} parsed`);
  return r.error.code;
}

describe('DMTP command parser', () => {
  it('positional forms (libdime resolver) and named forms (libdime formatter)', () => {
    expect(dmtpOk('MAIL FROM: <alpha.test> [fingerprint] SIZE=4515')).toEqual({
      verb: 'MAIL',
      domain: 'alpha.test',
      fingerprint: { kind: 'placeholder' },
      size: 4515,
      ret: null,
      data: null,
    });
    expect(dmtpOk(`MAIL FROM=<alpha.test> FINGERPRINT=[${FP}]`)).toMatchObject({
      fingerprint: { kind: 'fingerprint', value: FP },
      size: null,
    });
    expect(dmtpOk('mail from:<alpha.test> [] size=9 return=header data=7bit')).toMatchObject({
      fingerprint: { kind: 'empty' },
      size: 9,
      ret: 'HEADER',
      data: '7BIT',
    });
    expect(dmtpOk('RCPT TO: <beta.test> [fingerprint]')).toEqual({
      verb: 'RCPT',
      domain: 'beta.test',
      fingerprint: { kind: 'placeholder' },
    });
    expect(dmtpOk(`RCPT TO=<beta.test> FINGERPRINT=[${FP}]`)).toMatchObject({ fingerprint: { value: FP } });
    expect(dmtpOk('DATA')).toEqual({ verb: 'DATA', hash: null });
    expect(dmtpOk(`DATA [${FP}]`)).toEqual({ verb: 'DATA', hash: { kind: 'fingerprint', value: FP } });
    expect(dmtpOk('SGNT <user@beta.test>')).toEqual({
      verb: 'SGNT',
      target: { kind: 'user', address: 'user@beta.test', domain: 'beta.test' },
      fingerprint: null,
    });
    expect(dmtpOk(`SGNT DOMAIN=<beta.test> FINGERPRINT=[${FP}]`)).toEqual({
      verb: 'SGNT',
      target: { kind: 'org', domain: 'beta.test' },
      fingerprint: FP,
    });
    expect(dmtpOk(`HIST USER=<u@beta.test> START=[${FP}] STOP=[${FP}]`)).toMatchObject({
      start: FP,
      stop: FP,
    });
    expect(dmtpOk(`HIST <u@beta.test> [${FP}]`)).toMatchObject({ start: FP, stop: null });
    expect(dmtpOk(`VRFY <beta.test> [${FP}]`)).toMatchObject({ target: { kind: 'org' }, fingerprint: FP });
    expect(dmtpOk('STARTTLS <dx.beta.test> MODE=DMTPv1')).toEqual({
      verb: 'STARTTLS',
      host: 'dx.beta.test',
      mode: 'DMTPv1',
    });
    expect(dmtpOk('STARTTLS HOST=<dx.beta.test> MODE=DMTP')).toMatchObject({ mode: 'DMTPv1' });
    expect(dmtpOk('STARTTLS <dx.beta.test> MODE=esmtp')).toMatchObject({ mode: 'ESMTP' });
    expect(dmtpOk('STARTTLS <dx.beta.test>')).toMatchObject({ mode: 'DMTPv1' });
    expect(dmtpOk('EHLO <a.test>')).toEqual({ verb: 'EHLO', host: 'a.test' });
    expect(dmtpOk('HELO HOST=<a.test>')).toEqual({ verb: 'HELO', host: 'a.test' });
    expect(dmtpOk('STATS [n0nce]')).toEqual({ verb: 'STATS', nonce: 'n0nce' });
    expect(dmtpOk('NOOP x y z')).toEqual({ verb: 'NOOP' });
    expect(dmtpOk('MAIL  FROM:  <alpha.test>   [fingerprint]  ')).toMatchObject({ domain: 'alpha.test' });
  });

  it('typed errors: 500 unknown, 501 syntax, 504 mode', () => {
    expect(dmtpErr('')).toBe(500);
    expect(dmtpErr('XYZZY')).toBe(500);
    expect(dmtpErr(' MODE')).toBe(500);
    expect(dmtpErr('MODE\0')).toBe(500);
    expect(dmtpErr('STARTTLS <dx.beta.test> MODE=IMAP')).toBe(504);
    for (const bad of [
      'MAIL FROM: <alpha.test>',
      'MAIL FROM: <alpha.test> [fp]',
      `MAIL FROM: <alpha.test> ${FP}`,
      'MAIL FROM: <-bad.test> [fingerprint]',
      'MAIL FROM: <alpha.test> [fingerprint] SIZE=-1',
      'MAIL FROM: <alpha.test> [fingerprint] SIZE=1 SIZE=2',
      'MAIL FROM: <alpha.test> [fingerprint] X=1',
      'MAIL FROM=<alpha.test> [fingerprint]',
      'MAIL <alpha.test> [fingerprint]',
      'RCPT TO: <beta.test> [fingerprint] SIZE=1',
      'DATA [zz]',
      'DATA [a] [b]',
      'SGNT',
      'SGNT <>',
      'SGNT <a@b@c.test>',
      'SGNT <beta.test> [fingerprint]',
      `SGNT <beta.test> [${FP.slice(1)}]`,
      `SGNT <beta.test> [${FP.slice(0, 85)}B]`,
      'SGNT <beta.test',
      'SGNT USER=<beta.test>',
      'SGNT DOMAIN=<a@beta.test>',
      'SGNT <a.test> <b.test>',
      `HIST <u@beta.test> STOP=[${FP}]`,
      'VRFY',
      'STATS nonce',
      'STATS []',
      'EHLO',
      'EHLO [a.test]',
      'STARTTLS',
      'STARTTLS <dx.beta.test> DMTPv1',
      'STARTTLS dx.beta.test MODE=DMTPv1',
      'STARTTLS <dx.beta.test> MODE=<DMTPv1>',
      'MODE now',
      'QUIT now',
      'RSET x',
      'SGNT <beta.test>\t',
    ]) {
      expect(dmtpErr(bad), bad).toBe(501);
    }
  });

  it('fingerprints: 86 canonical base64 characters; placeholder and empty only where lenient', () => {
    expect(isFingerprint(FP)).toBe(true);
    expect(isFingerprint(`${FP}=`)).toBe(false);
    expect(isFingerprint(`${'A'.repeat(85)}B`)).toBe(false);
    expect(classifyFingerprint('fingerprint', false)).toBeNull();
    expect(classifyFingerprint('fingerprint', true)).toEqual({ kind: 'placeholder' });
    expect(classifyFingerprint('', true)).toEqual({ kind: 'empty' });
    expect(classifyFingerprint('x', true)).toBeNull();
  });
});

describe('SMTP command parser', () => {
  const ok = (line: string) => {
    const r = parseSmtpCommand(line);
    if (!r.ok) throw new Error(`${line}: ${r.error.code} ${r.error.message}`);
    return r.command;
  };
  const err = (line: string) => {
    const r = parseSmtpCommand(line);
    if (r.ok) throw new Error(`${line} parsed`);
    return r.error.code;
  };

  it('commands and parameters', () => {
    expect(ok('EHLO mail.alpha.test')).toEqual({ verb: 'EHLO', host: 'mail.alpha.test' });
    expect(ok('ehlo [192.0.2.1]')).toEqual({ verb: 'EHLO', host: '[192.0.2.1]' });
    expect(ok('MAIL FROM:<a@alpha.test> SIZE=100 BODY=8bitmime')).toEqual({
      verb: 'MAIL',
      address: 'a@alpha.test',
      params: { size: 100, body: '8BITMIME', auth: null },
    });
    expect(ok('MAIL FROM:<>')).toMatchObject({ address: '' });
    expect(ok('MAIL FROM: <"a b"@alpha.test>')).toMatchObject({ address: '"a b"@alpha.test' });
    expect(ok('MAIL FROM:<a@[IPv6:2001:db8::1]> AUTH=a+2Bb')).toMatchObject({ params: { auth: 'a+2Bb' } });
    expect(ok('RCPT TO:<@x.test:b@beta.test>')).toEqual({ verb: 'RCPT', address: 'b@beta.test' });
    expect(ok('RCPT TO:<postmaster>')).toEqual({ verb: 'RCPT', address: 'postmaster' });
    expect(ok('BDAT 100 LAST')).toEqual({ verb: 'BDAT', size: 100, last: true });
    expect(ok('BDAT 0')).toEqual({ verb: 'BDAT', size: 0, last: false });
    expect(ok('AUTH plain AGEAYg==')).toEqual({
      verb: 'AUTH',
      mechanism: 'PLAIN',
      initialResponse: 'AGEAYg==',
    });
    expect(ok('AUTH LOGIN =')).toEqual({ verb: 'AUTH', mechanism: 'LOGIN', initialResponse: '=' });
    expect(ok('STARTTLS')).toEqual({ verb: 'STARTTLS', dmtp: null });
    expect(ok('STARTTLS <dx.beta.test> MODE=DMTPv1')).toEqual({
      verb: 'STARTTLS',
      dmtp: { host: 'dx.beta.test', mode: 'DMTPv1' },
    });
    expect(ok('SGNT <beta.test>')).toEqual({ verb: 'SGNT' });
    expect(ok('VRFY bob')).toEqual({ verb: 'VRFY', target: 'bob' });
    expect(ok('HELP MAIL')).toEqual({ verb: 'HELP', topic: 'MAIL' });
    expect(ok('DATA ')).toEqual({ verb: 'DATA' });
  });

  it('typed errors', () => {
    expect(err('HELLO')).toBe(500);
    expect(err('MAIL FROM:<a@b.test> X-FOO=1')).toBe(555);
    expect(err('RCPT TO:<b@beta.test> ORCPT=rfc822;b@beta.test')).toBe(555);
    expect(err('STARTTLS <dx.beta.test> MODE=FOO')).toBe(504);
    for (const bad of [
      'EHLO',
      'EHLO a b',
      'HELO [1.2.3.4]',
      'MAIL',
      'MAIL FROM:',
      'MAIL FROM:a@b.test',
      'MAIL FROM:<a@b.test',
      'MAIL FROM:<a@b.test>SIZE=1',
      'MAIL FROM:<a..b@c.test>',
      'MAIL FROM:<a@-c.test>',
      'MAIL FROM:<a@b.test> SIZE=',
      'MAIL FROM:<a@b.test> BODY=9BIT',
      'MAIL FROM:<a@b.test> AUTH=a=b',
      'RCPT TO:<>',
      'RCPT TO:<b>',
      'BDAT',
      'BDAT -1',
      'BDAT 1 NOW',
      'AUTH',
      'AUTH PLAIN a b',
      'AUTH PL@IN',
      'AUTH PLAIN !!!!',
      'DATA x',
      'QUIT x',
      'STARTTLS x',
      'VRFY',
      'NOOP \u00e9',
    ]) {
      expect(err(bad), bad).toBe(501);
    }
  });
});

describe('address syntax', () => {
  it('domains, address literals, mailboxes, paths', () => {
    expect(isDomain('a.b-c.test')).toBe(true);
    expect(isDomain('a..b')).toBe(false);
    expect(isDomain(`${'a'.repeat(64)}.test`)).toBe(false);
    expect(isDomain('a_b.test')).toBe(false);
    expect(isAddressLiteral('[192.0.2.255]')).toBe(true);
    expect(isAddressLiteral('[192.0.2.256]')).toBe(false);
    expect(isAddressLiteral('[IPv6:::ffff:192.0.2.1]')).toBe(true);
    expect(isAddressLiteral('[IPv6:1:2:3:4:5:6:7:8]')).toBe(true);
    expect(isAddressLiteral('[IPv6:1:2:3:4:5:6:7:8:9]')).toBe(false);
    expect(isAddressLiteral('[IPv6:1::2::3]')).toBe(false);
    expect(isAddressLiteral('[x-tag:abc]')).toBe(true);
    expect(parseMailbox('"x@y"@z.test')).toEqual({ local: '"x@y"', domain: 'z.test' });
    expect(parseMailbox(`${'a'.repeat(65)}@b.test`)).toBeNull();
    expect(parsePath('<>', true)).toBe('');
    expect(parsePath('<>', false)).toBeNull();
    expect(parsePath('<@a.test,@b.test:c@d.test>', false)).toBe('c@d.test');
    expect(parsePath('<@a.test c@d.test>', false)).toBeNull();
  });
});

describe('line reader', () => {
  it('CRLF and bare-LF lines, across chunks, with the limit including the terminator', () => {
    const q = new InputQueue();
    q.push(enc('AB'));
    expect(q.readLine(512)).toBeNull();
    q.push(enc('C\r'));
    q.push(enc('\nD\nE'));
    expect(q.readLine(512)).toEqual({ kind: 'line', bytes: enc('ABC'), ending: 'crlf', length: 5 });
    expect(q.readLine(512)).toEqual({ kind: 'line', bytes: enc('D'), ending: 'lf', length: 2 });
    expect(q.readLine(512)).toBeNull();
    expect(q.length).toBe(1);
    q.push(enc('\r\n'));
    expect(q.readLine(3)?.kind).toBe('line');
    q.push(enc('xyz\r\n'));
    expect(q.readLine(4)).toEqual({ kind: 'overlong', length: 5 });
  });

  it('an overlong line is dropped as it arrives and reported once, at its end', () => {
    const q = new InputQueue();
    for (let i = 0; i < 100; i++) {
      q.push(enc('x'.repeat(1000)));
      expect(q.readLine(512)).toBeNull();
      expect(q.length).toBeLessThan(1001);
    }
    q.push(enc('x\r\nNEXT\r\n'));
    expect(q.readLine(512)).toEqual({ kind: 'overlong', length: 100_003 });
    expect(q.readLine(512)).toMatchObject({ kind: 'line', bytes: enc('NEXT') });
  });

  it('take, unshift and clear', () => {
    const q = new InputQueue();
    q.push(enc('hello'));
    q.push(enc('world'));
    expect(dec(q.take(3)!)).toBe('hel');
    expect(dec(q.take()!)).toBe('lo');
    q.unshift(enc('L'));
    expect(dec(q.take(10)!)).toBe('L');
    expect(q.clear()).toBe(5);
    expect(q.take()).toBeNull();
  });
});

describe('DATA decoder', () => {
  const run = (text: string) => {
    const d = new DotDataDecoder();
    const r = d.decode(enc(text));
    return { out: r.pieces.map(dec).join(''), done: r.done, consumed: r.consumed, violation: d.violation };
  };

  it('unstuffs leading dots and stops right after CRLF.CRLF', () => {
    expect(run('a\r\n..b\r\n.c\r\n.\r\nREST')).toEqual({
      out: 'a\r\n.b\r\nc\r\n',
      done: true,
      consumed: 15,
      violation: null,
    });
    expect(run('.\r\n')).toEqual({ out: '', done: true, consumed: 3, violation: null });
    expect(run('...\r\n.\r\n').out).toBe('..\r\n');
  });

  it('bare LF / bare CR are violations and never end the data', () => {
    for (const s of ['a\n.\nb', 'a\r.\rb', 'a\n.\r\nb', 'a\r\n.\nb', 'a\r\n.\rb', '\n.\r\n']) {
      const r = run(s);
      expect(r.done, JSON.stringify(s)).toBe(false);
      expect(r.violation).not.toBeNull();
    }
    const r = run('a\nb\r\n.\r\n');
    expect(r.done).toBe(true);
    expect(r.violation).toBe('bare-lf');
    expect(r.out).toBe('');
  });
});

describe('SASL and replies', () => {
  it('PLAIN messages and strict base64', () => {
    expect(parsePlainMessage(enc('\0alice\0pw'))).toEqual({
      mechanism: 'PLAIN',
      authzid: '',
      username: 'alice',
      password: 'pw',
    });
    expect(parsePlainMessage(enc('alice\0pw'))).toBeNull();
    expect(parsePlainMessage(enc('\0\0pw'))).toBeNull();
    expect(parsePlainMessage(enc('\0a\0b\0c'))).toBeNull();
    expect(decodeSaslBase64('AGEAYg==')).toEqual(enc('\0a\0b'));
    expect(decodeSaslBase64('AGEAYg')).toBeNull();
    expect(decodeSaslBase64('AGEAYh==')).toBeNull();
    expect(decodeSaslBase64('=')).toEqual(new Uint8Array(0));
  });

  it('reply lines are CRLF-terminated, multi-line with `-`, and never carry CR/LF from the text', () => {
    expect(formatReply(reply(250, 'a', 'b', 'c'))).toBe('250-a\r\n250-b\r\n250 c\r\n');
    expect(formatReply(reply(334, ''))).toBe('334 \r\n');
    expect(formatReply(reply(221))).toBe('221\r\n');
    expect(formatReply(reply(550, 'x\r\n250 OK'))).toBe('550 x  250 OK\r\n');
  });
});
