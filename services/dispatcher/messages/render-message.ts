import { catalogOf, type MessageCatalog, type MessageTemplate } from './catalog.js';

/**
 * Messages for people: one template per event type (or chat reply) and locale, filled with the
 * event's data formatted by `Intl` for the reader's locale and time zone. Every channel format
 * renders from this one result, so Slack, Teams, Telegram, Discord, ntfy and e-mail say the same.
 */

export interface RenderOptions {
  /** A locale of the catalog (`en`, `he`); an unknown one renders in English. */
  locale: string;
  /** IANA time zone of the reader, e.g. `Asia/Jerusalem`. */
  timeZone: string;
}

export interface MessageFact {
  /** Placeholder name (`net_depth`, `start_by`, …). */
  key: string;
  label: string;
  value: string;
}

/** How urgent a message is; channels map it to colours, priorities and emoji. */
export type MessageTone = 'action' | 'warning' | 'ok' | 'info';

export interface RenderedMessage {
  /** The event type or message key rendered (`irrigation.recommended`, `chat.forbidden`). */
  key: string;
  locale: string;
  direction: 'ltr' | 'rtl';
  /** Plain text, no markup: each channel escapes it for its own syntax. */
  title: string;
  text: string;
  facts: MessageFact[];
  tone: MessageTone;
  /** The answer an advice offers: a button that records the irrigation it advises. */
  action?: { label: string; farm: string; field: string; depthMm: number };
}

/** First strong isolate … pop directional isolate: a value keeps its own direction inside the text. */
const FSI = '\u2068';
const PDI = '\u2069';
/** Right-to-left mark: the paragraph is right to left even when it starts with an isolated value. */
export const RLM = '\u200f';

/** Depths in mm: placeholder ← the data keys that may carry it, first found wins. */
const DEPTHS: Record<string, readonly string[]> = {
  net_depth: ['net_depth_mm', 'depth_mm'],
  gross_depth: ['gross_depth_mm'],
  depletion: ['depletion_mm'],
  raw: ['raw_mm'],
  taw: ['taw_mm'],
  refilled: ['refilled_mm'],
  expected_rain: ['expected_rain_mm'],
  depth: ['depth_mm', 'net_depth_mm'],
};
const TIMES: Record<string, readonly string[]> = {
  start_by: ['start_by'],
  rain_by: ['expected_rain_by'],
  valid_until: ['valid_until'],
  since: ['last_reading_at', 'silent_since', 'stale_since'],
  at: ['at', 'started_at'],
};
const TEXTS = ['farm', 'device', 'reason', 'subscription_id', 'endpoint', 'event_type', 'event_id'] as const;
const COUNTS = ['attempts'] as const;

/** Facts shown next to the text, per message; the default is where it happened. */
const FACTS: Record<string, readonly string[]> = {
  'irrigation.recommended': ['field', 'farm', 'net_depth', 'gross_depth', 'start_by', 'valid_until', 'expected_rain'],
  'irrigation.cleared': ['field', 'farm', 'depletion', 'raw', 'expected_rain'],
  'sensor.stale': ['field', 'farm', 'device', 'since'],
  'sensor.recovered': ['field', 'farm', 'since'],
};
const DEFAULT_FACTS = ['field', 'farm'];

const TONES: Record<string, MessageTone> = {
  'irrigation.recommended': 'action',
  'irrigation.cleared': 'ok',
  'sensor.stale': 'warning',
  'sensor.recovered': 'ok',
  'endpoint.disabled': 'warning',
  'delivery.exhausted': 'warning',
};

const PLACEHOLDER = /\{([a-z_]+)\}/g;
/** An optional part of a sentence: kept only when every value in it is known. Innermost first. */
const OPTIONAL = /\[([^[\]]*)\]/;

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const first = <T>(keys: readonly string[], data: Record<string, unknown>, pick: (v: unknown) => T | null): T | null => {
  for (const k of keys) {
    const v = pick(data[k]);
    if (v !== null) return v;
  }
  return null;
};

/** `sandy_loam`, `Sandy loam` and `sandy-loam` are one preset name. */
const presetKey = (name: string) => name.trim().toLowerCase().replace(/[\s_]+/g, '-');

function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => values[name] ?? '');
}

function known(template: string, values: Readonly<Record<string, string>>): boolean {
  for (const m of template.matchAll(PLACEHOLDER)) if (values[m[1]!] === undefined) return false;
  return true;
}

/** The template with its `[optional parts]` kept or dropped; values are never parsed. */
function resolveOptional(template: string, values: Readonly<Record<string, string>>): string {
  let t = template;
  for (let m = OPTIONAL.exec(t); m !== null; m = OPTIONAL.exec(t)) {
    t = t.slice(0, m.index) + (known(m[1]!, values) ? m[1]! : '') + t.slice(m.index + m[0].length);
  }
  return t;
}

function usable(template: string, values: Readonly<Record<string, string>>): boolean {
  return known(resolveOptional(template, values), values);
}

function render(template: string, values: Readonly<Record<string, string>>): string {
  return fill(resolveOptional(template, values), values);
}

