import { Errors } from '../../shared/error-catalog.js';
import { isKnownLocale, LOCALES } from '../messages/catalog.js';
import { FORMATS, isFormatName } from './index.js';
import type { FormatName } from './format.js';

/** How a subscription delivers: its format, the reader's locale and time zone, the format's settings. */
export interface DeliverySettings {
  format: FormatName;
  locale: string;
  timeZone: string;
  settings: Record<string, unknown>;
}

/** Time zones a subscription may name: `UTC` and every IANA zone of this runtime, canonical names. */
export const TIME_ZONES: readonly string[] = Object.freeze(['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')]);
const KNOWN_ZONES: ReadonlySet<string> = new Set(TIME_ZONES);

/**
 * Check what a subscription asks for against its format, with a catalog code naming the field at
 * fault; returns the settings to store (settings as the format parsed them).
 * The URL's SSRF policy is the service's to apply on top.
 */
export function checkDeliverySettings(input: { format: string; locale: string; timeZone: string; settings: unknown; url: string }): DeliverySettings {
  if (!isFormatName(input.format)) throw Errors.subscriptionInvalidSettings(`Unknown format "${input.format}"`, { field: 'format' });
  const format = FORMATS[input.format];
  if (!isKnownLocale(input.locale)) {
    throw Errors.subscriptionUnknownLocale(`No messages in locale "${input.locale}"; known: ${LOCALES.join(', ')}`, { field: 'locale' });
  }
  // Names exactly as IANA spells them (`Asia/Jerusalem`), the set the API document lists.
  if (!KNOWN_ZONES.has(input.timeZone)) throw Errors.subscriptionInvalidTimezone(`Unknown time zone "${input.timeZone}"; use an IANA name such as Asia/Jerusalem or UTC`, { field: 'timezone' });
  const timeZone = input.timeZone;
  const parsed = format.settings.safeParse(input.settings ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const field = `settings.${issue.keys[0]}`;
      throw Errors.subscriptionUnknownField(`The ${format.name} format has no setting "${issue.keys[0]}"`, { field });
    }
    const field = ['settings', ...issue.path.map(String)].join('.');
    throw Errors.subscriptionInvalidSettings(`${field}: ${issue.message}`, { field });
  }
  const mailto = input.url.toLowerCase().startsWith('mailto:');
  if (mailto !== (format.destination === 'mailto')) {
    throw Errors.subscriptionInvalidUrl(
      mailto ? `The ${format.name} format delivers to an http(s) URL; mailto: is for the email format` : 'The email format delivers to a mailto: URL',
      { field: 'url' },
    );
  }
  const problem = format.checkDestination?.(input.url) ?? null;
  if (problem !== null) throw Errors.subscriptionInvalidSettings(problem, { field: 'url' });
  return { format: format.name, locale: input.locale, timeZone, settings: parsed.data };
}
