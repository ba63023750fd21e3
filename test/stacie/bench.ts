/**
 * STACIE speed check (not part of the test suite): `npx tsx test/stacie/bench.ts`.
 * Times the §9.2 account (8 characters → 65 536 rounds) and the pieces of the chain.
 */
import { utf8 } from '../../src/encoding/bytes.js';
import { chainedSha512, sha512Fast, sha512Streaming } from '../../src/stacie/hash-chain.js';
import { deriveKey, deriveRounds, deriveSeed, stacieDerive } from '../../src/stacie/index.js';

const salt = Uint8Array.from({ length: 128 }, (_, i) => i);
const username = utf8('stacie');
const password = utf8('password');
const rounds = deriveRounds(password, 0);

function time(label: string, reps: number, f: () => unknown): void {
  f(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  const ms = (performance.now() - t0) / reps;
  console.log(`${label.padEnd(46)} ${ms.toFixed(1).padStart(8)} ms`);
}

console.log(`node ${process.version}, ${rounds} rounds`);
time('deriveSeed (HMAC over 65 536 copies)', 20, () => deriveSeed(password, salt, rounds));
const base = deriveSeed(password, salt, rounds);
time('deriveKey (one-shot crypto.hash)', 5, () => deriveKey(base, rounds, username, password, salt));
time('chainedSha512 with createHash/update/digest', 5, () =>
  chainedSha512([base, username, salt, password], rounds, sha512Streaming),
);
time('chainedSha512 with crypto.hash', 5, () =>
  chainedSha512([base, username, salt, password], rounds, sha512Fast),
);
time('stacieDerive (full chain, 65 536 rounds)', 5, () =>
  stacieDerive({ username, password, salt, bonus: 0 }),
);
time('stacieDerive (SiliconSally, 4 224 rounds)', 20, () =>
  stacieDerive({ username: 'user@example.tld', password: 'SiliconSally', salt, bonus: 128 }),
);
