import { z } from 'zod';
import type { Format } from './format.js';
import { messageOf } from './message-of.js';

/** At most this many recipients per subscription. */
export const MAX_RECIPIENTS = 20;

/** An address as the subscription API takes it: a plain `local@domain`, no display name. */
export const EMAIL_ADDRESS = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+";
/** `mailto:` and one to {@link MAX_RECIPIENTS} addresses separated by commas (RFC 6068, no headers). */
export const MAILTO_PATTERN = `^mailto:${EMAIL_ADDRESS}(,${EMAIL_ADDRESS}){0,${MAX_RECIPIENTS - 1}}$`;
const MAILTO_RE = new RegExp(MAILTO_PATTERN);

/** The recipients of a `mailto:` URL, or null when it is not one the API takes. */
export function recipientsOf(url: string): string[] | null {
  return MAILTO_RE.test(url) ? url.slice('mailto:'.length).split(',') : null;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * E-mail through the SMTP relay of the configuration: a text and an HTML part, in the reader's
 * language (`Content-Language`, `<html lang dir>`: Hebrew is laid out right to left). The
 * subscription URL is `mailto:` with the recipients.
 */
export const emailFormat: Format = {
  name: 'email',
  destination: 'mailto',
  settings: z.strictObject({}),
  checkDestination: (url) => (recipientsOf(url) === null ? `An email subscription URL is \`mailto:\` with 1 to ${MAX_RECIPIENTS} addresses separated by commas` : null),
  render({ event, subscription }) {
    const m = messageOf(event, subscription);
    const dir = m.direction;
    const facts = m.facts.map((f) => `${f.label}: ${f.value}`);
    const text = [m.text, '', ...facts].join('\n').trimEnd() + '\n';
    const rows = m.facts.map((f) => `<tr><th style="text-align:start;padding:2px 12px 2px 0">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`).join('');
    const html =
      `<!DOCTYPE html><html lang="${m.locale}" dir="${dir}"><head><meta charset="utf-8"><title>${escapeHtml(m.title)}</title></head>` +
      `<body dir="${dir}" style="font-family:sans-serif"><h2>${escapeHtml(m.title)}</h2><p>${escapeHtml(m.text)}</p>` +
      (rows ? `<table dir="${dir}">${rows}</table>` : '') +
      '</body></html>';
    return {
      kind: 'mail',
      to: recipientsOf(subscription.url) ?? [],
      subject: m.title,
      text,
      html,
      messageId: `${event.id}.${subscription.id}`,
      language: m.locale,
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Fieldhook-Event-Type': event.type, 'X-Fieldhook-Event-Id': event.id },
    };
  },
};
