import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeys, protectKeyObject, sealKeyObject, serializeKeys } from '../../src/keys/index.js';
import { libdimeCheck, tempDir } from '../helpers/cli.js';
import { hex } from '../helpers/vectors.js';
import { ACTORS, type CliParties, cliParties, dimeAsync, libdimeSignets } from '../message/cli-helpers.js';

/** `dime message` key file forms (plain, protected, encrypted), stdin/stdout, armor and spanning parts. */
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

let dir: string;
beforeAll(() => {
  dir = tempDir('dime-cli-msgio-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);

describe('key forms, stdin/stdout, armor, spanning', () => {
  let cli: CliParties;
  beforeAll(async () => {
    cli = await cliParties(dir, 'kf');
  });
  const sealArgs = (key: string, extra: string[] = []) => [
    ...['message', 'seal', '--key', key, '--signet', cli.signet.author, '--to', cli.signet.recipient],
    ...['--origin', cli.signet.origin, '--destination', cli.signet.destination, ...extra],
  ];
  const openRecipient = (file: string, extra: string[] = []) =>
    dimeAsync([
      ...['message', 'open', file, '--key', cli.key.recipient, '--as', 'recipient'],
      ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
      '--json',
      ...extra,
    ]);
  const simple = 'From: a@origin.test\r\nTo: b@dest.test\r\nSubject: s\r\n\r\nbody\r\n';

  it('protected (passphrase) and encrypted (realm key) author keys seal like plain ones', async () => {
    const eml = p('kf.eml');
    writeFileSync(eml, simple);
    const plain = loadKeys(new Uint8Array(readFileSync(cli.key.author))).keys;
    const pass = p('pass.txt');
    writeFileSync(pass, 'correct horse\n');
    const prot = p('kf-author.protected');
    writeFileSync(prot, protectKeyObject(serializeKeys(plain), 'correct horse'));
    const viaPass = await dimeAsync([
      ...sealArgs(prot, ['--passphrase-file', pass, '--in', eml, '--out', p('kf-prot.dime')]),
    ]);
    expect(viaPass.status, viaPass.stderr).toBe(0);
    const viaEnv = await dimeAsync([...sealArgs(prot, ['--in', eml, '--out', p('kf-prot2.dime')])], {
      env: { DIME_PASSPHRASE: 'correct horse' },
    });
    expect(viaEnv.status, viaEnv.stderr).toBe(0);
    const realm = 'ab'.repeat(64);
    const enc = p('kf-author.enc');
    writeFileSync(enc, sealKeyObject(serializeKeys(plain), hex(realm)));
    const out = p('kf-enc.dime');
    const r = await dimeAsync([...sealArgs(enc, ['--realm-key', realm, '--in', eml, '--out', out])]);
    expect(r.status, r.stderr).toBe(0);
    const final = p('kf-enc-final.dime');
    const signed = await dimeAsync([
      ...['message', 'sign-origin', out, '--key', cli.key.origin, '--out', final],
      ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
    ]);
    expect(signed.status, signed.stderr).toBe(0);
    expect((await openRecipient(final)).json.body).toBe('body\n');
    // another user's key does not belong to the author signet
    const wrong = await dimeAsync([...sealArgs(cli.key.recipient, ['--in', eml, '--out', p('x.dime')])]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('BAD_KEY');
    const badPass = p('bad-pass.txt');
    writeFileSync(badPass, 'wrong\n');
    expect(
      (
        await dimeAsync([
          ...sealArgs(prot, ['--passphrase-file', badPass, '--in', eml, '--out', p('w.dime')]),
        ])
      ).status,
    ).toBe(1);
    const noPass = await dimeAsync([...sealArgs(prot, ['--in', eml, '--out', p('y.dime')])]);
    expect(noPass.status).toBe(2);
    expect(noPass.stderr).toContain('PASSPHRASE_REQUIRED');
    const badRealm = await dimeAsync([
      ...sealArgs(enc, ['--realm-key', 'cd'.repeat(64), '--in', eml, '--out', p('z.dime')]),
    ]);
    expect(badRealm.status).toBe(1);
  });

  it('stdin to stdout through seal, sign-origin and open; armored output opens too', async () => {
    const s = await dimeAsync(sealArgs(cli.key.author, ['--in', '-', '--out', '-']), { input: simple });
    expect(s.status, s.stderr).toBe(0);
    // the message magic 1847 (0x07 0x37) on stdout (the helper decodes stdout as text)
    expect(s.stdout.slice(0, 2)).toBe('\u00077');
    const sealedFile = p('io-sealed.dime');
    const f = await dimeAsync(sealArgs(cli.key.author, ['--in', '-', '--out', sealedFile]), {
      input: simple,
    });
    expect(f.status, f.stderr).toBe(0);
    const armoredOut = p('io-final.asc');
    const o = await dimeAsync(
      [
        ...['message', 'sign-origin', '-', '--key', cli.key.origin, '--armor', '--out', armoredOut],
        ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
      ],
      { input: readFileSync(sealedFile) },
    );
    expect(o.status, o.stderr).toBe(0);
    expect(readFileSync(armoredOut, 'latin1')).toMatch(/^-----BEGIN ENCRYPTED MESSAGE-----/);
    const r = await openRecipient(armoredOut);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.body).toBe('body\n');
    const m = await dimeAsync(
      [
        ...['message', 'open', '-', '--key', cli.key.recipient, '--as', 'recipient', '--mime'],
        ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
      ],
      { input: readFileSync(armoredOut) },
    );
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toContain('Subject: s\r\n');
    expect(m.stdout.endsWith('body\r\n')).toBe(true);
  });

  it('a part over the chunk limit spans chunks: a warning on stderr, and it opens whole', async () => {
    const big = Buffer.alloc(17 * 1024 * 1024, 'x');
    const eml = p('span.eml');
    writeFileSync(
      eml,
      Buffer.concat([
        Buffer.from(
          'From: a@origin.test\r\nTo: b@dest.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n' +
            'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
            '--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="big.txt"\r\n\r\n',
        ),
        big,
        Buffer.from('\r\n--b--\r\n'),
      ]),
    );
    const sealed = p('span.dime');
    const s = await dimeAsync(sealArgs(cli.key.author, ['--in', eml, '--out', sealed]));
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/^warning: attachment part 1 \(\d+ bytes\) spans 2 chunks \(flag 128\)/);
    const final = p('span-final.dime');
    const signed = await dimeAsync([
      ...['message', 'sign-origin', sealed, '--key', cli.key.origin, '--out', final],
      ...ACTORS.flatMap((a) => ['--signet', cli.signet[a]]),
    ]);
    expect(signed.status, signed.stderr).toBe(0);
    const r = await openRecipient(final);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.attachments[0]).toMatchObject({
      name: 'big.txt',
      size: big.length,
      sha256: sha256(big),
      chunks: 2,
    });
    // libdime reads the spanning message, showing the two pieces as two attachments
    const ref = libdimeCheck([
      'open',
      final,
      '--as',
      'recipient',
      '--key',
      cli.key.recipient,
      ...libdimeSignets(cli),
    ]);
    expect(ref.status, ref.stderr).toBe(0);
    expect(ref.json.attachments.map((a: { flags: number }) => a.flags)).toEqual([128, 0]);
  }, 120_000);
});
