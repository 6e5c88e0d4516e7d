/**
 * `POST /v1/forecasts`: a forecast for a farm or one of its fields, sent by a gateway (for its own
 * farm, `Authorization: Bearer <gateway secret>`) or with the admin token (any farm).
 */
import type { FastifyInstance } from 'fastify';
import { adminOrDeviceBearer, type Authenticator } from '../ingestor/auth.js';
import type { Clock } from '../shared/clock.js';
import { Errors } from '../shared/error-catalog.js';
import { refuseInvalidRequest } from '../shared/http-errors.js';
import { ID_RULE, NO_CONTROL_CHARACTER_PATTERN } from '../shared/ids.js';
import { unknownFieldWarning, type KnownFields } from '../shared/known-fields.js';
import { code } from '../shared/openapi.js';
import { API_TIME_SCHEMA } from '../shared/timestamps.js';
import { FORECAST_HOUR_BOUNDS, MAX_FORECAST_HOURS, parseForecast } from './forecast.js';
import type { ForecastRepository } from './store.js';

export interface ForecastRoutesOptions {
  store: ForecastRepository;
  auth: Authenticator;
  /** The admin bearer token (`ADMIN_TOKEN`); unset: only gateways may send. */
  adminToken: string | undefined;
  clock: Clock;
  /** Where a forecast for a farm or field nothing evaluates is told apart, to warn in the answer. */
  fields?: KnownFields;
}

const HOUR_MS = 3_600_000;
const UNITS: Readonly<Record<string, string>> = {
  rain_mm: 'Rain in the hour, mm.',
  rain_probability: 'Probability of that rain; absent: certain.',
  et0_mm: 'Reference ET0 of the hour, mm.',
  air_temperature: 'degC',
  relative_humidity: '%',
  wind_speed: 'm/s',
  solar_radiation: 'W/m2',
};

/** A forecast hour as parseForecast takes it: the bounds are its own, what depends on the clock only described. */
const hourSchema = {
  type: 'object',
  required: ['ts'],
  additionalProperties: false,
  properties: {
    ts: {
      oneOf: [API_TIME_SCHEMA.oneOf[0], { ...API_TIME_SCHEMA.oneOf[1], multipleOf: HOUR_MS }],
      description: 'End of the hour described (on the hour), ISO 8601 with a zone or epoch ms; at most 16 days ahead of the server clock.',
    },
    ...Object.fromEntries(
      Object.entries(FORECAST_HOUR_BOUNDS).map(([name, [min, max]]) => [name, { type: ['number', 'null'], minimum: min, maximum: max, description: `${UNITS[name]}; null: not forecast (as over MQTT)` }]),
    ),
  },
} as const;

export async function forecastRoutes(app: FastifyInstance, opts: ForecastRoutesOptions): Promise<void> {
  const caller = adminOrDeviceBearer({ auth: opts.auth, adminToken: opts.adminToken, expected: 'gateway secret or admin token' });
  app.post<{ Body: Record<string, unknown> }>(
    '/v1/forecasts',
    {
      schema: {
        tags: ['forecasts'],
        summary: 'Store a weather forecast for a farm (every field) or one field; advice accounts for the rain it expects.',
        body: {
          type: 'object',
          required: ['farm', 'hours'],
          additionalProperties: false,
          properties: {
            farm: { type: 'string', pattern: `^${ID_RULE}$` },
            field: { type: 'string', pattern: `^${ID_RULE}$`, description: 'Absent: the forecast is for every field of the farm.' },
            issued_at: { ...API_TIME_SCHEMA, description: 'When the source issued it; a newer issue replaces an older one hour by hour. Default now; at most 5 minutes ahead of the server clock.' },
            source: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              pattern: NO_CONTROL_CHARACTER_PATTERN,
              description: 'Who made it; default `api`. A gateway\'s forecast is always the gateway\'s (a different `source` is refused).',
            },
            hours: {
              type: 'array',
              items: hourSchema,
              minItems: 1,
              maxItems: MAX_FORECAST_HOURS,
              description: 'At most 16 days of hours, each hour once, none ending more than 16 days ahead of the server clock.',
            },
          },
        },
        response: { 201: { type: 'object', required: ['farm', 'hours', 'stored'], properties: { farm: { type: 'string' }, field: { type: 'string' }, hours: { type: 'integer' }, stored: { type: 'integer', description: 'Hours stored (an older issue does not replace a newer one).' }, warnings: { type: 'array', items: { type: 'string' }, description: 'Only when there is something to say: no field of the farm, or not the field, is configured, so no advice reads this forecast (it is kept).' } } } },
      },
      config: {
        openapi: {
          problems: {
            400: `${code(Errors.forecastInvalid)}: a value breaks the rules (named in \`field\`); ${code(Errors.forecastBeyondHorizon)}: an hour ends more than 16 days ahead (named in \`field\`).`,
            401: `${code(Errors.authMissing)}, ${code(Errors.authMalformed)}, ${code(Errors.authInvalid)}: no, a malformed or an unknown credential.`,
            403: `${code(Errors.forecastForbidden)}, ${code(Errors.authNetworkForbidden)}: this credential may not send forecasts for that farm.`,
          },
        },
      },
      // A schema refusal answers as parseForecast would (FH_ERR_FORECAST_INVALID naming the field).
      attachValidation: true,
    },
    async (request, reply) => {
      // The credential first: an anonymous caller learns nothing of the body's rules.
      const from = await caller(request);
      refuseInvalidRequest(request, () => parseForecast(request.body, opts.clock.now()));
      let gateway: string | undefined;
      if (from.kind === 'device') {
        const { device } = from;
        // A forecast is about a farm's weather: a gateway speaks for its farm, a sensor node for none.
        if (device.kind !== 'gateway') throw Errors.forecastForbidden('Only gateways (and the admin token) send forecasts');
        if (device.farm !== request.body.farm) throw Errors.forecastForbidden(`Gateway ${device.id} sends forecasts for farm ${device.farm} only`);
        gateway = device.id;
      }
      const forecast = parseForecast(request.body, opts.clock.now(), gateway === undefined ? { source: 'api' } : { gateway });
      const stored = await opts.store.save(forecast);
      const warning = await unknownFieldWarning(opts.fields, forecast.farm, forecast.field, 'this forecast');
      return reply.code(201).send({ farm: forecast.farm, ...(forecast.field ? { field: forecast.field } : {}), hours: forecast.hours.length, stored, ...(warning ? { warnings: [warning] } : {}) });
    },
  );
}
