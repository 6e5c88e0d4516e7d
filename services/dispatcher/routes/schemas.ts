// Brings the `tags`/`summary`/`security` additions to FastifySchema into scope.
import type {} from '@fastify/swagger';
import { ID_RULE } from '../../shared/ids.js';
import { Errors } from '../../shared/error-catalog.js';
import { code, type RouteDocumentation } from '../../shared/openapi.js';
import { MAILTO_PATTERN } from '../formats/email.js';
import { DEFAULT_FORMAT, FORMAT_NAMES, type FormatName } from '../formats/format-names.js';
import { TIME_ZONES } from '../formats/subscription-settings.js';
import { LOCALES } from '../messages/catalog.js';

/** JSON schemas of the dispatcher API; they drive validation and the OpenAPI document. */

const stringList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 256 } as const;
/** Farms and fields are ids (services/shared/ids.ts): a filter naming anything else matches nothing. */
const idList = { type: 'array', items: { type: 'string', pattern: `^${ID_RULE}$` }, maxItems: 256 } as const;
const epochOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

export const subscriptionSchema = {
  $id: 'Subscription',
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    events: stringList,
    farms: stringList,
    fields: stringList,
    enabled: { type: 'boolean' },
    disabled_reason: { type: ['string', 'null'], description: '`gone` (410), `failing` (continuous failures) or `manual`.' },
    disabled_at: epochOrNull,
    rate_limit_per_second: { type: ['number', 'null'] },
    format: { type: 'string', enum: [...FORMAT_NAMES] },
    locale: { type: 'string' },
    timezone: { type: 'string' },
    settings: { type: 'object', additionalProperties: true },
    failing_since: epochOrNull,
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    secret: { type: 'string', description: 'Only in the response that created it.' },
  },
} as const;

export const subscriptionInputProps = {
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  description: { type: 'string', maxLength: 1024 },
  events: { ...stringList, minItems: 1, description: 'Event types; `*` = all pipeline events; `irrigation.*` = a family.' },
  farms: { ...idList, description: 'Only events of these farms; empty = all farms.' },
  fields: { ...idList, description: 'Only events of these fields; empty = all fields.' },
  enabled: { type: 'boolean' },
  rate_limit_per_second: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 10000 },
  format: { type: 'string', enum: [...FORMAT_NAMES], description: `How events are delivered; default \`${DEFAULT_FORMAT}\`.` },
  locale: { type: 'string', minLength: 1, maxLength: 35, description: 'Language of the messages for people; default `en`.' },
  timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone of the times in messages; default `UTC`.' },
  settings: { type: 'object', description: "The format's own settings: `telegram` takes `chat_id` (required) and `message_thread_id`; other formats none." },
} as const;

/** The fields a subscription body may have; any other is refused by name (`FH_ERR_SUBSCRIPTION_UNKNOWN_FIELD`). */
export const SUBSCRIPTION_FIELDS: ReadonlySet<string> = new Set([...Object.keys(subscriptionInputProps), 'secret']);

export const deliverySchema = {
  $id: 'Delivery',
  type: 'object',
  properties: {
    id: { type: 'string' },
    event_id: { type: 'string' },
    event_type: { type: 'string' },
    subscription_id: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'succeeded', 'failed', 'aborted', 'expired', 'superseded'] },
    attempts: { type: 'integer' },
    next_attempt_at: epochOrNull,
    first_attempt_at: epochOrNull,
    last_attempt_at: epochOrNull,
    last_status_code: { type: ['integer', 'null'] },
    last_error: { type: ['string', 'null'] },
    collapse_key: { type: ['string', 'null'] },
    valid_until: epochOrNull,
    created_at: { type: 'string', format: 'date-time' },
    finished_at: epochOrNull,
    attempt_log: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' },
          started_at: { type: 'string', format: 'date-time' },
          status_code: { type: ['integer', 'null'] },
          latency_ms: { type: 'number' },
          response_snippet: { type: ['string', 'null'] },
          error: { type: ['string', 'null'] },
          outcome: { type: 'string' },
        },
      },
    },
  },
} as const;

export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

export const security = [{ bearerAuth: [] }];

/** An event type filter (`matching.ts` `isValidTypePattern`): `*`, a type, or a family `irrigation.*`. */
export const EVENT_FILTER_PATTERN = '^(\\*|[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*(\\.\\*|\\.[a-z0-9_]+))$';
/** A webhook secret (`signer.ts` `assertValidSecret`): `whsec_` and 24 to 64 base64-encoded bytes. */
export const SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]{32,86}={0,2}$';
/**
 * A webhook URL: http(s), no credentials, a host that is a name whose last label starts with a
 * letter, an IPv4 address (dotted, or one decimal number) or a bracketed IPv6 one (IPv4-mapped
 * too), an optional port (1 to 65535), then printable ASCII.
 * The route refuses any other (`FH_ERR_SUBSCRIPTION_INVALID_URL`), so the document and the API
 * agree; the SSRF policy (address ranges, the allow-list) is the service's to apply on top.
 */
const HOST_NAME = '([A-Za-z0-9_-]+\\.)*[A-Za-z][A-Za-z0-9_-]*';
const IPV4 = '((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV6 = '\\[(::[Ff][Ff][Ff][Ff]:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:))\\]';
/** 1 to 65535, leading zeros allowed (`:0080` is port 80); port 0 is no port a delivery can reach. */
const PORT = '0*(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
/** An IPv4 address as one decimal number, 0 to 4294967295 (`http://2130706433/` is 127.0.0.1). */
const IPV4_NUMBER =
  '(429496729[0-5]|42949672[0-8][0-9]|4294967[01][0-9]{2}|429496[0-6][0-9]{3}|42949[0-5][0-9]{4}|4294[0-8][0-9]{5}|429[0-3][0-9]{6}|42[0-8][0-9]{7}|4[01][0-9]{8}|[1-3][0-9]{9}|[1-9][0-9]{0,8}|0)';
