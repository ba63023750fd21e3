/**
 * DMTP state machine without sockets: every reply code and line form of dmtp.md §3.1, §4, §8, §9.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/encoding/base64.js';
import { splitSignet } from '../../src/signet/index.js';
import {
  codes,
  fp,
  harness,
  lines,
  makeOrg,
  makeUser,
  type OrgFixture,
  sha512b64,
  TestHooks,
  type UserFixture,
} from './helpers.js';

let beta: OrgFixture;
let alpha: OrgFixture;
let bob: UserFixture;
const DMTP = { hostname: 'dx.beta.test', protocol: 'dmtp' as const };

beforeAll(() => {
  beta = makeOrg('beta.test', 2);
  alpha = makeOrg('alpha.test');
  bob = makeUser(beta, 'bob', 3);
});

function hooks(): TestHooks {
  return new TestHooks().addOrg(beta).addOrg(alpha).addUser(bob);
}

const served = (s: Parameters<typeof splitSignet>[0]) => toBase64(splitSignet(s, 'full').bytes);

async function dmtp() {
  const h = await harness(DMTP, hooks());
  return h;
}

describe('banner, EHLO, MODE, QUIT (§2, §3.1)', () => {
  it('dedicated port: one-line banner `220 <host> DMTPv1`', async () => {
    const h = await dmtp();
    expect(h.transport.take()).toBe('220 dx.beta.test DMTPv1\r\n');
  });

  it('EHLO <host> is multi-line with SIZE and DMTPv1, no STARTTLS; HELO is one line', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(await h.send('EHLO <alpha.test>\r\n')).toBe(
      '250-dx.beta.test\r\n250-SIZE 10485760\r\n250 DMTPv1\r\n',
    );
    expect(await h.send('HELO <alpha.test>\r\n')).toBe('250 dx.beta.test\r\n');
    expect(await h.send('EHLO HOST=<alpha.test>\r\n')).toContain('250 DMTPv1\r\n');
    expect(await h.send('EHLO alpha.test\r\n')).toContain('250 DMTPv1\r\n');
  });

  it('EHLO syntax errors are 501', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(codes(await h.send('EHLO\r\n'))).toEqual([501]);
    expect(codes(await h.send('EHLO <bad_host!>\r\n'))).toEqual([501]);
    expect(codes(await h.send('EHLO [alpha.test]\r\n'))).toEqual([501]);
  });

  it('MODE → `250 OK DMTPv1`; NOOP/RSET → `250 OK`; HELP 214; VERB 502; unknown 500; QUIT `221 BYE`', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(await h.send('MODE\r\n')).toBe('250 OK DMTPv1\r\n');
    expect(await h.send('NOOP\r\n')).toBe('250 OK\r\n');
    expect(await h.send('NOOP a b c\r\n')).toBe('250 OK\r\n');
    expect(await h.send('RSET\r\n')).toBe('250 OK\r\n');
    expect(codes(await h.send('HELP\r\n'))).toEqual([214]);
    expect(codes(await h.send('VERB\r\n'))).toEqual([502]);
    expect(await h.send('FROB\r\n')).toBe('500 INVALID COMMAND\r\n');
    expect(codes(await h.send('MODE x\r\n'))).toEqual([501]);
    expect(await h.send('QUIT\r\n')).toBe('221 BYE\r\n');
    expect(h.transport.closed).toBe(true);
    expect(h.session.state).toBe('closed');
  });

  it('commands are case-insensitive and accept a bare LF (the libdime formatter)', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(await h.send('mode\n')).toBe('250 OK DMTPv1\r\n');
    expect(await h.send('noop\r\n')).toBe('250 OK\r\n');
  });

  it('STARTTLS on the dedicated port is 503 (§9)', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(codes(await h.send('STARTTLS <dx.beta.test> MODE=DMTPv1\r\n'))).toEqual([503]);
    expect(h.transport.tlsRequests).toEqual([]);
  });
});

describe('SGNT, HIST, VRFY (§3.1, §8, §9)', () => {
  it('SGNT <domain> before EHLO returns the current org signet, full split, one line (D1, D11, D12)', async () => {
    const h = await dmtp();
    h.transport.take();
    const out = await h.send('SGNT <beta.test>\r\n');
    expect(out).toBe(`250 OK [${served(beta.chain[1]!)}]\r\n`);
    expect(out.length).toBeLessThanOrEqual(4096);
  });

  it('SGNT <user> [fp] matches crypto, full and ID fingerprints; named forms', async () => {
    const h = await dmtp();
    h.transport.take();
    const first = bob.chain[0]!;
    for (const kind of ['crypto', 'full', 'id'] as const) {
      expect(await h.send(`SGNT <bob@beta.test> [${fp(first, kind)}]\r\n`)).toBe(
        `250 OK [${served(first)}]\r\n`,
      );
    }
    expect(await h.send('SGNT USER=<bob@beta.test>\r\n')).toBe(`250 OK [${served(bob.chain[2]!)}]\r\n`);
    expect(await h.send(`SGNT DOMAIN=<beta.test> FINGERPRINT=[${fp(beta.chain[0]!)}]\r\n`)).toBe(
      `250 OK [${served(beta.chain[0]!)}]\r\n`,
    );
  });

  it('SGNT errors: 550 unknown, 551 not in chain, 501 syntax', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(codes(await h.send('SGNT <nobody@beta.test>\r\n'))).toEqual([550]);
    expect(codes(await h.send('SGNT <gamma.test>\r\n'))).toEqual([550]);
    expect(codes(await h.send(`SGNT <nobody@beta.test> [${fp(bob.chain[0]!)}]\r\n`))).toEqual([550]);
    expect(codes(await h.send(`SGNT <bob@beta.test> [${fp(alpha.chain[0]!)}]\r\n`))).toEqual([551]);
    expect(codes(await h.send(`SGNT <beta.test> [${fp(bob.chain[0]!)}]\r\n`))).toEqual([551]);
    expect(codes(await h.send('SGNT\r\n'))).toEqual([501]);
    expect(codes(await h.send('SGNT bob@beta.test\r\n'))).toEqual([501]);
    expect(codes(await h.send('SGNT <bob@@beta.test>\r\n'))).toEqual([501]);
    expect(codes(await h.send('SGNT <bob@beta.test> [abc]\r\n'))).toEqual([501]);
    expect(codes(await h.send('SGNT <bob@beta.test> [fingerprint]\r\n'))).toEqual([501]);
    expect(codes(await h.send(`SGNT <bob@beta.test> ${fp(bob.chain[0]!)}\r\n`))).toEqual([501]);
    expect(codes(await h.send('SGNT USER=<beta.test>\r\n'))).toEqual([501]);
    expect(codes(await h.send('SGNT DOMAIN=<bob@beta.test>\r\n'))).toEqual([501]);
    expect(codes(await h.send('SGNT <beta.test> [x] [y]\r\n'))).toEqual([501]);
  });

  it('HIST: multi-line `250-[b64]`, oldest first, start inclusive to stop or current; domains too', async () => {
    const h = await dmtp();
    h.transport.take();
    const all = bob.chain.map(served);
    expect(lines(await h.send(`HIST <bob@beta.test> [${fp(bob.chain[0]!)}]\r\n`))).toEqual([
      `250-[${all[0]}]`,
      `250-[${all[1]}]`,
      `250 [${all[2]}]`,
    ]);
    expect(lines(await h.send(`HIST <bob@beta.test> [${fp(bob.chain[1]!)}]\r\n`))).toEqual([
      `250-[${all[1]}]`,
      `250 [${all[2]}]`,
    ]);
    expect(
      lines(await h.send(`HIST <bob@beta.test> [${fp(bob.chain[0]!)}] [${fp(bob.chain[1]!)}]\r\n`)),
    ).toEqual([`250-[${all[0]}]`, `250 [${all[1]}]`]);
    expect(
      lines(
        await h.send(
          `HIST USER=<bob@beta.test> START=[${fp(bob.chain[2]!, 'id')}] STOP=[${fp(bob.chain[2]!)}]\r\n`,
        ),
      ),
    ).toEqual([`250 [${all[2]}]`]);
    expect(lines(await h.send(`HIST <beta.test> [${fp(beta.chain[0]!)}]\r\n`))).toEqual([
      `250-[${served(beta.chain[0]!)}]`,
      `250 [${served(beta.chain[1]!)}]`,
    ]);
  });

  it('HIST errors: 550, 551 (unknown start or stop, stop before start), 501', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(codes(await h.send(`HIST <zed@beta.test> [${fp(bob.chain[0]!)}]\r\n`))).toEqual([550]);
    expect(codes(await h.send(`HIST <bob@beta.test> [${fp(alpha.chain[0]!)}]\r\n`))).toEqual([551]);
    expect(
      codes(await h.send(`HIST <bob@beta.test> [${fp(bob.chain[0]!)}] [${fp(alpha.chain[0]!)}]\r\n`)),
    ).toEqual([551]);
    expect(
      codes(await h.send(`HIST <bob@beta.test> [${fp(bob.chain[2]!)}] [${fp(bob.chain[0]!)}]\r\n`)),
    ).toEqual([551]);
    expect(codes(await h.send('HIST <bob@beta.test> [nope]\r\n'))).toEqual([501]);
    expect(codes(await h.send('HIST\r\n'))).toEqual([501]);
  });

  it('VRFY: `250 CURRENT`, `250 UPDATE [<crypto fp>]`, 550, 551, 501 without a fingerprint', async () => {
    const h = await dmtp();
    h.transport.take();
    const cur = bob.chain[2]!;
    expect(await h.send(`VRFY <bob@beta.test> [${fp(cur, 'id')}]\r\n`)).toBe('250 CURRENT\r\n');
    expect(await h.send(`VRFY <bob@beta.test> [${fp(bob.chain[0]!, 'full')}]\r\n`)).toBe(
      `250 UPDATE [${fp(cur)}]\r\n`,
    );
    expect(await h.send(`VRFY DOMAIN=<beta.test> FINGERPRINT=[${fp(beta.chain[0]!)}]\r\n`)).toBe(
      `250 UPDATE [${fp(beta.chain[1]!)}]\r\n`,
    );
    expect(codes(await h.send(`VRFY <zed@beta.test> [${fp(cur)}]\r\n`))).toEqual([550]);
    expect(codes(await h.send(`VRFY <bob@beta.test> [${fp(alpha.chain[0]!)}]\r\n`))).toEqual([551]);
    expect(codes(await h.send('VRFY <bob@beta.test>\r\n'))).toEqual([501]);
  });

  it('signet commands are valid in READY, MAIL and RCPT states and keep the transaction', async () => {
    const h = await dmtp();
    h.transport.take();
    await h.send('EHLO <alpha.test>\r\n');
    expect(codes(await h.send('MAIL FROM: <alpha.test> [fingerprint] SIZE=3\r\n'))).toEqual([250]);
    expect(codes(await h.send('SGNT <bob@beta.test>\r\n'))).toEqual([250]);
    expect(codes(await h.send('RCPT TO: <beta.test> [fingerprint]\r\n'))).toEqual([250]);
    expect(codes(await h.send(`VRFY <beta.test> [${fp(beta.chain[1]!)}]\r\n`))).toEqual([250]);
    expect(await h.send('DATA\r\n')).toBe('354 CONTINUE []\r\n');
  });
});

describe('MAIL, RCPT, DATA (§3, §3.2, §8, §9)', () => {
  it("libdime's send sequence with placeholders: 250 OK, 250 OK, `354 CONTINUE [fingerprint]`, `250 OK [id]`", async () => {
    const h = await dmtp();
    h.transport.take();
    const msg = new Uint8Array([7, 55, 0, 0, 13, 10, 46, 13, 10, 0, 255]);
    expect(await h.send('EHLO <alpha.test>\r\n')).toContain('250 DMTPv1');
    expect(await h.send(`MAIL FROM: <alpha.test> [fingerprint] SIZE=${msg.length}\r\n`)).toBe('250 OK\r\n');
    expect(await h.send('RCPT TO: <beta.test> [fingerprint]\r\n')).toBe('250 OK\r\n');
    expect(await h.send('DATA [fingerprint]\r\n')).toBe('354 CONTINUE [fingerprint]\r\n');
    expect(await h.send(msg)).toBe('');
    expect(await h.send('\r\n')).toBe('250 OK [tx-1]\r\n');
    expect(h.hooks.messages[0]!.bytes).toEqual(msg);
    const env = h.hooks.messages[0]!.envelope;
    expect(env.transfer).toBe('dmtp');
    expect(env.from).toMatchObject({
      protocol: 'dmtp',
      domain: 'alpha.test',
      fingerprint: { kind: 'placeholder' },
    });
    expect(env.to).toEqual([{ protocol: 'dmtp', domain: 'beta.test', fingerprint: { kind: 'placeholder' } }]);
    expect(h.hooks.events.filter((e) => e.type === 'placeholder-fingerprint').length).toBe(3);
    // back in READY: a new transaction may follow
    expect(await h.send('MAIL FROM:<alpha.test> [] SIZE=1\r\n')).toBe('250 OK\r\n');
  });

  it('real fingerprints and the DATA hash: echoed, compared; mismatch → 554 and READY', async () => {
    const h = await dmtp();
    h.transport.take();
    const msg = new Uint8Array(Buffer.from('a DIME object, in fact any bytes\r\n.\r\n'));
    await h.send('EHLO <alpha.test>\r\n');
    const cmds = (hash: string) =>
      `MAIL FROM=<alpha.test> FINGERPRINT=[${fp(alpha.chain[0]!)}] SIZE=${msg.length}\r\n` +
      `RCPT TO=<beta.test> FINGERPRINT=[${fp(beta.chain[1]!)}]\r\n` +
      `DATA [${hash}]\r\n`;
    expect(await h.send(cmds(sha512b64(msg)))).toBe(
      `250 OK\r\n250 OK\r\n354 CONTINUE [${sha512b64(msg)}]\r\n`,
    );
    expect(await h.send(Buffer.concat([msg, Buffer.from('\r\n')]))).toBe('250 OK [tx-1]\r\n');
    const wrong = sha512b64(new Uint8Array(1));
    expect(await h.send(cmds(wrong))).toBe(`250 OK\r\n250 OK\r\n354 CONTINUE [${wrong}]\r\n`);
    const out = await h.send(Buffer.concat([msg, Buffer.from('\r\n')]));
    expect(codes(out)).toEqual([554]);
    expect(h.hooks.messages.length).toBe(1);
    expect(h.hooks.aborted.length).toBe(1);
    expect(await h.send('MAIL FROM: <alpha.test> [fingerprint] SIZE=1\r\n')).toBe('250 OK\r\n');
  });

  it('DATA without SIZE → 503; DATA without RCPT/MAIL → 503; MAIL before EHLO → 503 (§9)', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(codes(await h.send('MAIL FROM: <alpha.test> [fingerprint] SIZE=5\r\n'))).toEqual([503]);
    expect(codes(await h.send('DATA\r\n'))).toEqual([503]);
    await h.send('EHLO <alpha.test>\r\n');
    expect(codes(await h.send('DATA\r\n'))).toEqual([503]);
    expect(codes(await h.send('RCPT TO: <beta.test> [fingerprint]\r\n'))).toEqual([503]);
    expect(codes(await h.send('MAIL FROM: <alpha.test> [fingerprint]\r\n'))).toEqual([250]);
    expect(codes(await h.send('DATA\r\n'))).toEqual([503]);
    expect(codes(await h.send('RCPT TO: <beta.test> [fingerprint]\r\n'))).toEqual([250]);
    expect(codes(await h.send('DATA [fingerprint]\r\n'))).toEqual([503]);
    expect(codes(await h.send('MAIL FROM: <alpha.test> [fingerprint] SIZE=5\r\n'))).toEqual([503]); // nested
    expect(codes(await h.send('RSET\r\n'))).toEqual([250]);
    expect(codes(await h.send('MAIL FROM: <alpha.test> [fingerprint] SIZE=5\r\n'))).toEqual([250]);
  });

  it('MAIL/RCPT syntax → 501; SIZE over the limit → 552', async () => {
    const h = await harness({ ...DMTP, maxMessageSize: 1000, maxErrors: 100 }, hooks());
    h.transport.take();
    await h.send('EHLO <alpha.test>\r\n');
    for (const bad of [
      'MAIL FROM: alpha.test [fingerprint] SIZE=5',
      'MAIL FROM: <alpha.test> SIZE=5',
      'MAIL FROM: <alpha.test> [abc] SIZE=5',
      'MAIL FROM: <alpha.test> [fingerprint] SIZE=x',
      'MAIL FROM: <alpha.test> [fingerprint] SIZE=0',
      'MAIL FROM: <alpha.test> [fingerprint] RETURN=SOME',
      'MAIL FROM: <alpha.test> [fingerprint] DATA=9BIT',
      'MAIL FROM: <alpha.test> [fingerprint] FOO=1',
      'MAIL FROM: <al pha.test> [fingerprint]',
      'MAIL FROM: <alpha.test> [fingerprint] [fingerprint]',
      'MAIL TO: <alpha.test> [fingerprint]',
      'MAIL',
    ]) {
      expect(codes(await h.send(`${bad}\r\n`)), bad).toEqual([501]);
    }
    expect(codes(await h.send('MAIL FROM: <alpha.test> [fingerprint] SIZE=1001\r\n'))).toEqual([552]);
    expect(
      codes(await h.send('MAIL FROM: <alpha.test> [fingerprint] SIZE=1000 RETURN=full DATA=8bit\r\n')),
    ).toEqual([250]);
    for (const bad of [
      'RCPT TO: <beta.test>',
      'RCPT TO: beta.test [fingerprint]',
      'RCPT TO: <beta.test> [zz]',
    ]) {
      expect(codes(await h.send(`${bad}\r\n`)), bad).toEqual([501]);
    }
  });

  it('RCPT: 550 for a foreign domain or a fingerprint that is not the current org signet', async () => {
    const h = await dmtp();
    h.transport.take();
    await h.send('EHLO <alpha.test>\r\nMAIL FROM: <alpha.test> [fingerprint] SIZE=9\r\n');
    expect(codes(await h.send('RCPT TO: <gamma.test> [fingerprint]\r\n'))).toEqual([550]);
    expect(codes(await h.send(`RCPT TO: <beta.test> [${fp(beta.chain[0]!)}]\r\n`))).toEqual([550]);
    expect(codes(await h.send(`RCPT TO: <beta.test> [${fp(beta.chain[1]!, 'id')}]\r\n`))).toEqual([250]);
  });

  it('one RCPT per transaction: identical repeat → 250 (no-op), different → 503', async () => {
    const h = await dmtp();
    h.transport.take();
    await h.send('EHLO <alpha.test>\r\nMAIL FROM: <alpha.test> [fingerprint] SIZE=9\r\n');
    expect(await h.send('RCPT TO: <beta.test> [fingerprint]\r\n')).toBe('250 OK\r\n');
    expect(await h.send('RCPT TO: <BETA.test> [fingerprint]\r\n')).toBe('250 OK\r\n');
    expect(codes(await h.send('RCPT TO: <alpha.test> [fingerprint]\r\n'))).toEqual([503]);
    expect(codes(await h.send(`RCPT TO: <beta.test> [${fp(beta.chain[1]!)}]\r\n`))).toEqual([503]);
  });

  it('MAIL policy hook: 550 on an origin fingerprint mismatch, 451 when the hook fails', async () => {
    const hk = hooks();
    const h = await harness(
      DMTP,
      Object.assign(hk, {
        mailFrom: (from: { protocol: string; fingerprint?: { kind: string; value?: string } }) => {
          if (from.fingerprint?.kind === 'fingerprint' && from.fingerprint.value !== fp(alpha.chain[0]!)) {
            return { accept: false as const, code: 550, message: 'origin fingerprint does not match' };
          }
          if (from.fingerprint?.kind === 'empty') throw new Error('DNS down');
          return undefined;
        },
      }),
    );
    h.transport.take();
    await h.send('EHLO <alpha.test>\r\n');
    expect(codes(await h.send(`MAIL FROM: <alpha.test> [${fp(beta.chain[0]!)}] SIZE=1\r\n`))).toEqual([550]);
    expect(codes(await h.send('MAIL FROM: <alpha.test> [] SIZE=1\r\n'))).toEqual([451]);
    expect(codes(await h.send(`MAIL FROM: <alpha.test> [${fp(alpha.chain[0]!)}] SIZE=1\r\n`))).toEqual([250]);
  });

  it('DATA: the sink refusing the object → 554 and READY; data not followed by CRLF → 554', async () => {
    const hk = hooks();
    hk.deliveryVerdict = 'reject';
    const h = await harness(DMTP, hk);
    h.transport.take();
    await h.send(
      'EHLO <alpha.test>\r\nMAIL FROM: <alpha.test> [fingerprint] SIZE=4\r\nRCPT TO: <beta.test> [fingerprint]\r\n',
    );
    expect(await h.send('DATA\r\n')).toBe('354 CONTINUE []\r\n');
    expect(await h.send('abcd\r\n')).toBe('554 signature check failed\r\n');
    hk.deliveryVerdict = 'accept';
    await h.send(
      'MAIL FROM: <alpha.test> [fingerprint] SIZE=4\r\nRCPT TO: <beta.test> [fingerprint]\r\nDATA\r\n',
    );
    expect(codes(await h.send('abcdX\r\nNOOP\r\n'))).toEqual([554, 250]);
    expect(h.hooks.aborted.length).toBe(1);
  });

  it('DATA payload may arrive in pieces and is streamed to the sink; the bare-LF terminator is accepted', async () => {
    const h = await dmtp();
    h.transport.take();
    const msg = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
    await h.send(`EHLO <alpha.test>\r\nMAIL FROM: <alpha.test> [fingerprint] SIZE=${msg.length}\r\n`);
    await h.send('RCPT TO: <beta.test> [fingerprint]\r\nDATA\r\n');
    for (let i = 0; i < msg.length; i += 700) expect(await h.send(msg.subarray(i, i + 700))).toBe('');
    expect(await h.send('\nQUIT\r\n')).toBe('250 OK [tx-1]\r\n221 BYE\r\n');
    expect(h.hooks.messages[0]!.bytes).toEqual(msg);
    expect(h.hooks.messages[0]!.pieces).toBeGreaterThan(1);
  });

  it('DATA: a sink that cannot be opened → 451', async () => {
    const hk = hooks();
    hk.openMessageSink = () => {
      throw new Error('disk full');
    };
    const h = await harness(DMTP, hk);
    h.transport.take();
    await h.send(
      'EHLO <alpha.test>\r\nMAIL FROM: <alpha.test> [fingerprint] SIZE=4\r\nRCPT TO: <beta.test> [fingerprint]\r\n',
    );
    expect(codes(await h.send('DATA\r\n'))).toEqual([451]);
  });

  it('STATS: after EHLO; `ONCE [nonce]` then multi-line stats', async () => {
    const hk = hooks();
    Object.assign(hk, {
      stats: (nonce: string | null) =>
        nonce ? { lines: ['MESSAGES 3', `NONCE ${nonce}`] } : { nonce: 'n1' },
    });
    const h = await harness(DMTP, hk);
    h.transport.take();
    expect(codes(await h.send('STATS\r\n'))).toEqual([503]);
    await h.send('EHLO <alpha.test>\r\n');
    expect(await h.send('STATS\r\n')).toBe('250 ONCE [n1]\r\n');
    expect(await h.send('STATS [n1]\r\n')).toBe('250-MESSAGES 3\r\n250 NONCE n1\r\n');
    expect(codes(await h.send('STATS n1\r\n'))).toEqual([501]);
  });
});

describe('line limits, empty lines, error cut-off (§4, §9)', () => {
  it('a line over 512 bytes gets exactly one 500 and the session goes on; 512 exactly is fine', async () => {
    const h = await dmtp();
    h.transport.take();
    const ok = `NOOP ${'x'.repeat(512 - 7)}\r\n`;
    expect(ok.length).toBe(512);
    expect(await h.send(ok)).toBe('250 OK\r\n');
    expect(await h.send(`NOOP ${'x'.repeat(600)}`)).toBe('');
    expect(await h.send(`${'x'.repeat(600)}\r\n`)).toBe('500 line too long\r\n');
    expect(await h.send(`${'y'.repeat(5000)}\r\nMODE\r\n`)).toBe('500 line too long\r\n250 OK DMTPv1\r\n');
    expect(await h.send(`NOOP ${'x'.repeat(506)}\n`)).toBe('250 OK\r\n');
  });

  it('empty lines get no reply and count; too many errors → 421 and close', async () => {
    const h = await harness({ ...DMTP, maxErrors: 4 }, hooks());
    h.transport.take();
    expect(await h.send('\r\n\r\n\n')).toBe('');
    expect(await h.send('BOGUS\r\nNOOP\r\n')).toBe(
      '500 INVALID COMMAND\r\n421 dx.beta.test Error: too many errors\r\n',
    );
    expect(h.transport.closed).toBe(true);
  });

  it('NUL bytes in a command are refused', async () => {
    const h = await dmtp();
    h.transport.take();
    expect(codes(await h.send('NOOP\0\r\n'))).toEqual([500]);
    expect(codes(await h.send('SGNT <beta.test>\0\r\n'))).toEqual([500]);
    expect(codes(await h.send('MODE\r\n'))).toEqual([250]);
  });
});

describe('dual mode (§2.1, §8 D2, D4, D5)', () => {
  const DUAL = { hostname: 'dx.beta.test', protocol: 'smtp' as const };

  it('banner `220 <host> ESMTP DMTPv1`; EHLO lists STARTTLS and DMTPv1; MODE → `250 OK SMTP`', async () => {
    const h = await harness(DUAL, hooks());
    expect(h.transport.take()).toBe('220 dx.beta.test ESMTP DMTPv1\r\n');
    const ehlo = lines(await h.send('EHLO client.alpha.test\r\n'));
    expect(ehlo).toContain('250-STARTTLS');
    expect(ehlo[ehlo.length - 1]).toBe('250 DMTPv1');
    expect(await h.send('MODE\r\n')).toBe('250 OK SMTP\r\n');
  });

  it('DMTP commands are 503 in SMTP mode', async () => {
    const h = await harness(DUAL, hooks());
    h.transport.take();
    expect(codes(await h.send('SGNT <beta.test>\r\n'))).toEqual([503]);
    expect(codes(await h.send('HIST <bob@beta.test>\r\n'))).toEqual([503]);
    expect(codes(await h.send('STATS\r\n'))).toEqual([503]);
  });

  it('`STARTTLS <dx> MODE=DMTPv1` straight after the banner: 220, TLS, `250 OK DMTPv1` first, then DMTP', async () => {
    const h = await harness(DUAL, hooks());
    h.transport.take();
    expect(await h.send('STARTTLS <dx.beta.test> MODE=DMTPv1\r\n')).toBe('220 READY\r\n');
    expect(h.transport.tlsRequests).toEqual(['dmtp']);
    expect(h.session.state).toBe('tls-pending');
    expect(await h.tls()).toBe('250 OK DMTPv1\r\n');
    expect(h.session.currentProtocol).toBe('dmtp');
    // lookups at once, MAIL needs EHLO again
    expect(codes(await h.send('SGNT <beta.test>\r\n'))).toEqual([250]);
    expect(codes(await h.send('MAIL FROM: <alpha.test> [fingerprint] SIZE=3\r\n'))).toEqual([503]);
    expect(await h.send('EHLO <alpha.test>\r\n')).toBe(
      '250-dx.beta.test\r\n250-SIZE 10485760\r\n250 DMTPv1\r\n',
    );
    expect(codes(await h.send('STARTTLS <dx.beta.test> MODE=DMTPv1\r\n'))).toEqual([503]);
    expect(await h.send('MODE\r\n')).toBe('250 OK DMTPv1\r\n');
  });

  it('named form and MODE=DMTP (libdime formatter) also switch; MODE=SMTP upgrades and stays SMTP', async () => {
    const h = await harness(DUAL, hooks());
    h.transport.take();
    expect(await h.send('STARTTLS HOST=<dx.beta.test> MODE=DMTP\n')).toBe('220 READY\r\n');
    expect(await h.tls()).toBe('250 OK DMTPv1\r\n');
    const h2 = await harness(DUAL, hooks());
    h2.transport.take();
    expect(await h2.send('STARTTLS <dx.beta.test> MODE=smtp\r\n')).toBe('220 READY\r\n');
    expect(await h2.tls()).toBe('250 OK SMTP\r\n');
    expect(h2.session.currentProtocol).toBe('smtp');
    expect(codes(await h2.send('SGNT <beta.test>\r\n'))).toEqual([503]);
  });

  it('STARTTLS errors: 501 foreign host, 504 unknown mode, 501 malformed, 454 without TLS', async () => {
    const h = await harness(DUAL, hooks());
    h.transport.take();
    expect(codes(await h.send('STARTTLS <mx.gamma.test> MODE=DMTPv1\r\n'))).toEqual([501]);
    expect(codes(await h.send('STARTTLS <dx.beta.test> MODE=DMTPv2\r\n'))).toEqual([504]);
    expect(codes(await h.send('STARTTLS <dx.beta.test> DMTPv1\r\n'))).toEqual([501]);
    expect(codes(await h.send('STARTTLS <dx.beta.test> MODE=DMTPv1 extra\r\n'))).toEqual([501]);
    const h2 = await harness({ ...DUAL, starttls: false }, hooks());
    h2.transport.take();
    expect(codes(await h2.send('STARTTLS <dx.beta.test> MODE=DMTPv1\r\n'))).toEqual([454]);
    expect(lines(await h2.send('EHLO a.test\r\n'))).not.toContain('250-STARTTLS');
  });

  it('STARTTLS injection: pipelined plaintext after STARTTLS is discarded, never run after the handshake', async () => {
    const h = await harness(DUAL, hooks());
    h.transport.take();
    const out = await h.send('STARTTLS <dx.beta.test> MODE=DMTPv1\r\nSGNT <beta.test>\r\nQUIT\r\n');
    expect(out).toBe('220 READY\r\n');
    // more plaintext before the handshake completes: also dropped
    expect(await h.send('QUIT\r\n')).toBe('');
    expect(await h.tls()).toBe('250 OK DMTPv1\r\n');
    expect(h.session.state).toBe('open');
    expect(h.hooks.events.some((e) => e.type === 'starttls-discarded')).toBe(true);
    expect(await h.send('MODE\r\n')).toBe('250 OK DMTPv1\r\n');
  });

  it('a TLS failure closes the session', async () => {
    const h = await harness(DUAL, hooks());
    h.transport.take();
    await h.send('STARTTLS <dx.beta.test> MODE=DMTPv1\r\n');
    h.session.tlsFailed(new Error('bad handshake'));
    expect(h.session.state).toBe('closed');
    expect(h.transport.closed).toBe(true);
  });
});
