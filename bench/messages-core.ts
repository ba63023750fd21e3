/**
 * DMIME message core speed, measured like libdime-bench's `encrypt_per_s` / `decrypt_per_s`
 * (shared/tools/README.md): seal one author-side message for the four actors (one display part of
 * `bodyBytes` ASCII bytes, Date/To/From/Organization/Subject and one other header), and open the
 * origin-signed message as its recipient (every signature checked). Also origin signing and the
 * other actors' opens. Importable (`measureMessageCore`) or runnable on its own:
 * `node --import tsx bench/messages-core.ts [--size N]`.
 */
import { pathToFileURL } from 'node:url';
import { generateKeys } from '../src/keys/index.js';
import { type Actor, openMessage, type SealInput, sealMessage, signAsOrigin } from '../src/message/index.js';
import { createOrgSignet, createSsr, signRequest } from '../src/signet/index.js';
import { machine, rate, report, round, runLibdimeBench } from './lib.js';

export interface MessageFixture {
  input: SealInput;
  keys: Record<Actor, ReturnType<typeof generateKeys>>;
  signets: Record<Actor, ReturnType<typeof createOrgSignet>>;
  sealed: Uint8Array;
  final: Uint8Array;
}

export function messageFixture(bodyBytes = 10240): MessageFixture {
  const orgA = generateKeys('org');
  const orgB = generateKeys('org');
  const userA = generateKeys('user');
  const userB = generateKeys('user');
  const origin = createOrgSignet(orgA, { domain: 'alpha.test' });
  const destination = createOrgSignet(orgB, { domain: 'beta.test' });
  const author = signRequest(createSsr(userA), orgA, { address: 'user@alpha.test' });
  const recipient = signRequest(createSsr(userB), orgB, { address: 'user@beta.test' });
  const keys = { author: userA, origin: orgA, destination: orgB, recipient: userB };
  const signets = { author, origin, destination, recipient };
  const input: SealInput = {
    author: { keys: userA, signet: author },
    recipient: { signet: recipient },
    origin: { signet: origin },
    destination: { signet: destination },
    commonHeaders: {
      date: 'Wed, 25 Nov 2026 12:00:00 +0000',
      to: 'User <user@beta.test>',
      from: 'User <user@alpha.test>',
      organization: 'Alpha Org',
      subject: 'Benchmark',
    },
    otherHeaders: 'X-Test: 1\r\n',
    display: [{ data: 'A'.repeat(bodyBytes) }],
  };
  const sealed = sealMessage(input);
  const final = signAsOrigin(sealed, orgA, signets);
  return { input, keys, signets, sealed, final };
}

export interface MessageCoreFigures {
  body_bytes: number;
  wire_bytes: number;
  seal_per_s: number;
  origin_sign_per_s: number;
  open_recipient_per_s: number;
  open_author_per_s: number;
  open_origin_per_s: number;
  open_destination_per_s: number;
}

export function measureMessageCore(
  bodyBytes = 10240,
  seconds = Number(process.env.BENCH_SECONDS ?? 2),
): MessageCoreFigures {
  const f = messageFixture(bodyBytes);
  const open = (actor: Actor) => () =>
    openMessage(f.final, { actor, keys: f.keys[actor], signets: f.signets });
  return {
    body_bytes: bodyBytes,
    wire_bytes: f.final.length,
    seal_per_s: round(rate(() => sealMessage(f.input), seconds)),
    origin_sign_per_s: round(rate(() => signAsOrigin(f.sealed, f.keys.origin, f.signets), seconds)),
    open_recipient_per_s: round(rate(open('recipient'), seconds)),
    open_author_per_s: round(rate(open('author'), seconds)),
    open_origin_per_s: round(rate(open('origin'), seconds)),
    open_destination_per_s: round(rate(open('destination'), seconds)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--size');
  const size = i > 0 ? Number(process.argv[i + 1]) : 10240;
  const ours = measureMessageCore(size);
  const ref = runLibdimeBench(['--size', String(size)])();
  report('messages-core', {
    ...ours,
    libdime_encrypt_per_s: ref?.encrypt_per_s ?? null,
    libdime_decrypt_recipient_per_s: ref?.decrypt_per_s ?? null,
    seal_vs_libdime: ref ? round(ours.seal_per_s / ref.encrypt_per_s, 2) : null,
    open_vs_libdime: ref ? round(ours.open_recipient_per_s / ref.decrypt_per_s, 2) : null,
    machine: machine(),
  });
}
