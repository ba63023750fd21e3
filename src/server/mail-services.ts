/**
 * The legacy-mail services the server uses (src/server/mail, issue 7): inbound SPF/DKIM/DMARC/ARC
 * checks, the rspamd hook, DKIM signing and keys, DSN bounces, outbound SMTP delivery. This file is
 * the seam: the server calls them through this interface, the implementation wraps src/server/mail.
 */

export interface InboundAuthInput {
  message: Uint8Array;
  mailFrom: string;
  ip: string;
  helo: string;
}

export interface InboundAuthOutcome {
  /** Short results (pass, fail, none, temperror, …) for logs and metadata. */
  summary: { spf: string; dkim: string; dmarc: string; arc: string };
  /** A DNS lookup failed: recorded, never a reason to reject by itself. */
  temperror: boolean;
  /** Header fields to prepend (Received-SPF, Authentication-Results), folded, each CRLF-terminated. */
  headerText: string;
}

export type SpamVerdict =
  | { status: 'ok'; action: string; score: number; headerText: string }
  | { status: 'unavailable'; error: string };

export interface DsnInput {
  /** Our host name (Reporting-MTA). */
  reportingMta: string;
  /** Who the DSN goes to (the original author). */
  to: string;
  /** The failed recipient and why. */
  recipient: string;
  reason: string;
  /** SMTP-like status code of the failure, e.g. 550 / 5.1.1, when known. */
  code: number | null;
  status: string;
  /** The original message (or its headers) to attach, when there is a readable one. */
  original: Uint8Array | null;
  /** The original subject for the human text. */
  subject: string | null;
  arrivalDate: Date;
}

export interface SmtpDeliveryInput {
  from: string;
  to: string[];
  message: Uint8Array;
  domain: string;
  heloName: string;
  portOverride?: number;
}

export interface SmtpRecipientResult {
  address: string;
  ok: boolean;
  code?: number | undefined;
  response?: string | undefined;
  temporary: boolean;
  /** RFC 3463 enhanced status, for the DSN. */
  status?: string | undefined;
}

export interface MailServices {
  generateDkimKey(): { privateKeyPem: string; publicKeyDnsValue: string };
  dkimSign(
    message: Uint8Array,
    o: { domain: string; selector: string; privateKeyPem: string },
  ): Promise<Uint8Array>;
  checkInbound(o: InboundAuthInput): Promise<InboundAuthOutcome>;
  /** Null when no spam filter is configured. */
  spamCheck:
    | ((
        message: Uint8Array,
        o: {
          ip: string;
          helo: string;
          mailFrom: string;
          rcpt: string[];
          authResults: string;
          queueId: string;
        },
      ) => Promise<SpamVerdict>)
    | null;
  buildDsn(o: DsnInput): Uint8Array;
  deliverSmtp(o: SmtpDeliveryInput): Promise<{ recipients: SmtpRecipientResult[] }>;
}
