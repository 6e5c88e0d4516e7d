import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../shared/error-catalog.js';
import { code } from '../../shared/openapi.js';
import type { DispatchService } from '../dispatch-service.js';
import { presentSubscription } from './present.js';
import type { FormatName } from '../formats/format.js';
import { MAX_RECIPIENTS } from '../formats/email.js';
import {
  adminDocs,
  documentedSubscriptionBody,
  idParams,
  MAILTO_RE,
  SECRET_PATTERN,
  security,
  SUBSCRIPTION_FIELDS,
  SUBSCRIPTION_NOT_FOUND,
  subscriptionInputProps,
  URL_RE,
} from './schemas.js';

interface SubscriptionBody {
  url?: string;
  description?: string;
  events?: string[];
  farms?: string[];
  fields?: string[];
  enabled?: boolean;
  rate_limit_per_second?: number | null;
  secret?: string;
  format?: FormatName;
  locale?: string;
  timezone?: string;
  settings?: Record<string, unknown>;
}

const ref = { $ref: 'Subscription#' };

/** The URL shapes the document promises (`URL_PATTERN`, `mailto:`); the service then applies its SSRF policy. */
function assertDocumentedUrl(url: string | undefined): void {
  if (url !== undefined && !URL_RE.test(url) && !MAILTO_RE.test(url)) {
    if (/^mailto:/i.test(url)) {
      throw Errors.subscriptionInvalidUrl(`An email subscription URL is mailto: with 1 to ${MAX_RECIPIENTS} addresses separated by commas (${url.slice(7).split(',').length} given, or one is not an address)`, { field: 'url' });
    }
    throw Errors.subscriptionInvalidUrl('Send an http(s) URL with a host name (an internationalised one in its ASCII xn-- form) or an IP address, no credentials (or mailto: addresses for email)', { field: 'url' });
  }
}

/**
 * Before the schema: a field the API does not have is refused by name, so that a misspelled
 * `format` (or `event` for `events`) never quietly means the default.
 */
async function refuseUnknownFields(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const unknown = Object.keys(body).find((k) => !SUBSCRIPTION_FIELDS.has(k) || (k === 'secret' && request.method === 'PATCH'));
  if (unknown !== undefined) throw Errors.subscriptionUnknownField(`Subscriptions have no field "${unknown.slice(0, 64)}"`, { field: unknown.slice(0, 64) });
}

/** The delivery fields of a body, in the service's names. */
function deliveryOf(b: SubscriptionBody) {
  return {
    ...(b.format !== undefined ? { format: b.format } : {}),
    ...(b.locale !== undefined ? { locale: b.locale } : {}),
    ...(b.timezone !== undefined ? { timeZone: b.timezone } : {}),
    ...(b.settings !== undefined ? { settings: b.settings } : {}),
  };
}
const tags = ['subscriptions'];
const json = (schema: Record<string, unknown>) => ({ 'application/json': { schema } });
/** What the service refuses of an input the route schema lets through. */
const INPUT_PROBLEMS = {
  400:
    `${code(Errors.subscriptionInvalidUrl)}, ${code(Errors.webhookSsrfBlocked)}, ${code(Errors.subscriptionInvalidFilter)}, ${code(Errors.subscriptionInvalidSecret)}, ` +
    `${code(Errors.subscriptionUnknownField)}, ${code(Errors.subscriptionInvalidSettings)}, ${code(Errors.subscriptionUnknownLocale)}, ${code(Errors.subscriptionInvalidTimezone)}, ${code(Errors.subscriptionFormatUnavailable)}: ` +
    'the service refused the URL, a filter, the secret, a field it does not know, the format\'s settings, the locale or the time zone (`field` names it).',
} as const;

