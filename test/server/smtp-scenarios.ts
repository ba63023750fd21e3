/**
 * The raw SMTP scenarios of the conformance comparison (smtp-compare.test.ts): each runs, byte for
 * byte, against our port 25 and against Debian's Postfix configured as the same MX (the local domain
 * dime.test with bob, alice and postmaster; the same SIZE and recipient limits; see the test file).
 *
 * Per step a scenario may name
 * - `rfc`: the reply codes RFC 5321 (or the extension's RFC) leaves no choice about; both servers
 *   must give exactly these (unless an allowance names the step);
 * - `allow`: an explicit, explained difference where the RFCs leave the server a choice: the
 *   outcome (reply classes, see stepClasses) each server must show for that step. Every other step
 *   must show the same classes on both servers.
 *
 * After every scenario the test counts what each server stored: at most one message per DATA the
 * client sent as a command (the steps whose `rfc` expects a 354) or `BDAT … LAST`, exactly one per
 * "queued as" reply, and the MAIL FROM:<evil@…> hidden
 * behind a fake end of data never executed (nothing for alice@dime.test, the smuggled recipient,
 * and no message with the evil sender).
 */

import type { ScriptStep } from './smtp-script.js';

export const LOCAL_DOMAIN = 'dime.test';
export const BOB = 'bob@dime.test';
export const ALICE = 'alice@dime.test';
/** Both servers' SIZE limit (bytes) and recipients per transaction. */
export const MAX_SIZE = 200_000;
export const MAX_RCPT = 3;

/** Which Postfix a scenario (or allowance) is about: `smtpd_forbid_bare_newline` 'normalize' or 'reject'. */
export type Peer = 'normalize' | 'reject';

export interface Allowance {
  /** The Postfix instances this allowance is for. */
  peers: readonly Peer[];
  /** The outcome (stepClasses) of our server and of Postfix for the step. */
  ours: string;
  postfix: string;
  why: string;
}

export interface Step extends ScriptStep {
  rfc?: readonly string[];
  allow?: Allowance;
}

export type Category =
  | 'smuggling'
  | 'bare-newline'
  | 'pipelining'
  | 'starttls'
  | 'sequence'
  | 'syntax'
  | 'overlong'
  | 'nul'
  | 'limits';

export interface Scenario {
  name: string;
  category: Category;
  steps: readonly Step[];
  /** Also run against the 'reject' Postfix (the bare-newline scenarios). */
  reject?: boolean;
}

const step = (
  send: string | Uint8Array,
  replies: number,
  extra: Omit<Step, 'send' | 'replies'> = {},
): Step => ({
  send,
  replies,
  ...extra,
});

const EHLO = step('EHLO client.example.org\r\n', 1, { rfc: ['250'] });
const MAIL = step('MAIL FROM:<sender@example.org>\r\n', 1, { rfc: ['250'] });
const RCPT = step(`RCPT TO:<${BOB}>\r\n`, 1, { rfc: ['250'] });
const DATA = step('DATA\r\n', 1, { rfc: ['354'] });
const QUIT = step('QUIT\r\n', 1, { rfc: ['221'] });
const TRANSACTION = [EHLO, MAIL, RCPT, DATA];
const MESSAGE = `From: <sender@example.org>\r\nTo: <${BOB}>\r\nSubject: compare\r\n\r\nhello\r\n`;

/** The commands hidden in a message after a fake end of data (SMTP smuggling, 2023). */
export const SMUGGLED =
  `MAIL FROM:<evil@smuggler.test>\r\nRCPT TO:<${ALICE}>\r\nDATA\r\n` +
  'From: <evil@smuggler.test>\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n';
const CARRIER = `From: <sender@example.org>\r\nTo: <${BOB}>\r\nSubject: carrier\r\n\r\nbody`;

