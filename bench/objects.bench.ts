/**
 * Object layer speed: signet verify/sign, record parsing, armor; beside the raw Ed25519 verify of
 * the library we use and libdime-bench, measured in the same run.
 */
import { Worker } from 'node:worker_threads';
import { crypto } from '../src/crypto/index.js';
import { armor, dearmor } from '../src/encoding/armor.js';
import { buildRecordText, parseRecord } from '../src/record/index.js';
import { parseSignet, signRequest, verifySignet } from '../src/signet/index.js';
import { interleavedRates, machine, rate, report, round, runLibdimeBench } from './lib.js';
import { objectFixtures } from './objects-fixtures.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const { orgKeys, org, ssr, user } = objectFixtures();
const c = crypto();

const libdime = runLibdimeBench();

// libdime's dime_sgnt_validate_all(user ID signet, NULL, org, NULL) on a signet it has already
// deserialized: the crypto, full and ID signatures against the org's key (it does not re-check the
// user's own SSR signature). Our structure checks happen while parsing, so the timed work is
// verifySignet on the parsed signet; parse + verify is reported beside it. Measured interleaved
// with the raw Ed25519 verify it is compared with.
const msg = c.randomBytes(200);
const sig = c.ed25519Sign(orgKeys.signingSeed, msg);
const parsedUser = parseSignet(user.bytes, ['user']);
const parsedOrg = parseSignet(org.bytes, ['org']);
const paired = interleavedRates(
  {
    user: () => verifySignet(parsedUser, { org, selfSignature: false }),
    userParsed: () => verifySignet(parseSignet(user.bytes, ['user']), { org, selfSignature: false }),
    org: () => verifySignet(parsedOrg, { pok: [orgKeys.signingPublic] }),
    raw: () => c.ed25519Verify(orgKeys.signingPublic, msg, sig),
  },
  seconds * 2,
);
const userVerify = paired.user!;
const orgVerify = paired.org!;
const rawVerify = paired.raw!;

const signed = rate(() => signRequest(ssr, orgKeys, { address: 'user@alpha.test' }), seconds);

const recordText = buildRecordText({
  pok: [orgKeys.signingPublic],
  policy: 'mixed',
  dx: ['dx1.alpha.test', 'dx2.alpha.test'],
  exp: 30,
});
const recordsParsed = rate(() => parseRecord([recordText]), seconds);

const big = c.randomBytes(1 << 20);
const bigText = armor('ENCRYPTED MESSAGE', big);
const armorWrite = rate(() => armor('ENCRYPTED MESSAGE', big), seconds);
const armorRead = rate(() => dearmor(bigText), seconds);

async function pool(threads: number): Promise<number> {
  const rates = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(new URL('./ts-worker.mjs', import.meta.url), {
            workerData: {
              entry: new URL('./objects-worker.ts', import.meta.url).href,
              user: user.bytes,
              org: org.bytes,
              seconds,
            },
          });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  return rates.reduce((a, b) => a + b, 0);
}
const poolVerify = await pool(machine().cores);

const ref = libdime();
const libUser = ref?.user_signet_verify_per_s ?? null;

report('objects', {
  user_signet_verify_per_s: round(userVerify),
  user_signet_parse_verify_per_s: round(paired.userParsed!),
  org_signet_verify_per_s: round(orgVerify),
  raw_ed25519_verify_per_s: round(rawVerify),
  verify_ratio: round((userVerify * 3) / rawVerify, 3),
  signets_signed_per_s: round(signed),
  records_parsed_per_s: round(recordsParsed),
  armor_write_mb_per_s: round(armorWrite),
  armor_read_mb_per_s: round(armorRead),
  user_signet_verify_pool_per_s: round(poolVerify),
  pool_threads: machine().cores,
  libdime_user_signet_verify_per_s: libUser,
  libdime_org_signet_verify_per_s: ref?.org_signet_verify_per_s ?? null,
  libdime_raw_ed25519_verify_per_s: ref?.raw_ed25519_verify_per_s ?? null,
  vs_libdime: libUser ? round(userVerify / libUser, 3) : null,
  vs_libdime_pool: libUser ? round(poolVerify / libUser, 3) : null,
  baseline: 'libdime-bench user_signet_verify_per_s (same run); raw = sodium-native Ed25519 verify, 200 B',
  machine: machine(),
});
