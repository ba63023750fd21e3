/**
 * The DMTP client against our own listeners (src/protocol) found through real DNS (Knot + Unbound,
 * signed zones; test/resolver/signets-world.ts): the client procedure of dmtp.md §5, the lookup
 * commands, and delivery of DIME objects with MAIL/RCPT/DATA — the sink must receive exactly the
 * bytes sent. No mocks of DNS, TLS or sockets.
 */

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Unpadded } from '../../src/encoding/base64.js';
import { FileSource } from '../../src/message/source.js';
import {
  type ConnectDmtpOptions,
  connectDmtp,
  DEFAULT_MAX_MESSAGE_SIZE,
  deliverMessages,
  type MessageEnvelope,
} from '../../src/protocol/index.js';
import { parseSignet } from '../../src/signet/index.js';
import { hex, loadCases } from '../helpers/vectors.js';
import { expectDimeError } from '../resolver/helpers.js';
import { startWorld, type World } from '../resolver/signets-world.js';
import { fp } from './helpers.js';

let w: World;
let dir: string;

beforeAll(async () => {
  w = await startWorld();
  dir = mkdtempSync(join(tmpdir(), 'dime-dmtp-client-'));
});

afterAll(async () => {
  await w?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<ConnectDmtpOptions> = {}): ConnectDmtpOptions {
  return {
    resolver: w.resolver(),
    ehlo: 'alpha.test',
    portOverrides: (host, port) => w.portFor(host, port),
    timeouts: { connectMs: 2000, tlsMs: 3000, commandMs: 3000, dataMs: 10_000 },
    ...extra,
  };
}

function envelope(): MessageEnvelope {
  return {
    origin: 'alpha.test',
    originFingerprint: fp(w.orgs['alpha.test'].chain[0]!),
    destination: 'beta.test',
    destinationFingerprint: fp(w.orgs['beta.test'].chain[0]!),
  };
}

const sha = (b: Uint8Array) => toBase64Unpadded(new Uint8Array(createHash('sha512').update(b).digest()));

describe('connecting (dmtp.md §5)', () => {
  it('record → DX on port 26 → pinned certificate → EHLO; lookups on the connection', async () => {
    const { connection: c, plan } = await connectDmtp('beta.test', options());
    try {
      expect(plan.source).toBe('dx');
      expect(c.target).toMatchObject({ host: 'dx.beta.test', port: 26, mode: 'dmtp', address: '127.0.0.1' });
      expect(c.connectedPort).toBe(w.ports.dmtp);
      expect(c.tls.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(c.tls.certificate).toMatchObject({
        check: 'pin',
        pinned: true,
        hostname: 'skipped',
        chain: 'skipped',
      });
      expect(c.ehlo.maxSize).toBe(DEFAULT_MAX_MESSAGE_SIZE);
      expect(c.ehlo.keywords.has('DMTPV1')).toBe(true);
      expect(c.attempts).toEqual([]);

      const org = parseSignet(await c.sgnt('beta.test'), ['org']);
      expect(fp(org)).toBe(fp(w.orgs['beta.test'].chain[0]!));
      const carol = w.users.carol.chain;
      const hist = await c.hist('carol@beta.test');
      expect(hist.map((b) => fp(parseSignet(b, ['user'])))).toEqual(carol.map((s) => fp(s)));
      const tail = await c.hist('carol@beta.test', fp(carol[1]!));
      expect(tail).toHaveLength(1);
      expect(await c.vrfy('carol@beta.test', fp(carol[0]!))).toEqual({
        status: 'update',
        fingerprint: fp(carol[1]!),
      });
      expect(await c.vrfy('carol@beta.test', fp(carol[1]!))).toEqual({ status: 'current' });
      expect((await c.stats()).length).toBeGreaterThan(0);
      await c.noop();
      await c.rset();
    } finally {
      await c.quit();
    }
    expect(c.isOpen).toBe(false);
  });

  it('MX in dual mode: port 26 and 25 refused, then 587 with STARTTLS MODE=DMTPv1', async () => {
    const { connection: c, plan } = await connectDmtp('mx.test', options());
    try {
      expect(plan.source).toBe('mx');
      expect(c.target).toMatchObject({ host: 'mail.mx.test', port: 587, mode: 'dual' });
      expect(c.attempts.map((a) => [a.port, a.code])).toEqual([
        [26, 'CONNECT_FAILED'],
        [25, 'CONNECT_FAILED'],
      ]);
      expect(c.discardedPlaintext).toBe(0);
      expect(c.tls.certificate.check).toBe('pin');
      expect(parseSignet(await c.sgnt('mx.test'), ['org']).stage).toBe('full');
    } finally {
      await c.quit();
    }
  });

  it('bogus record: DNS_BOGUS, no connection; no record: RECORD_MISSING', async () => {
    const before = w.connections();
    await expectDimeError(connectDmtp('bogus.test', options()), 'DNS_BOGUS');
    await expectDimeError(connectDmtp('missing.test', options()), 'RECORD_MISSING');
    expect(w.connections()).toBe(before);
  });

  it('certificate failures are TLS_UNTRUSTED, an unreachable DX is CONNECT_FAILED (temporary)', async () => {
    expect(
      (await expectDimeError(connectDmtp('nopin.test', options()), 'TLS_UNTRUSTED')).context.reason,
    ).toBe('self-signed');
    expect(
      (await expectDimeError(connectDmtp('wrongcert.test', options()), 'TLS_UNTRUSTED')).context.reason,
    ).toBe('pin-mismatch');
    const down = await expectDimeError(connectDmtp('down.test', options()), 'CONNECT_FAILED');
    expect(down.context).toMatchObject({ temporary: true, reason: 'refused' });
    expect(down.context.attempts).toEqual([
      expect.objectContaining({ host: 'dx.down.test', port: 26, code: 'CONNECT_FAILED' }),
    ]);
  });
});

describe('delivery (MAIL, RCPT, DATA)', () => {
  const finals = loadCases('reference/libdime-message.json').filter((c) => String(c.id).endsWith('-final'));

  it('a libdime-made DIME object arrives byte for byte, with the envelope and the DATA hash', async () => {
    const msg = hex(finals[0]!.input.hex as string);
    const { connection: c } = await connectDmtp('beta.test', options());
    const before = w.hooks.messages.length;
    try {
      const sent = await c.send(envelope(), msg);
      expect(sent.transactionId).toMatch(/^tx-\d+$/);
      expect(sent.size).toBe(msg.length);
      expect(sent.hash).toBe(sha(msg));
    } finally {
      await c.quit();
    }
    const got = w.hooks.messages[before]!;
    expect(Buffer.from(got.bytes).equals(Buffer.from(msg))).toBe(true);
    expect(got.envelope.transfer).toBe('dmtp');
    expect(got.envelope.from).toMatchObject({ protocol: 'dmtp', domain: 'alpha.test', size: msg.length });
    expect(got.envelope.to).toEqual([
      {
        protocol: 'dmtp',
        domain: 'beta.test',
        fingerprint: { kind: 'fingerprint', value: envelope().destinationFingerprint },
      },
    ]);
    expect(got.envelope.dataHash).toEqual({ kind: 'fingerprint', value: sha(msg) });
  });

  it('a 3 MiB object streamed from a file, in dual mode, arrives identical', async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i += 4096)
      big.set(
        createHash('sha256')
          .update(String(i))
          .digest()
          .subarray(0, big.length - i),
        i,
      );
    const path = join(dir, 'big.dime');
    writeFileSync(path, big);
    const src = FileSource.open(path);
    const { connection: c } = await connectDmtp('mx.test', options());
    const before = w.hooks.messages.length;
    try {
      const sent = await c.send({ ...envelope(), destination: 'beta.test' }, src);
      expect(sent.size).toBe(big.length);
    } finally {
      src.close();
      await c.quit();
    }
    expect(sha(w.hooks.messages[before]!.bytes)).toBe(sha(big));
  });

  it('per-recipient results: a refusal (wrong fingerprint, oversize) does not stop the others', async () => {
    const msgs = finals.slice(0, 2).map((f) => hex(f.input.hex as string));
    const { connection: c } = await connectDmtp('beta.test', options());
    const before = w.hooks.messages.length;
    try {
      const env = envelope();
      const results = await deliverMessages(c, env, [
        { id: 'bob@beta.test', body: msgs[0]! },
        { id: 'huge@beta.test', body: new Uint8Array(DEFAULT_MAX_MESSAGE_SIZE + 1) },
        { id: 'carol@beta.test', body: msgs[1]! },
      ]);
      expect(results.map((r) => [r.id, r.delivered])).toEqual([
        ['bob@beta.test', true],
        ['huge@beta.test', false],
        ['carol@beta.test', true],
      ]);
      const huge = results[1]!;
      if (huge.delivered) throw new Error('unreachable');
      expect(huge.temporary).toBe(false);
      expect(huge.error.code).toBe('DMTP_REFUSED');
      expect(huge.error.context).toMatchObject({ code: 552, command: 'MAIL' });
      // RCPT with a fingerprint that is not beta's current org signet: 550, RSET, next one fine
      const wrong = await deliverMessages(c, { ...env, destinationFingerprint: env.originFingerprint }, [
        { id: 'x', body: msgs[0]! },
      ]);
      expect(wrong[0]).toMatchObject({ delivered: false, temporary: false });
      expect(wrong[0]!.delivered ? null : wrong[0]!.error.context.code).toBe(550);
      const again = await deliverMessages(c, env, [{ id: 'y', body: msgs[1]! }]);
      expect(again[0]!.delivered).toBe(true);
    } finally {
      await c.quit();
    }
    const got = w.hooks.messages.slice(before).map((m) => sha(m.bytes));
    expect(got).toEqual([sha(msgs[0]!), sha(msgs[1]!), sha(msgs[1]!)]);
  });

  it('554 from the destination (signature check failed): DMTP_REFUSED, permanent, session still usable', async () => {
    const msg = hex(finals[0]!.input.hex as string);
    const { connection: c } = await connectDmtp('beta.test', options());
    w.hooks.deliveryVerdict = 'reject';
    try {
      const e = await expectDimeError(c.send(envelope(), msg), 'DMTP_REFUSED');
      expect(e.context).toMatchObject({ code: 554, command: 'DATA', temporary: false });
      expect(c.isOpen).toBe(true);
      w.hooks.deliveryVerdict = 'accept';
      expect((await c.send(envelope(), msg)).transactionId).not.toBeNull();
    } finally {
      w.hooks.deliveryVerdict = 'accept';
      await c.quit();
    }
  });
});