const BARE_LF_NORMALIZE: Omit<Allowance, 'ours' | 'postfix'> = {
  peers: ['normalize'],
  why:
    "RFC 5321 §2.3.8 forbids bare LF, and leaves what to do with one to the server: Postfix's 'normalize' " +
    'takes it as a line end inside the message (the fake end is content, the message is queued whole); ' +
    'we refuse the whole message at the real end (like Postfix in reject mode). Neither splits.',
};
const BARE_LF_COMMAND: Omit<Allowance, 'ours' | 'postfix'> = {
  peers: ['reject'],
  why:
    "RFC 5321 §2.3.8 leaves bare LF handling to the server: we take it as a command line end (libdime's " +
    "DMTP formatter ends lines so, dmtp.md §1; only message data is strict), Postfix's 'reject' answers 550 " +
    'and hangs up (and the normalize peer accepts them like us)',
};
const BARE_CR: Omit<Allowance, 'ours' | 'postfix'> = {
  peers: ['normalize', 'reject'],
  why:
    'RFC 5321 §2.3.8 forbids a bare CR: Postfix keeps it as content in both modes (it only looks at LF); we ' +
    'refuse the whole message at the real end. Neither splits.',
};

const BDAT_BARE_LF: Omit<Allowance, 'ours' | 'postfix'> = {
  peers: ['reject'],
  why:
    'RFC 3030 chunks are counted, never scanned for an end of data, so nothing in a chunk can end the ' +
    "message: we take the bytes as they are (like the 'normalize' peer, which stores the same one message); " +
    "Postfix's 'reject' refuses a bare LF in any message content (550, then 551 for the rest of the chunks)",
};

/** Smuggling: the fake end `variant` inside a message whose real end follows the smuggled commands. */
function smuggle(
  name: string,
  variant: string,
  kind: 'bare-lf' | 'bare-cr' | 'none',
  split = false,
): Scenario {
  const payload = `${CARRIER}${variant}${SMUGGLED}`;
  let allow: Allowance | undefined;
  if (kind === 'bare-lf') allow = { ...BARE_LF_NORMALIZE, ours: '5', postfix: '2' };
  if (kind === 'bare-cr') allow = { ...BARE_CR, ours: '5', postfix: '2' };
  const at = CARRIER.length + variant.length;
  const dataSteps: Step[] = split
    ? [
        // the fake end and the smuggled commands each in their own TCP write: nothing is answered
        step(payload.slice(0, CARRIER.length), 0),
        step(variant, 0),
        step(payload.slice(at, at + SMUGGLED.indexOf('DATA')), 0),
        step(payload.slice(at + SMUGGLED.indexOf('DATA')), 1, allow ? { allow } : {}),
      ]
    : [step(payload, 1, allow ? { allow } : {})];
  return {
    name: `smuggling: ${name}${split ? ' (in separate writes)' : ''}`,
    category: 'smuggling',
    reject: true,
    steps: [...TRANSACTION, ...dataSteps, QUIT],
  };
}

