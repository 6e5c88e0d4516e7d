/**
 * `POST /v1/irrigations` (device, gateway or admin credential, `Idempotency-Key`) and
 * `GET /v1/irrigations` (admin). Devices and gateways record for their own fields; the admin
 * credential for any, and may say it reports through the CLI.
 */
import type { FastifyInstance } from 'fastify';
import { adminOrDeviceBearer, type Authenticator } from '../ingestor/auth.js';
import { Errors } from '../shared/error-catalog.js';
import { refuseInvalidRequest } from '../shared/http-errors.js';
import { ID_RULE } from '../shared/ids.js';
import { unknownFieldWarning, type KnownFields } from '../shared/known-fields.js';
import { code } from '../shared/openapi.js';
import { API_TIME_SCHEMA, ISO_TIMESTAMP_PATTERN, parseIsoTimestamp } from '../shared/timestamps.js';
import { DEFAULT_IRRIGATION_RULES, IRRIGATION_SOURCES, parseIrrigationInput, type IrrigationSource } from './record.js';
import { checkKeyLength, contentKey, type IrrigationService, type Reporter } from './service.js';

export interface IrrigationRoutesOptions {
  service: IrrigationService;
  auth: Authenticator;
  /** The admin bearer token (`ADMIN_TOKEN`); unset: only devices and gateways may record, nobody may list. */
  adminToken: string | undefined;
  /** The service's clock, so a schema refusal is answered as the service would answer it. */
  now: () => number;
  /** Where a record for a field nothing evaluates is told apart, to warn in the answer. */
  fields?: KnownFields;
}

/** Records `GET /v1/irrigations` answers when no `limit` is given. */
const LIST_LIMIT = 1000;
/** Sources an admin credential may name: the others belong to their own ways in. */
const ADMIN_SOURCES: readonly IrrigationSource[] = ['api', 'cli'];
/** `since` of the list: whole epoch milliseconds, or ISO 8601 with a zone (the API time rule). */
const SINCE_EPOCH = /^\d{1,16}$/;
const SINCE_PATTERN = `(?:${SINCE_EPOCH.source})|(?:${ISO_TIMESTAMP_PATTERN})`;

/** Epoch ms of a list's `since`, or a refusal naming it. */
function sinceOf(text: string): number {
  const since = SINCE_EPOCH.test(text) ? Number(text) : parseIsoTimestamp(text);
  if (since === undefined) throw Errors.irrigationInvalid('since must be ISO 8601 with a zone, or epoch milliseconds', { field: 'since' });
  return since;
}

/** Who reports, and the request's key, by the rules the schema states, refused with the service's code. */
function checkReporting(body: unknown, key: unknown): void {
  const { source, who } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (source !== undefined && !(ADMIN_SOURCES as readonly unknown[]).includes(source)) {
    throw Errors.irrigationInvalid(`source must be one of ${ADMIN_SOURCES.join(', ')}`, { field: 'source' });
  }
  if (who !== undefined && !(typeof who === 'string' && who.length >= 1 && who.length <= 128)) throw Errors.irrigationInvalid('who must be 1 to 128 characters', { field: 'who' });
  if (typeof key === 'string') checkKeyLength(key);
}

/** The request parts a device or an admin sends for a record, without who reports it. */
const reported = (body: unknown): unknown => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const { source: _source, who: _who, ...input } = body as Record<string, unknown>;
  return input;
};

const recordSchema = {
  type: 'object',
  required: ['id', 'farm', 'field', 'depth_mm', 'start', 'end', 'source', 'who', 'recorded_at'],
  properties: {
    id: { type: 'string' },
    farm: { type: 'string' },
    field: { type: 'string' },
    depth_mm: { type: 'number', description: 'Net depth applied, mm.' },
    start: { type: 'string', format: 'date-time' },
    end: { type: 'string', format: 'date-time' },
    source: { type: 'string', enum: [...IRRIGATION_SOURCES] },
    who: { type: 'string' },
    recorded_at: { type: 'string', format: 'date-time' },
    warnings: { type: 'array', items: { type: 'string' }, description: 'Only when there is something to say: the field is not configured, so no advice counts this water (the record is kept).' },
  },
} as const;

const AUTH_PROBLEMS = `${code(Errors.authMissing)}, ${code(Errors.authMalformed)}, ${code(Errors.authInvalid)}: no, a malformed or an unknown credential.`;

