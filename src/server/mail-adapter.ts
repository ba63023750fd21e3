/**
 * MailServices (mail-services.ts) over src/server/mail: mailauth checks through our DNS client,
 * DKIM signing and keys, the rspamd hook, DSNs and outbound SMTP.
 */

import { DimeResolver } from '../resolver/resolver.js';
import type { ServerConfig } from './config.js';
import {
  checkInboundAuthentication,
  createMailauthResolver,
  dkimSign,
  type MailauthDnsAnswer,
  type MailauthDnsResolver,
  generateDkimKey as makeKey,
} from './mail/authentication.js';
import { buildDsn } from './mail/dsn.js';
import { deliverSmtp } from './mail/smtp-delivery.js';
import { RspamdClient } from './mail/spam-filter.js';
import type { DsnInput, MailServices } from './mail-services.js';

/** A DKIM key pair (RSA 2048). */
export function generateDkimKey(): { privateKeyPem: string; publicKeyDnsValue: string } {
  const k = makeKey();
  return { privateKeyPem: k.privateKeyPem, publicKeyDnsValue: k.publicKeyDnsValue };
}

/** A bounce for one recipient: RFC 3464 report from MAILER-DAEMON, sent to the author. */
export function dsnFor(o: DsnInput): Uint8Array {
  const about = o.subject
    ? `Your message "${o.subject.slice(0, 120)}" was not delivered: ${o.reason}.`
    : `Your message was not delivered: ${o.reason}.`;
  return buildDsn({
    reportingMta: o.reportingMta,
    dsnFrom: `MAILER-DAEMON@${o.reportingMta}`,
    to: o.to,
    originalEnvelopeFrom: o.to,
    arrivalDate: o.arrivalDate,
    recipients: [
      {
        address: o.recipient,
        action: 'failed',
        status: o.status,
        diagnostic: o.code !== null ? `smtp; ${o.code} ${o.reason}` : `x-dime; ${o.reason}`,
        lastAttemptDate: new Date(),
      },
    ],
    ...(o.original ? { originalMessage: o.original } : {}),
    reason: about,
  });
}

/**
 * A short cache in front of mailauth's DNS (SPF, DMARC and DKIM key lookups repeat for every message
 * of a sender domain): answers and "does not exist" are kept for at most 30 s (the validating
 * resolver behind caches by TTL; this only saves the round trips), temporary failures never.
 */
export function cachedLookups(
  lookup: MailauthDnsResolver,
  ttlMs = 30_000,
  maxEntries = 10_000,
): MailauthDnsResolver {
  const cache = new Map<string, { until: number; value?: MailauthDnsAnswer; error?: unknown }>();
  const inflight = new Map<string, Promise<MailauthDnsAnswer>>();
  return async (name, rrtype) => {
    const key = `${String(rrtype).toUpperCase()} ${String(name).toLowerCase()}`;
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) {
      if (hit.error !== undefined) throw hit.error;
      return hit.value!;
    }
    const running = inflight.get(key);
    if (running) return running;
    const p = lookup(name, rrtype).then(
      (value) => {
        cache.set(key, { until: Date.now() + ttlMs, value });
        return value;
      },
      (error: unknown) => {
        const code = (error as { code?: string })?.code;
        if (code === 'ENOTFOUND' || code === 'ENODATA') cache.set(key, { until: Date.now() + ttlMs, error });
        throw error;
      },
    );
    inflight.set(key, p);
    try {
      return await p;
    } finally {
      inflight.delete(key);
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    }
  };
}

export function createMailServices(config: ServerConfig): MailServices {
  const dnsOptions = {
    ...(config.dns.resolvers ? { servers: config.dns.resolvers } : {}),
    trusted: config.dns.trusted,
    timeoutMs: config.dns.timeoutMs,
  };
  const dns = cachedLookups(createMailauthResolver(dnsOptions));
  const resolver = new DimeResolver(dnsOptions);
  const rspamd = config.spamFilter
    ? new RspamdClient({ url: config.spamFilter.rspamdUrl, timeoutMs: config.spamFilter.timeoutMs })
    : null;
  return {
    generateDkimKey,
    dkimSign: (message, o) => dkimSign(message, o),
    async checkInbound(o) {
      const r = await checkInboundAuthentication({
        message: o.message,
        mailFrom: o.mailFrom,
        ip: o.ip,
        helo: o.helo,
        mta: config.hostname,
        dns,
      });
      return {
        summary: { spf: r.spf, dkim: r.dkim, dmarc: r.dmarc, arc: r.arc },
        temperror: r.temperror,
        headerText: r.headers,
      };
    },
    spamCheck: rspamd
      ? async (message, o) => {
          const v = await rspamd.check(message, o);
          return v.status === 'ok'
            ? { status: 'ok', action: v.action, score: v.score, headerText: v.headerText }
            : { status: 'unavailable', error: v.error };
        }
      : null,
    buildDsn: dsnFor,
    async deliverSmtp(o) {
      const r = await deliverSmtp({
        from: o.from,
        to: o.to,
        message: o.message,
        domain: o.domain,
        resolver,
        heloName: o.heloName,
        ...(o.portOverride !== undefined ? { portOverride: o.portOverride } : {}),
      });
      return { recipients: r.recipients };
    },
  };
}
