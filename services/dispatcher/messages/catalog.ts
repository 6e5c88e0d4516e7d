import en from './en.json' with { type: 'json' };
import he from './he.json' with { type: 'json' };

/**
 * The message catalogs, one JSON file per locale that a translator edits without touching code.
 * A new locale is a new file and one line in {@link CATALOGS}; a unit test checks that every
 * catalog has every message of `en.json` with the same placeholders.
 */
export interface MessageTemplate {
  title: string;
  /** Alternatives, most detailed first: the first whose placeholders are all known is used. */
  text: string[];
  /** The label of the message's answer button (advice only). */
  button?: string;
}

export interface MessageCatalog {
  locale: string;
  direction: 'ltr' | 'rtl';
  /** How a field id is named in a sentence: `{name}` is the id, capitalised. */
  field_name: string;
  messages: Record<string, MessageTemplate>;
  /** For event types without a template of their own. */
  fallback: MessageTemplate;
  /** Labels of the facts shown next to the text (Teams, Discord, e-mail). */
  facts: Record<string, string>;
  crops: Record<string, string>;
  soils: Record<string, string>;
}

export const CATALOGS: Readonly<Record<string, MessageCatalog>> = Object.freeze({
  en: en as MessageCatalog,
  he: he as MessageCatalog,
});

/** Locales a subscription may choose. */
export const LOCALES: readonly string[] = Object.freeze(Object.keys(CATALOGS));

export const DEFAULT_LOCALE = 'en';

export function isKnownLocale(locale: string): boolean {
  return Object.hasOwn(CATALOGS, locale);
}

export function catalogOf(locale: string): MessageCatalog {
  return CATALOGS[locale] ?? CATALOGS[DEFAULT_LOCALE]!;
}