export const URL_PATTERN = `^[Hh][Tt][Tt][Pp][Ss]?://(${HOST_NAME}|${IPV4}|${IPV4_NUMBER}|${IPV6})(:${PORT})?([/?#][!-~]*)?$`;
export const URL_RE = new RegExp(URL_PATTERN);
export const MAILTO_RE = new RegExp(MAILTO_PATTERN);

const TELEGRAM_CHAT_ID = {
  oneOf: [
    { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
    { type: 'string', pattern: '^(-?[0-9]{1,19}|@[A-Za-z][A-Za-z0-9_]{3,31})$' },
  ],
  description: 'The chat: its id (negative for groups) or a public channel\'s `@username`.',
};

/** Any of the time zones the API takes, as one pattern (an enum this long slows generators down). */
const TIME_ZONE_PATTERN = `^(${TIME_ZONES.map((z) => z.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;

/**
 * Per format, what makes a body deliverable: the kind of URL and the settings. The document says
 * it with `oneOf`, so that a body valid by the document is one the API accepts. In a create, a
 * body without `format` is a Standard Webhooks one. In an update, `settings` and a `mailto:` URL
 * come with the `format` they belong to, so that whether a change fits never depends on what the
 * subscription was before.
 */
function formatVariants(formats: readonly FormatName[], update: boolean): Record<string, unknown>[] {
  const httpUrl = { type: 'string', pattern: URL_PATTERN };
  const noSettings = { type: 'object', maxProperties: 0 };
  const plain = formats.filter((f) => f !== 'telegram' && f !== 'email');
  const variants: Record<string, unknown>[] = [];
  if (update) variants.push({ properties: { format: false, settings: false, url: httpUrl } });
  if (plain.length > 0) variants.push({ ...(update ? { required: ['format'] } : {}), properties: { format: { enum: plain }, url: httpUrl, settings: noSettings } });
  if (formats.includes('telegram')) {
    variants.push({
      required: ['format', 'settings'],
      properties: {
        format: { const: 'telegram' },
        url: httpUrl,
        settings: {
          type: 'object',
          required: ['chat_id'],
          additionalProperties: false,
          properties: { chat_id: TELEGRAM_CHAT_ID, message_thread_id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
        },
      },
    });
  }
  if (formats.includes('email')) {
    variants.push({ required: ['format', ...(update ? ['url'] : [])], properties: { format: { const: 'email' }, url: { type: 'string', pattern: MAILTO_PATTERN }, settings: noSettings } });
  }
  return variants;
}

/**
 * The subscription input as the service accepts it: the route schema plus what the service checks
 * itself (filters, secret, URL), so the document promises no more than the API keeps. Fastify keeps
 * validating with the route schema, and the service answers its own codes for the rest.
 */
export function documentedSubscriptionInput(withSecret: boolean, formats: readonly FormatName[] = FORMAT_NAMES): Record<string, unknown> {
  return {
    ...subscriptionInputProps,
    url: {
      ...subscriptionInputProps.url,
      description: `Where to deliver: an absolute http(s) URL without credentials (for \`ntfy\` the topic's URL), or for \`email\` \`mailto:\` with the recipients (the format's variant gives the pattern). Addresses outside the public ranges are refused (${code(Errors.webhookSsrfBlocked)}) unless allow-listed.`,
    },
    events: { ...subscriptionInputProps.events, items: { type: 'string', pattern: EVENT_FILTER_PATTERN, maxLength: 256 } },
    format: { ...subscriptionInputProps.format, enum: [...formats] },
    locale: { type: 'string', enum: [...LOCALES], description: subscriptionInputProps.locale.description },
    timezone: { type: 'string', pattern: TIME_ZONE_PATTERN, description: `${subscriptionInputProps.timezone.description} Exactly as IANA spells it: \`UTC\`, \`Asia/Jerusalem\`, \`America/Sao_Paulo\`.` },
    ...(withSecret ? { secret: { type: 'string', pattern: SECRET_PATTERN, description: '`whsec_…`; generated when absent. Only Standard Webhooks deliveries are signed.' } } : {}),
  };
}

/** The body of `POST /v1/subscriptions` (`update`: of `PATCH`) as documented: the fields, and per format what it needs. */
export function documentedSubscriptionBody(update: boolean, formats: readonly FormatName[] = FORMAT_NAMES): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    ...(update ? { minProperties: 1 } : { required: ['url'] }),
    properties: documentedSubscriptionInput(!update, formats),
    oneOf: formatVariants(formats, update),
  };
}

/** Problems of every admin route. */
export const ADMIN_PROBLEMS = { 401: `${code(Errors.authUnauthorized)}: no valid admin bearer token.` } as const;

/** Documentation of an admin route: its problems, and whatever else the document needs. */
export function adminDocs(problems: Record<number, string> = {}, more: Omit<RouteDocumentation, 'problems'> = {}): { openapi: RouteDocumentation } {
  return { openapi: { ...more, problems: { ...ADMIN_PROBLEMS, ...problems } } };
}

export const SUBSCRIPTION_NOT_FOUND = { 404: `${code(Errors.subscriptionNotFound)}: no subscription has this id.` } as const;
export const DELIVERY_NOT_FOUND = { 404: `${code(Errors.webhookDeliveryNotFound)}: no delivery has this id.` } as const;
