/**
 * fast-check fuzzing: the DMTP and SMTP command parsers (100 000 inputs each) and whole sessions fed
 * random byte streams in random pieces. Only typed results and well-formed replies may come out:
 * never an exception, an internal error or a hang.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DotDataDecoder,
  parseDmtpCommand,
  parseSmtpCommand,
  type SessionConfig,
} from '../../src/protocol/index.js';
import { fuzzRuns } from '../helpers/fuzz.js';
import { harness, makeOrg, makeUser, TestHooks } from './helpers.js';

const FP = `${'A'.repeat(85)}Q`;
const VERBS = [
  'HELO',
  'EHLO',
  'MODE',
  'STARTTLS',
  'MAIL',
  'RCPT',
  'DATA',
  'BDAT',
  'SGNT',
  'HIST',
  'VRFY',
  'EXPN',
  'STATS',
  'NOOP',
  'RSET',
  'HELP',
  'VERB',
  'QUIT',
  'AUTH',
];
const TOKENS = [
  '<alpha.test>',
  '<a@beta.test>',
  '<>',
  '<',
  '>',
  '[fingerprint]',
  `[${FP}]`,
  '[]',
  '[',
  'FROM:',
  'TO:',
  'FROM:<a@b.test>',
  'TO:<postmaster>',
  'FROM=<alpha.test>',
  'FINGERPRINT=[fingerprint]',
  'USER=<a@beta.test>',
  'DOMAIN=<beta.test>',
  'START=[x]',
  'SIZE=10',
  'SIZE=99999999999999999999999',
  'BODY=8BITMIME',
  'AUTH=<>',
  'MODE=DMTPv1',
  'MODE=SMTP',
  'HOST=<dx.beta.test>',
  'RETURN=FULL',
  'DATA=8BIT',
  'LAST',
  'PLAIN',
  'LOGIN',
  'AGFsaWNlAHB3',
  '=',
  '"q"@x.test',
  '[IPv6:::1]',
  '[127.0.0.1]',
  '@a.test,@b.test:',
  '\0',
  '\r',
  '\t',
  'é',
];

const token = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TOKENS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 8 }) },
);

const commandLine = fc.oneof(
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 600 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 80 }) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...VERBS).chain((v) => fc.constantFrom(v, v.toLowerCase(), `${v}X`)),
        fc.array(token, { maxLength: 6 }),
        fc.constantFrom(' ', '  ', ''),
      )
      .map(([v, toks, sep]) => [v, ...toks].join(sep === '' ? ' ' : sep)),
  },
);

describe('command parser fuzz', () => {
  it('DMTP parser: typed command or typed error, never an exception', () => {
    fc.assert(
      fc.property(commandLine, (line) => {
        const r = parseDmtpCommand(line);
        if (r.ok) return typeof r.command.verb === 'string';
        return (
          (r.error.code === 500 || r.error.code === 501 || r.error.code === 504) &&
          !/[\r\n]/.test(r.error.message)
        );
      }),
      { numRuns: fuzzRuns(100_000) },
    );
  });

  it('SMTP parser: typed command or typed error, never an exception', () => {
    fc.assert(
      fc.property(commandLine, (line) => {
        const r = parseSmtpCommand(line);
        if (r.ok) return typeof r.command.verb === 'string';
        return [500, 501, 504, 555].includes(r.error.code) && !/[\r\n]/.test(r.error.message);
      }),
      { numRuns: fuzzRuns(100_000) },
    );
  });
});

const beta = makeOrg('beta.test');
const bob = makeUser(beta, 'bob');

const FRAGMENTS = [
  'EHLO <alpha.test>\r\n',
  'EHLO c.test\r\n',
  'MAIL FROM: <alpha.test> [fingerprint] SIZE=5\r\n',
  'MAIL FROM:<a@alpha.test>\r\n',
  'RCPT TO: <beta.test> [fingerprint]\r\n',
  'RCPT TO:<bob@beta.test>\r\n',
  'DATA\r\n',
  'DATA [fingerprint]\r\n',
  'BDAT 4\r\n',
  'BDAT 3 LAST\r\n',
  'SGNT <beta.test>\r\n',
  'SGNT <bob@beta.test>\r\n',
  `HIST <bob@beta.test> [${FP}]\r\n`,
  'STARTTLS\r\n',
  'STARTTLS <dx.beta.test> MODE=DMTPv1\r\n',
  'AUTH PLAIN\r\n',
  'AUTH LOGIN\r\n',
  'AGFsaWNlAGNvcnJlY3QgaG9yc2U=\r\n',
  '*\r\n',
  'RSET\r\n',
  'NOOP\r\n',
  'QUIT\r\n',
  '.\r\n',
  '\r\n.\r\n',
  '\n.\n',
  '\r.\r',
  '..',
  '\r\n',
  '\n',
  '\r',
  '\0',
  'x'.repeat(700),
];

const stream = fc.array(
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(...FRAGMENTS).map((s) => new Uint8Array(Buffer.from(s, 'latin1'))),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  ),
  { maxLength: 30 },
);

const CONFIGS: SessionConfig[] = [
  { hostname: 'dx.beta.test', protocol: 'dmtp', maxErrors: 1000 },
  { hostname: 'dx.beta.test', protocol: 'smtp', maxErrors: 1000, maxMessageSize: 64 },
  { hostname: 'dx.beta.test', protocol: 'smtp', auth: 'required', implicitTls: true, maxErrors: 5 },
];

const REPLIES = /^(?:\d{3}(?:[ -][^\r\n]*)?\r\n)*$/;

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('session hang')), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

describe('session fuzz', () => {
  for (const config of CONFIGS) {
    it(`${config.protocol}${config.implicitTls ? ' implicit TLS' : ''}: random byte streams give only well-formed replies`, async () => {
      await fc.assert(
        fc.asyncProperty(stream, fc.integer({ min: 1, max: 64 }), async (pieces, cut) => {
          const hooks = new TestHooks().addOrg(beta).addUser(bob);
          const h = await harness(config, hooks);
          let out = h.transport.take();
          const all = Buffer.concat(pieces);
          for (let i = 0; i < all.length; i += cut) {
            out += await withTimeout(h.send(all.subarray(i, i + cut)), 2000);
            if (h.transport.tlsRequests.length > 0 && h.session.state === 'tls-pending') out += await h.tls();
          }
          h.session.remoteClosed();
          expect(out).toMatch(REPLIES);
          expect(hooks.events.filter((e) => e.type === 'hook-error')).toEqual([]);
        }),
        { numRuns: fuzzRuns(4_000) },
      );
    });
  }
});

describe('DATA decoder properties', () => {
  const line = fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((l) => l.replace(/[\r\n]/g, ''));

  it('dot-stuffing then decoding in any chunking gives the message back', () => {
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1 }),
        (ls, cuts) => {
          const message = ls.map((l) => `${l}\r\n`).join('');
          const wire = Buffer.from(
            `${ls.map((l) => `${l.startsWith('.') ? '.' : ''}${l}\r\n`).join('')}.\r\nNEXT`,
            'latin1',
          );
          const d = new DotDataDecoder();
          let out = '';
          let at = 0;
          let k = 0;
          let done = false;
          while (at < wire.length && !done) {
            const piece = wire.subarray(at, at + cuts[k++ % cuts.length]!);
            const r = d.decode(piece);
            out += r.pieces.map((p) => Buffer.from(p).toString('latin1')).join('');
            at += r.consumed;
            done = r.done;
          }
          return done && out === message && wire.subarray(at).toString() === 'NEXT' && d.violation === null;
        },
      ),
      { numRuns: fuzzRuns(20_000) },
    );
  });

  it('on random bytes the data ends only right after CRLF.CRLF (or a first line of ".")', () => {
    const bytes = fc.array(fc.constantFrom(13, 10, 46, 65), { maxLength: 40 }).map((a) => new Uint8Array(a));
    fc.assert(
      fc.property(bytes, (b) => {
        const r = new DotDataDecoder().decode(b);
        if (!r.done) return r.consumed === b.length;
        const head = Buffer.from(b.subarray(0, r.consumed)).toString('latin1');
        return head === '.\r\n' || (head.endsWith('\r\n.\r\n') && !head.slice(0, -5).includes('\r\n.\r\n'));
      }),
      { numRuns: fuzzRuns(20_000) },
    );
  });
});