export async function irrigationRoutes(app: FastifyInstance, opts: IrrigationRoutesOptions): Promise<void> {
  const { service, auth } = opts;
  const caller = adminOrDeviceBearer({ auth, adminToken: opts.adminToken, expected: 'device secret or admin token' });

  app.post<{ Body: Record<string, unknown> }>(
    '/v1/irrigations',
    {
      schema: {
        tags: ['irrigations'],
        summary: 'Record water applied to a field (net depth, start, end).',
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } } },
        // The rules parseIrrigationInput checks, as far as a schema says them; what depends on the
        // server clock (`end` at most 5 minutes ahead, `start` at most 366 days back, 7 days at
        // most between them) only the description can.
        body: {
          type: 'object',
          required: ['farm', 'field', 'depth_mm'],
          additionalProperties: false,
          properties: {
            farm: { type: 'string', pattern: `^${ID_RULE}$` },
            field: { type: 'string', pattern: `^${ID_RULE}$` },
            depth_mm: {
              type: 'number',
              // Kept to 0.01 mm: the least depth is what rounds to 0.01.
              minimum: 0.005,
              maximum: DEFAULT_IRRIGATION_RULES.maxDepthMm,
              description: `Net depth applied, mm, kept to 0.01 mm: above 0 (at least 0.005, recorded as 0.01), at most ${DEFAULT_IRRIGATION_RULES.maxDepthMm}.`,
            },
            start: { ...API_TIME_SCHEMA, description: 'ISO 8601 with a zone, or epoch ms; default `end`; at most 7 days before `end` and 366 days before now.' },
            end: { ...API_TIME_SCHEMA, description: 'ISO 8601 with a zone, or epoch ms; default now; at most 5 minutes ahead of the server clock.' },
            source: { type: 'string', enum: [...ADMIN_SOURCES], description: 'Admin credential only; default `api`.' },
            who: { type: 'string', minLength: 1, maxLength: 128, description: 'Admin credential only: who reports; default `admin`.' },
          },
        },
        response: { 200: recordSchema, 201: recordSchema },
      },
      config: {
        openapi: {
          problems: {
            400: `${code(Errors.irrigationInvalid)}: a value breaks the rules (named in \`field\`).`,
            401: AUTH_PROBLEMS,
            403: `${code(Errors.irrigationForbidden)}, ${code(Errors.deviceDisabled)}, ${code(Errors.authNetworkForbidden)}: this credential may not record for that field.`,
            409: `${code(Errors.irrigationIdempotencyConflict)}: the Idempotency-Key was used for another irrigation.`,
          },
        },
      },
      // A schema refusal answers as parseIrrigationInput would (FH_ERR_IRRIGATION_INVALID naming the field).
      attachValidation: true,
    },
    async (request, reply) => {
      // The credential first: an anonymous caller learns nothing of the body's rules. A schema
      // refusal is then answered as the service answers it (the clock only decides refusals no
      // schema makes: a time too far ahead or back), the reporting fields included.
      const from = await caller(request);
      refuseInvalidRequest(request, () => {
        parseIrrigationInput(reported(request.body), opts.now());
        checkReporting(request.body, request.headers['idempotency-key']);
      });
      const { source, who: named, ...input } = request.body;
      let reporter: Reporter;
      if (from.kind === 'admin') {
        reporter = { source: (source as IrrigationSource | undefined) ?? 'api', who: typeof named === 'string' ? named : 'admin' };
      } else {
        if (source !== undefined || named !== undefined) throw Errors.irrigationInvalid('source and who are set by fieldhook for a device credential', { field: source !== undefined ? 'source' : 'who' });
        reporter = { source: 'api', who: `device:${from.device.id}`, device: from.device };
      }
      const key = request.headers['idempotency-key'];
      // Without a key, the same water sent twice (a retry after a timeout) is one record, as over MQTT.
      const { record, replayed } = await service.record(input, reporter, typeof key === 'string' ? key : contentKey(0, input));
      if (replayed) reply.header('idempotent-replayed', 'true');
      const warning = await unknownFieldWarning(opts.fields, record.farm, record.field, 'this water');
      return reply.code(replayed ? 200 : 201).send(warning ? { ...record, warnings: [warning] } : record);
    },
  );

  app.get<{ Querystring: { farm?: string; field?: string; since?: string; limit?: number } }>(
    '/v1/irrigations',
    {
      schema: {
        tags: ['irrigations'],
        summary: 'The newest `limit` irrigation records whose water ended at or after `since`, oldest first (admin).',
        description:
          '`truncated` is true when older records matched too and were left out: narrow the list with `since`, `farm` or `field`, or raise `limit`.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            farm: { type: 'string' },
            field: { type: 'string' },
            since: { type: 'string', pattern: SINCE_PATTERN, description: 'ISO 8601 with a zone, or epoch ms.' },
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: LIST_LIMIT },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['irrigations', 'truncated'],
            properties: {
              irrigations: { type: 'array', items: recordSchema },
              truncated: { type: 'boolean', description: 'More records matched than `limit`: these are the newest, older ones were left out.' },
            },
          },
        },
      },
      config: { openapi: { problems: { 400: `${code(Errors.irrigationInvalid)}: \`since\` is not a time.`, 401: `${code(Errors.authUnauthorized)}: the admin token is required.` } } },
      attachValidation: true,
    },
    async (request) => {
      await caller(request, { adminOnly: true });
      refuseInvalidRequest(request, () => typeof request.query.since === 'string' && sinceOf(request.query.since));
      const q = request.query;
      const since = q.since !== undefined ? sinceOf(q.since) : undefined;
      const limit = q.limit ?? LIST_LIMIT;
      // One more than asked for, to tell a full list from a cut one; the store answers the newest, oldest first.
      const found = await service.list({
        ...(q.farm !== undefined ? { farm: q.farm } : {}),
        ...(q.field !== undefined ? { field: q.field } : {}),
        ...(since !== undefined ? { since } : {}),
        limit: limit + 1,
      });
      const truncated = found.length > limit;
      return { irrigations: truncated ? found.slice(found.length - limit) : found, truncated };
    },
  );
}
