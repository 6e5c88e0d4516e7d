/**
 * `POST /v1/forecasts`: a forecast for a farm or one of its fields, sent by a gateway (for its own
 * farm, `Authorization: Bearer <gateway secret>`) or with the admin token (any farm).
 */
import type { FastifyInstance } from 'fastify';
import { adminOrDeviceBearer, type Authenticator } from '../ingestor/auth.js';
import type { Clock } from '../shared/clock.js';
import { Errors } from '../shared/error-catalog.js';
import { code } from '../shared/openapi.js';
import { parseForecast } from './forecast.js';
import type { ForecastRepository } from './store.js';

export interface ForecastRoutesOptions {
  store: ForecastRepository;
  auth: Authenticator;
  /** The admin bearer token (`ADMIN_TOKEN`); unset: only gateways may send. */
  adminToken: string | undefined;
  clock: Clock;
}


const hourSchema = {
  type: 'object',
  required: ['ts'],
  properties: {
    ts: { type: ['string', 'number'], description: 'End of the hour described (on the hour), ISO 8601 or epoch ms.' },
    rain_mm: { type: 'number', description: 'Rain in the hour, mm (0–500).' },
    rain_probability: { type: 'number', description: 'Probability of that rain, 0–1; absent: certain.' },
    et0_mm: { type: 'number', description: 'Reference ET0 of the hour, mm (0–5).' },
    air_temperature: { type: 'number', description: 'degC' },
    relative_humidity: { type: 'number', description: '%' },
    wind_speed: { type: 'number', description: 'm/s' },
    solar_radiation: { type: 'number', description: 'W/m2' },
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
          properties: {
            farm: { type: 'string' },
            field: { type: 'string', description: 'Absent: the forecast is for every field of the farm.' },
            issued_at: { type: ['string', 'number'], description: 'When the source issued it; a newer issue replaces an older one hour by hour. Default now; at most 5 minutes ahead of the server clock.' },
            source: { type: 'string', description: 'Who made it; default `api`. A gateway\'s forecast is always the gateway\'s (a different `source` is refused).' },
            hours: { type: 'array', items: hourSchema, description: 'At most 16 days of hours, none ending more than 16 days ahead of the server clock.' },
          },
        },
        response: { 201: { type: 'object', required: ['farm', 'hours', 'stored'], properties: { farm: { type: 'string' }, field: { type: 'string' }, hours: { type: 'integer' }, stored: { type: 'integer', description: 'Hours stored (an older issue does not replace a newer one).' } } } },
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
    },
    async (request, reply) => {
      const from = await caller(request);
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
      return reply.code(201).send({ farm: forecast.farm, ...(forecast.field ? { field: forecast.field } : {}), hours: forecast.hours.length, stored });
    },
  );
}
