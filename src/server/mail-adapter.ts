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

export function createMailServices(config: ServerConfig): MailServices {
  const dnsOptions = {
    ...(config.dns.resolvers ? { servers: config.dns.resolvers } : {}),
    trusted: config.dns.trusted,
    timeoutMs: config.dns.timeoutMs,
  };
  const dns = createMailauthResolver(dnsOptions);
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