/** `/v1/subscriptions`: create, list, show, update, delete, rotate-secret, test, recover. */
export async function subscriptionRoutes(app: FastifyInstance, opts: { service: DispatchService; formats?: readonly FormatName[] }): Promise<void> {
  const { service, formats } = opts;

  app.post<{ Body: SubscriptionBody }>(
    '/v1/subscriptions',
    {
      schema: {
        tags,
        security,
        summary: 'Create a subscription; the response carries its secret, shown only this once.',
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: { ...subscriptionInputProps, secret: { type: 'string', description: '`whsec_…`; generated when absent.' } },
        },
        response: { 201: ref },
      },
      preValidation: refuseUnknownFields,
      config: adminDocs(INPUT_PROBLEMS, { body: json(documentedSubscriptionBody(false, formats)) }),
    },
    async (request, reply) => {
      const b = request.body;
      assertDocumentedUrl(b.url);
      const { subscription, secret } = await service.createSubscription({
        url: b.url!,
        ...(b.events ? { events: b.events } : {}),
        ...(b.farms ? { farms: b.farms } : {}),
        ...(b.fields ? { fields: b.fields } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
        ...(b.rate_limit_per_second !== undefined ? { rateLimitPerSecond: b.rate_limit_per_second } : {}),
        // An empty secret is a wrong one, not a missing one: it is refused, never replaced.
        ...(b.secret !== undefined ? { secret: b.secret } : {}),
        ...deliveryOf(b),
      });
      return reply.code(201).send({ ...presentSubscription(subscription), secret });
    },
  );

  app.get(
    '/v1/subscriptions',
    {
      schema: {
        tags,
        security,
        summary: 'List subscriptions.',
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: ref } } } },
      },
      config: adminDocs(),
    },
    async () => ({ data: (await service.listSubscriptions()).map(presentSubscription) }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/subscriptions/:id',
    { schema: { tags, security, summary: 'Show one subscription.', params: idParams, response: { 200: ref } }, config: adminDocs(SUBSCRIPTION_NOT_FOUND) },
    async (request) => presentSubscription(await service.getSubscription(request.params.id)),
  );

  app.patch<{ Params: { id: string }; Body: SubscriptionBody }>(
    '/v1/subscriptions/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Update a subscription; `enabled: true` re-enables it and delivers its backlog.',
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: subscriptionInputProps },
        response: { 200: ref },
      },
      preValidation: refuseUnknownFields,
      config: adminDocs(
        { ...INPUT_PROBLEMS, ...SUBSCRIPTION_NOT_FOUND },
        { body: json(documentedSubscriptionBody(true, formats)) },
      ),
    },
    async (request) => {
      const b = request.body;
      assertDocumentedUrl(b.url);
      // What a change means must not depend on what the subscription was: settings, and a mailto:
      // URL, say which format they are for.
      if (b.format === undefined && (b.settings !== undefined || (b.url !== undefined && MAILTO_RE.test(b.url)))) {
        throw Errors.subscriptionInvalidSettings('Send `format` with `settings` or a mailto: URL', { field: 'format' });
      }
      const updated = await service.updateSubscription(request.params.id, {
        ...(b.url !== undefined ? { url: b.url } : {}),
        ...(b.events !== undefined ? { events: b.events } : {}),
        ...(b.farms !== undefined ? { farms: b.farms } : {}),
        ...(b.fields !== undefined ? { fields: b.fields } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
        ...(b.rate_limit_per_second !== undefined ? { rateLimitPerSecond: b.rate_limit_per_second } : {}),
        ...deliveryOf(b),
      });
      return presentSubscription(updated);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/subscriptions/:id',
    {
      schema: { tags, security, summary: 'Delete a subscription, its backlog and its delivery log.', params: idParams },
      config: adminDocs(SUBSCRIPTION_NOT_FOUND, { responses: { 204: { description: 'Deleted.' } } }),
    },
    async (request, reply) => {
      await service.removeSubscription(request.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string }; Body: { secret?: string } | undefined }>(
    '/v1/subscriptions/:id/rotate-secret',
    {
      schema: {
        tags,
        security,
        summary: 'Start signing with a new secret; the previous ones keep signing during the overlap.',
        params: idParams,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { secret: { type: 'string' } } },
        response: {
          200: {
            type: 'object',
            properties: { secret: { type: 'string' }, previous_secrets_expire_at: { type: 'string', format: 'date-time' } },
          },
        },
      },
      config: adminDocs(
        {
          400: `${code(Errors.subscriptionInvalidSecret)}: the secret is not \`whsec_\` and 24 to 64 base64-encoded bytes.`,
          409: `${code(Errors.subscriptionSecretInUse)}: the subscription signs with this secret already.`,
          ...SUBSCRIPTION_NOT_FOUND,
        },
        { bodyOptional: true, body: json({ type: ['object', 'null'], additionalProperties: false, properties: { secret: { type: 'string', pattern: SECRET_PATTERN } } }) },
      ),
    },
    async (request) => {
      const r = await service.rotateSecret(request.params.id, request.body?.secret);
      return { secret: r.secret, previous_secrets_expire_at: new Date(r.previousSecretsExpireAt).toISOString() };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/subscriptions/:id/test',
    {
      schema: {
        tags,
        security,
        summary: 'Send a `webhook.test` event to this subscription through the normal delivery path.',
        params: idParams,
        response: { 202: { type: 'object', properties: { event_id: { type: 'string' }, delivery_id: { type: 'string' } } } },
      },
      config: adminDocs(SUBSCRIPTION_NOT_FOUND),
    },
    async (request, reply) => {
      const r = await service.sendTest(request.params.id);
      return reply.code(202).send({ event_id: r.eventId, delivery_id: r.deliveryId });
    },
  );

  app.post<{ Params: { id: string }; Querystring: { since: string } }>(
    '/v1/subscriptions/:id/recover',
    {
      schema: {
        tags,
        security,
        summary: 'Re-send every failed or aborted delivery of this subscription created since a time.',
        params: idParams,
        querystring: { type: 'object', required: ['since'], properties: { since: { type: 'string', format: 'date-time' } } },
        response: { 202: { type: 'object', properties: { recovered: { type: 'integer' } } } },
      },
      config: adminDocs(SUBSCRIPTION_NOT_FOUND),
    },
    async (request, reply) => {
      const since = Date.parse(request.query.since);
      if (Number.isNaN(since)) throw Errors.httpInvalidRequest('`since` must be an ISO 8601 time');
      return reply.code(202).send({ recovered: await service.recover(request.params.id, since) });
    },
  );
}
