import { createTransport } from 'nodemailer';
import type { TransportResponse } from '../http-transport.js';
import type { MailDelivery } from './format.js';

/** Sends a rendered e-mail; resolves with the relay's reply as a delivery-log response. */
export interface Mailer {
  send(mail: MailDelivery): Promise<TransportResponse>;
  close(): void;
}

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:587` or `smtps://…` (nodemailer's connection URL). */
  url: string;
  /** The `From` of every message, e.g. `fieldhook <fieldhook@farm.example>`. */
  from: string;
  /** Connect, greeting and socket inactivity budget, ms (the delivery timeout). */
  timeoutMs: number;
}

/** The domain of an address, for Message-IDs that are unique under the sender's domain. */
function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'fieldhook.invalid';
}

/**
 * SMTP through nodemailer. The relay's reply code is the attempt's status code in the delivery
 * log: 2xx accepted, 4xx transient and 5xx refused are retried on the schedule like an HTTP
 * failure; a connection that fails throws, like a network error.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transport = createTransport({
    url: options.url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  } as Parameters<typeof createTransport>[0]);
  const domain = domainOf(options.from);
  return {
    async send(mail) {
      try {
        const info = (await transport.sendMail({
          from: options.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${mail.messageId}@${domain}>`,
          headers: { ...mail.headers, 'Content-Language': mail.language },
        })) as { response?: string };
        const reply = String(info.response ?? '250');
        return { statusCode: Number(/^\d{3}/.exec(reply)?.[0] ?? 250), headers: {}, snippet: reply.slice(0, 1024) };
      } catch (err) {
        const e = err as { responseCode?: unknown; response?: unknown };
        // A reply from the relay is an answer, not a network failure: logged with its code.
        if (typeof e.responseCode === 'number') return { statusCode: e.responseCode, headers: {}, snippet: String(e.response ?? '').slice(0, 1024) };
        throw err;
      }
    },
    close: () => transport.close(),
  };
}