function latin1(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

export const SCENARIOS: readonly Scenario[] = [
  // ------------------------------------------------------------------ smuggling
  smuggle('<LF>.<LF>', '\n.\n', 'bare-lf'),
  smuggle('<LF>.<CR><LF>', '\n.\r\n', 'bare-lf'),
  smuggle('<CR><LF>.<LF>', '\r\n.\n', 'bare-lf'),
  smuggle('<CR>.<LF>', '\r.\n', 'bare-lf'),
  smuggle('<CR>.<CR><LF>', '\r.\r\n', 'bare-cr'),
  smuggle('<CR>.<CR>', '\r.\r', 'bare-cr'),
  smuggle('<CR><LF>.<CR>', '\r\n.\r', 'bare-cr'),
  smuggle('<LF>.<CR>', '\n.\r', 'bare-lf'),
  smuggle('<CR><LF><NUL>.<CR><LF>', '\r\n\x00.\r\n', 'none'),
  smuggle('<CR><LF>.<NUL><CR><LF>', '\r\n.\x00\r\n', 'none'),
  smuggle('<CR><LF><SP>.<CR><LF>', '\r\n .\r\n', 'none'),
  smuggle('<LF>.<LF>', '\n.\n', 'bare-lf', true),
  smuggle('<CR><LF>.<CR>', '\r\n.\r', 'bare-cr', true),
  {
    name: 'smuggling: a fake end as the very first data line (<LF>.<LF> after the 354)',
    category: 'smuggling',
    reject: true,
    steps: [
      ...TRANSACTION,
      step(`.\n${SMUGGLED}`, 1, { allow: { ...BARE_LF_NORMALIZE, ours: '5', postfix: '2' } }),
      QUIT,
    ],
  },
  {
    name: 'smuggling: the real end split over three writes (<CR><LF> | .<CR> | <LF>) is one message',
    category: 'smuggling',
    reject: true,
    steps: [...TRANSACTION, step(`${CARRIER}\r\n`, 0), step('.\r', 0), step('\n', 1), QUIT],
  },

  {
    name: 'smuggling: BDAT (CHUNKING) carries a fake end and commands as plain content',
    category: 'smuggling',
    reject: true,
    steps: [
      EHLO,
      MAIL,
      RCPT,
      step(
        `BDAT ${Buffer.byteLength(`${CARRIER}\r\n.\r\n${SMUGGLED}`, 'latin1')} LAST\r\n${CARRIER}\r\n.\r\n${SMUGGLED}`,
        1,
        {
          rfc: ['250'],
        },
      ),
      QUIT,
    ],
  },
  {
    name: 'smuggling: BDAT with <LF>.<LF> in the chunk, then a DATA-style end and a command',
    category: 'smuggling',
    reject: true,
    steps: [
      EHLO,
      MAIL,
      RCPT,
      step(
        `BDAT ${Buffer.byteLength(`${CARRIER}\n.\n${SMUGGLED}`, 'latin1')}\r\n${CARRIER}\n.\n${SMUGGLED}`,
        1,
        { allow: { ...BDAT_BARE_LF, ours: '2', postfix: '5' } },
      ),
      step('BDAT 0 LAST\r\n', 1, { allow: { ...BDAT_BARE_LF, ours: '2', postfix: '5' } }),
      step('NOOP\r\n', 1, { rfc: ['250'] }),
      QUIT,
    ],
  },

  // ------------------------------------------------------------------ bare newlines outside the smuggling shape
  {
    name: 'bare LF line ends in the message (no fake end)',
    category: 'bare-newline',
    reject: true,
    steps: [
      ...TRANSACTION,
      step('Subject: lf\n\nline one\nline two\r\n.\r\n', 1, {
        allow: { ...BARE_LF_NORMALIZE, ours: '5', postfix: '2' },
      }),
      QUIT,
    ],
  },
  {
    name: 'commands ending in a bare LF',
    category: 'bare-newline',
    reject: true,
    steps: [
      step('EHLO client.example.org\n', 1, {
        mayClose: true,
        allow: { ...BARE_LF_COMMAND, ours: '2', postfix: '5 closed' },
      }),
      step('NOOP\n', 1, { allow: { ...BARE_LF_COMMAND, ours: '2', postfix: 'closed' } }),
      step('QUIT\r\n', 1, { allow: { ...BARE_LF_COMMAND, ours: '2 closed', postfix: 'closed' } }),
    ],
  },
  {
    name: 'a bare CR inside a command line',
    category: 'bare-newline',
    steps: [
      EHLO,
      step('NOOP\rRSET\r\n', 1, {
        allow: {
          peers: ['normalize'],
          ours: '5',
          postfix: '2',
          why:
            'RFC 5321 §2.3.8: a CR only ever comes in CRLF; we refuse the line (500), Postfix splits the ' +
            'command at it as at white space (NOOP with an argument)',
        },
      }),
      QUIT,
    ],
  },

  // ------------------------------------------------------------------ pipelining
  {
    name: 'pipelining: the whole envelope in one write, then the message and QUIT in one write',
    category: 'pipelining',
    steps: [
      step(`EHLO client.example.org\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<${BOB}>\r\nDATA\r\n`, 4, {
        rfc: ['250', '250', '250', '354'],
      }),
      step(`${MESSAGE}.\r\nQUIT\r\n`, 2, { rfc: ['250', '221'] }),
    ],
  },
  {
    name: 'pipelining: a refused recipient in the middle of a batch',
    category: 'pipelining',
    steps: [
      EHLO,
      step(
        `MAIL FROM:<sender@example.org>\r\nRCPT TO:<nobody@${LOCAL_DOMAIN}>\r\nRCPT TO:<${BOB}>\r\nRSET\r\n`,
        4,
      ),
      QUIT,
    ],
  },
  {
    name: 'pipelining: DATA after only refused recipients, then the client sends the message anyway',
    category: 'pipelining',
    steps: [
      EHLO,
      step(`MAIL FROM:<sender@example.org>\r\nRCPT TO:<nobody@${LOCAL_DOMAIN}>\r\nDATA\r\n`, 3),
      // RFC 2920 §3.1: the message text is then read as commands
      step('Subject: x\r\n', 1, {
        allow: {
          peers: ['normalize'],
          ours: '5',
          postfix: '2 closed',
          why:
            'a message header where a command belongs: we answer 500 and go on (RFC 5321 §4.2.4), Postfix ' +
            'takes it for a broken spam client and hangs up ("221 2.7.0 Error: I can break rules, too")',
        },
      }),
      step('QUIT\r\n', 1, {
        allow: { peers: ['normalize'], ours: '2 closed', postfix: 'closed', why: 'Postfix hung up before' },
      }),
    ],
  },
  {
    name: 'pipelining: DATA after only refused recipients, then text that is no header',
    category: 'pipelining',
    steps: [
      EHLO,
      step(`MAIL FROM:<sender@example.org>\r\nRCPT TO:<nobody@${LOCAL_DOMAIN}>\r\nDATA\r\n`, 3),
      step('hello there\r\n', 1, { rfc: ['500'] }),
      step('RSET\r\n', 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'pipelining: two transactions in one write',
    category: 'pipelining',
    steps: [
      EHLO,
      step(`MAIL FROM:<sender@example.org>\r\nRCPT TO:<${BOB}>\r\nDATA\r\n`, 3, {
        rfc: ['250', '250', '354'],
      }),
      step(`${MESSAGE}.\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<${BOB}>\r\nDATA\r\n`, 4, {
        rfc: ['250', '250', '250', '354'],
      }),
      step(`${MESSAGE}.\r\n`, 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'pipelining: commands after QUIT are never answered',
    category: 'pipelining',
    steps: [EHLO, step('QUIT\r\nNOOP\r\nNOOP\r\n', 1, { rfc: ['221'] })],
  },

  // ------------------------------------------------------------------ STARTTLS
  {
    name: 'STARTTLS command injection: a command pipelined after STARTTLS is never executed',
    category: 'starttls',
    steps: [
      EHLO,
      step('STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n', 1, { rfc: ['220'], tls: true }),
      EHLO,
      // the injected MAIL did not start a transaction
      step(`RCPT TO:<${BOB}>\r\n`, 1, { rfc: ['503'] }),
      QUIT,
    ],
  },
  {
    name: 'STARTTLS command injection: an injected EHLO+MAIL+RCPT batch',
    category: 'starttls',
    steps: [
      EHLO,
      step(
        `STARTTLS\r\nEHLO evil.test\r\nMAIL FROM:<injected@example.org>\r\nRCPT TO:<${BOB}>\r\nDATA\r\n`,
        1,
        { rfc: ['220'], tls: true },
      ),
      // no EHLO inside TLS yet: everything from the plaintext is forgotten
      step('MAIL FROM:<sender@example.org>\r\n', 1, { rfc: ['503'] }),
      EHLO,
      step('DATA\r\n', 1, { rfc: ['503'] }),
      QUIT,
    ],
  },
  {
    name: 'STARTTLS forgets the transaction begun before it (RFC 3207 §4.2)',
    category: 'starttls',
    steps: [
      EHLO,
      MAIL,
      step('STARTTLS\r\n', 1, { rfc: ['220'], tls: true }),
      EHLO,
      step(`RCPT TO:<${BOB}>\r\n`, 1, { rfc: ['503'] }),
      MAIL,
      RCPT,
      DATA,
      step(`${MESSAGE}.\r\n`, 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'STARTTLS with a parameter is 501 (RFC 3207 §4)',
    category: 'starttls',
    steps: [EHLO, step('STARTTLS now\r\n', 1, { rfc: ['501'] }), QUIT],
  },
  {
    name: 'STARTTLS inside TLS is refused',
    category: 'starttls',
    steps: [EHLO, step('STARTTLS\r\n', 1, { rfc: ['220'], tls: true }), EHLO, step('STARTTLS\r\n', 1), QUIT],
  },

  // ------------------------------------------------------------------ commands out of sequence
  {
    name: 'sequence: RCPT before MAIL, DATA before MAIL',
    category: 'sequence',
    steps: [
      EHLO,
      step(`RCPT TO:<${BOB}>\r\n`, 1, { rfc: ['503'] }),
      step('DATA\r\n', 1, { rfc: ['503'] }),
      QUIT,
    ],
  },
  {
    name: 'sequence: MAIL before HELO/EHLO',
    category: 'sequence',
    steps: [step('MAIL FROM:<sender@example.org>\r\n', 1, { rfc: ['503'] }), QUIT],
  },
  {
    name: 'sequence: nested MAIL',
    category: 'sequence',
    steps: [EHLO, MAIL, step('MAIL FROM:<other@example.org>\r\n', 1, { rfc: ['503'] }), QUIT],
  },
  {
    name: 'sequence: DATA after MAIL without RCPT (503 or 554, RFC 5321 §3.3)',
    category: 'sequence',
    steps: [EHLO, MAIL, step('DATA\r\n', 1), QUIT],
  },
  {
    name: 'sequence: DATA when every RCPT was refused (503 or 554, RFC 5321 §3.3)',
    category: 'sequence',
    steps: [EHLO, MAIL, step(`RCPT TO:<nobody@${LOCAL_DOMAIN}>\r\n`, 1), step('DATA\r\n', 1), QUIT],
  },
  {
    name: 'sequence: RSET ends the transaction',
    category: 'sequence',
    steps: [
      EHLO,
      MAIL,
      RCPT,
      step('RSET\r\n', 1, { rfc: ['250'] }),
      step('DATA\r\n', 1, { rfc: ['503'] }),
      QUIT,
    ],
  },
  {
    name: 'sequence: EHLO inside a transaction',
    category: 'sequence',
    steps: [EHLO, MAIL, RCPT, EHLO, step('DATA\r\n', 1), step('RSET\r\n', 1), QUIT],
  },
  {
    name: 'sequence: STARTTLS before EHLO',
    category: 'sequence',
    steps: [step('STARTTLS\r\n', 1, { tls: true }), EHLO, MAIL, QUIT],
  },
  {
    name: 'sequence: BDAT without a transaction, DATA after BDAT',
    category: 'sequence',
    steps: [
      EHLO,
      step('BDAT 5\r\nhello', 1, { rfc: ['503'] }),
      step('RSET\r\n', 1, { rfc: ['250'] }),
      MAIL,
      RCPT,
      step('BDAT 5\r\nhello', 1, { rfc: ['250'] }),
      step('DATA\r\n', 1, { rfc: ['503'] }),
      step('BDAT 0 LAST\r\n', 1),
      QUIT,
    ],
  },
  {
    name: 'sequence: VRFY, EXPN, HELP',
    category: 'sequence',
    steps: [
      EHLO,
      step(`VRFY ${BOB}\r\n`, 1),
      step('EXPN staff\r\n', 1),
      step('HELP\r\n', 1, {
        allow: {
          peers: ['normalize'],
          ours: '2',
          postfix: '5',
          why:
            'HELP is not in the minimum implementation of RFC 5321 §4.5.1: we answer 214, Postfix does not ' +
            'implement it (500)',
        },
      }),
      QUIT,
    ],
  },
  {
    name: 'sequence: unknown and lower-case commands, NOOP, RSET before EHLO',
    category: 'sequence',
    steps: [
      step('NOOP\r\n', 1, { rfc: ['250'] }),
      step('RSET\r\n', 1, { rfc: ['250'] }),
      step('XYZZY\r\n', 1, { rfc: ['500'] }),
      step('ehlo client.example.org\r\n', 1, { rfc: ['250'] }),
      step('mail from:<sender@example.org>\r\n', 1, { rfc: ['250'] }),
      step(`rcpt to:<${BOB}>\r\n`, 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'sequence: too many errors end the session with 421',
    category: 'sequence',
    steps: [
      EHLO,
      step('XYZZY\r\n'.repeat(9), 9),
      step('XYZZY\r\n', 2, { rfc: ['500', '421'] }),
      step('NOOP\r\n', 0),
    ],
  },

  // ------------------------------------------------------------------ address and parameter syntax
  {
    name: 'syntax: the null reverse-path, a source route, <Postmaster> and postmaster@domain',
    category: 'syntax',
    steps: [
      EHLO,
      step('MAIL FROM:<>\r\n', 1, { rfc: ['250'] }),
      step(`RCPT TO:<@relay.example.org,@other.example.org:${BOB}>\r\n`, 1, { rfc: ['250'] }),
      // RFC 5321 §4.5.1: RCPT TO:<Postmaster> (no domain) MUST be supported
      step('RCPT TO:<Postmaster>\r\n', 1, { rfc: ['250'] }),
      step(`RCPT TO:<postmaster@${LOCAL_DOMAIN}>\r\n`, 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'syntax: local and relay recipients, unknown users',
    category: 'syntax',
    steps: [
      EHLO,
      MAIL,
      step(`RCPT TO:<nobody@${LOCAL_DOMAIN}>\r\n`, 1),
      step('RCPT TO:<someone@example.net>\r\n', 1),
      step(`RCPT TO:<BOB@${LOCAL_DOMAIN.toUpperCase()}>\r\n`, 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'syntax: malformed paths',
    category: 'syntax',
    steps: [
      EHLO,
      step('MAIL FROM:<sender@example.org\r\n', 1),
      step('MAIL FROM:sender@example.org>\r\n', 1),
      step('MAIL FROM:<send er@example.org>\r\n', 1),
      step('MAIL TO:<sender@example.org>\r\n', 1),
      step('MAIL FROM:<sender@example.org>\r\n', 1, { rfc: ['250'] }),
      step('RCPT TO:<>\r\n', 1),
      step(`RCPT FROM:<${BOB}>\r\n`, 1),
      QUIT,
    ],
  },
  {
    name: 'syntax: a path without angle brackets (RFC 5321 §4.1.2 requires them)',
    category: 'syntax',
    steps: [EHLO, step('MAIL FROM:sender@example.org\r\n', 1), QUIT],
  },
  {
    name: 'syntax: MAIL parameters (SIZE, BODY, unknown)',
    category: 'syntax',
    steps: [
      EHLO,
      step('MAIL FROM:<sender@example.org> SIZE=1000 BODY=8BITMIME\r\n', 1, { rfc: ['250'] }),
      step('RSET\r\n', 1),
      step('MAIL FROM:<sender@example.org> SIZE=abc\r\n', 1, { rfc: ['501'] }),
      step('MAIL FROM:<sender@example.org> BODY=9BIT\r\n', 1),
      // RFC 5321 §4.1.1.11: an unrecognized parameter is 555
      step('MAIL FROM:<sender@example.org> XFOO=bar\r\n', 1, { rfc: ['555'] }),
      QUIT,
    ],
  },
  {
    name: 'syntax: RCPT parameters the server did not advertise',
    category: 'syntax',
    steps: [EHLO, MAIL, step(`RCPT TO:<${BOB}> XFOO=bar\r\n`, 1, { rfc: ['555'] }), QUIT],
  },
  {
    name: 'syntax: HELO/EHLO arguments, commands that take none',
    category: 'syntax',
    steps: [
      step('EHLO\r\n', 1, { rfc: ['501'] }),
      step('HELO\r\n', 1, { rfc: ['501'] }),
      step('EHLO [127.0.0.1]\r\n', 1, { rfc: ['250'] }),
      step('DATA now\r\n', 1),
      step('RSET now\r\n', 1),
      QUIT,
    ],
  },
  {
    name: 'syntax: QUIT with an argument',
    category: 'syntax',
    steps: [
      EHLO,
      step('QUIT now\r\n', 1, {
        allow: {
          peers: ['normalize'],
          ours: '5',
          postfix: '2 closed',
          why: 'RFC 5321 §4.1.1.10 gives QUIT no argument: we answer 501, Postfix ignores the argument and quits',
        },
      }),
      step('QUIT\r\n', 1, {
        allow: { peers: ['normalize'], ours: '2 closed', postfix: 'closed', why: 'Postfix quit before' },
      }),
    ],
  },

  // ------------------------------------------------------------------ overlong lines
  {
    name: 'overlong: a 600-byte command line (RFC 5321 §4.5.3.1.4 limit: 512)',
    category: 'overlong',
    steps: [
      EHLO,
      step(`NOOP ${'x'.repeat(593)}\r\n`, 1, {
        allow: {
          peers: ['normalize'],
          ours: '5',
          postfix: '2',
          why:
            'RFC 5321 §4.5.3.1.4 sets 512 octets for a command line and lets a server take more (§4.5.3.1): ' +
            'we answer 500 (line too long), Postfix reads up to line_length_limit (2048)',
        },
      }),
      step('NOOP\r\n', 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'overlong: a 5000-byte command line, then the session goes on',
    category: 'overlong',
    steps: [
      EHLO,
      step(`MAIL FROM:<${'a'.repeat(5000)}@example.org>\r\n`, 1),
      step('MAIL FROM:<sender@example.org>\r\n', 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'overlong: a local part over 64 octets and a domain label over 63',
    category: 'overlong',
    steps: [
      EHLO,
      MAIL,
      step(`RCPT TO:<${'b'.repeat(65)}@${LOCAL_DOMAIN}>\r\n`, 1),
      step(`RCPT TO:<bob@${'d'.repeat(64)}.test>\r\n`, 1),
      QUIT,
    ],
  },
  {
    name: 'overlong: a 10 000-byte line inside the message is content',
    category: 'overlong',
    steps: [...TRANSACTION, step(`Subject: long\r\n\r\n${'y'.repeat(10_000)}\r\n.\r\n`, 1), QUIT],
  },

  // ------------------------------------------------------------------ NUL bytes
  {
    name: 'NUL: in a command line',
    category: 'nul',
    steps: [
      EHLO,
      step(latin1('NOOP\x00\r\n'), 1, {
        allow: {
          peers: ['normalize'],
          ours: '5',
          postfix: '2',
          why:
            'a NUL is no part of any command (RFC 5321 §4.1.1, printable US-ASCII): we refuse the line (500), ' +
            'Postfix drops what follows the NUL and runs the NOOP',
        },
      }),
      step(latin1(`MAIL FROM:<a\x00b@example.org>\r\n`), 1),
      step('NOOP\r\n', 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: 'NUL: inside the message',
    category: 'nul',
    steps: [...TRANSACTION, step(latin1('Subject: nul\r\n\r\na\x00b\r\n.\r\n'), 1), QUIT],
  },

  // ------------------------------------------------------------------ SIZE and recipient limits
  {
    name: 'limits: SIZE at and above the limit (RFC 1870: 552)',
    category: 'limits',
    steps: [
      EHLO,
      step(`MAIL FROM:<sender@example.org> SIZE=${MAX_SIZE}\r\n`, 1, { rfc: ['250'] }),
      step('RSET\r\n', 1),
      step(`MAIL FROM:<sender@example.org> SIZE=${MAX_SIZE + 1}\r\n`, 1, { rfc: ['552'] }),
      step(`MAIL FROM:<sender@example.org> SIZE=99999999999999999999\r\n`, 1),
      QUIT,
    ],
  },
  {
    name: 'limits: a message over the limit without SIZE is refused at its end',
    category: 'limits',
    steps: [
      ...TRANSACTION,
      step(
        `Subject: big\r\n\r\n${`${'z'.repeat(998)}\r\n`.repeat(Math.ceil((MAX_SIZE * 1.5) / 1000))}.\r\n`,
        1,
        {
          rfc: ['552'],
        },
      ),
      step('NOOP\r\n', 1, { rfc: ['250'] }),
      QUIT,
    ],
  },
  {
    name: `limits: more than ${MAX_RCPT} recipients (RFC 5321 §4.5.3.1.10: 452)`,
    category: 'limits',
    steps: [
      EHLO,
      MAIL,
      RCPT,
      step(`RCPT TO:<${ALICE}>\r\n`, 1, { rfc: ['250'] }),
      step(`RCPT TO:<postmaster@${LOCAL_DOMAIN}>\r\n`, 1, { rfc: ['250'] }),
      step(`RCPT TO:<${BOB}>\r\n`, 1, { rfc: ['452'] }),
      step('RSET\r\n', 1),
      QUIT,
    ],
  },
];