interface Formatters {
  mm: Intl.NumberFormat;
  count: Intl.NumberFormat;
  time: Intl.DateTimeFormat;
}

/** Intl formatters are costly to build and few distinct (locale, zone) pairs exist: built once each. */
const FORMATTERS = new Map<string, Formatters>();
/** Bound on the cache; time zones are a closed set, but a renderer is no place for a leak. */
const MAX_FORMATTERS = 1024;

function formattersOf(locale: string, timeZone: string): Formatters {
  const key = `${locale}\u0000${timeZone}`;
  let f = FORMATTERS.get(key);
  if (!f) {
    f = {
      mm: new Intl.NumberFormat(locale, { style: 'unit', unit: 'millimeter', unitDisplay: 'short', maximumFractionDigits: 1 }),
      count: new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }),
      time: new Intl.DateTimeFormat(locale, { weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }),
    };
    if (FORMATTERS.size >= MAX_FORMATTERS) FORMATTERS.clear();
    FORMATTERS.set(key, f);
  }
  return f;
}

/** The event's data as placeholder values, formatted for the reader (isolated in RTL text). */
function valuesOf(given: Record<string, unknown>, catalog: MessageCatalog, options: RenderOptions, type: string): Record<string, string> {
  // An advice withdrawn for rain says how much and by when in `hold`.
  const hold = given.hold && typeof given.hold === 'object' ? (given.hold as Record<string, unknown>) : null;
  const data = hold ? { expected_rain_mm: hold.expected_rain_mm, expected_rain_by: hold.by, ...given } : given;
  const rtl = catalog.direction === 'rtl';
  const iso = (s: string) => (rtl ? `${FSI}${s}${PDI}` : s);
  const { mm, count, time } = formattersOf(catalog.locale, options.timeZone);
  const values: Record<string, string> = { type: iso(type) };

  const field = str(data.field);
  if (field !== null) {
    const name = field.charAt(0).toUpperCase() + field.slice(1);
    values.field = iso(render(catalog.field_name, { name: iso(name) }));
  }
  for (const [key, from] of Object.entries(DEPTHS)) {
    const v = first(from, data, num);
    if (v !== null) values[key] = iso(mm.format(v));
  }
  for (const [key, from] of Object.entries(TIMES)) {
    const v = first(from, data, (x) => {
      const s = str(x);
      const ms = s === null ? Number.NaN : Date.parse(s);
      return Number.isNaN(ms) ? null : ms;
    });
    if (v !== null) values[key] = iso(time.format(v));
  }
  for (const key of TEXTS) {
    const v = str(data[key]);
    if (v !== null) values[key] = iso(v);
  }
  for (const key of COUNTS) {
    const v = num(data[key]);
    if (v !== null) values[key] = iso(count.format(v));
  }
  const crop = str(data.crop);
  if (crop !== null) values.crop = iso(catalog.crops[presetKey(crop)] ?? crop.replace(/[-_]+/g, ' '));
  const soil = str(data.soil);
  if (soil !== null) values.soil = iso(catalog.soils[presetKey(soil)] ?? soil.replace(/[-_]+/g, ' '));
  return values;
}

function textOf(template: MessageTemplate, fallback: MessageTemplate, values: Readonly<Record<string, string>>): string {
  const chosen = template.text.find((t) => usable(t, values)) ?? fallback.text.find((t) => usable(t, values)) ?? '{type}';
  return render(chosen, values);
}

/**
 * Render a message for people. `key` is an event type (`irrigation.recommended`) or a message key
 * of the catalog (`chat.irrigation_recorded`); one without a template gets a generic readable
 * line. `data` is the event's `data` (or a reply's values: `field`, `depth_mm`, `at`, …).
 */
export function renderMessage(key: string, data: Record<string, unknown>, options: RenderOptions): RenderedMessage {
  const catalog = catalogOf(options.locale);
  const rtl = catalog.direction === 'rtl';
  const values = valuesOf(data, catalog, options, key);
  const template = Object.hasOwn(catalog.messages, key) ? catalog.messages[key]! : catalog.fallback;
  const mark = (s: string) => (rtl ? `${RLM}${s}` : s);
  const title = usable(template.title, values) ? render(template.title, values) : render(catalog.fallback.title, values);
  const facts = (FACTS[key] ?? DEFAULT_FACTS)
    .filter((k) => values[k] !== undefined && catalog.facts[k] !== undefined)
    .map((k) => ({ key: k, label: catalog.facts[k]!, value: values[k]! }));
  const message: RenderedMessage = {
    key,
    locale: catalog.locale,
    direction: catalog.direction,
    title: mark(title),
    text: mark(textOf(template, catalog.fallback, values)),
    facts,
    tone: TONES[key] ?? 'info',
  };
  const farm = str(data.farm);
  const field = str(data.field);
  const depth = first(DEPTHS.net_depth!, data, num);
  if (template.button && farm !== null && field !== null && depth !== null && usable(template.button, values)) {
    message.action = { label: mark(render(template.button, values)), farm, field, depthMm: Math.round(depth * 10) / 10 };
  }
  return message;
}
