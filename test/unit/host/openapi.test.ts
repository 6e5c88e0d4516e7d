import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDispatcher, type FieldhookDispatcher } from '../../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../../../services/dispatcher/config.js';
import { createSqliteStore } from '../../../services/dispatcher/store/sqlite-store.js';
import { buildHostApp, OPENAPI_VERSION } from '../../../services/host/http-app.js';
import { buildIngestor, type Ingestor } from '../../../services/ingestor/build-ingestor.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { ID_RULE } from '../../../services/shared/ids.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { testConfig } from '../../helpers/ingest-fixture.js';

type Operation = {
  requestBody?: { required?: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }>; headers?: Record<string, unknown> }>;
  parameters?: { in: string; name: string }[];
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> }> };
};

const ADMIN_TOKEN = 'openapi-unit-admin-token-0123456';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const PROBLEM = 'application/problem+json';

/** `/v1/subscriptions/:id` as OpenAPI writes it. */
const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document of the whole app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-openapi-unit-'));
  let devices: DeviceRepository;
  let ingestor: Ingestor;
  let dispatcher: FieldhookDispatcher;
  let app: FastifyInstance;
  let doc: Document;
  const routes: { method: string; url: string; hidden: boolean }[] = [];

  beforeAll(async () => {
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    ingestor = buildIngestor({
      config: testConfig({ DATA_DIR: dir, SPOOL_IN_WORKER: 'false' }),
      logger: silentLogger(),
      devices,
      influx: { url: 'http://127.0.0.1:9', token: '', org: 'fieldhook', bucket: 'none', timeoutMs: 1_000 },
    });
    dispatcher = buildDispatcher({ config: createDispatchConfig({ ADMIN_TOKEN }), logger: silentLogger(), store: createSqliteStore(':memory:') });
    app = buildHostApp([ingestor, dispatcher], { logger: silentLogger() });
    // The components' routes are added when the app loads its plugins, after this hook.
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url, hidden: route.schema?.hide === true });
    });
    await app.ready();
    doc = (await app.inject({ method: 'GET', url: '/documentation/json' })).json<Document>();
  });

  afterAll(async () => {
    await app.close();
    await dispatcher.stop();
    await ingestor.stop();
    devices.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`is a valid OpenAPI ${OPENAPI_VERSION} document`, async () => {
    expect(doc.openapi).toBe(OPENAPI_VERSION);
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('lists every route the app registers, with every method', () => {
    const visible = routes.filter((r) => !r.hidden && r.method !== 'HEAD');
    expect(visible.map((r) => r.url)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/v1/readings', '/v1/uplinks/chirpstack', '/v1/uplinks/ttn', '/v1/events']));
    const missing = visible.filter((r) => doc.paths[openapiPath(r.url)]?.[r.method.toLowerCase()] === undefined);
    expect(missing).toEqual([]);
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(visible.map((r) => `${r.method} ${openapiPath(r.url)}`).sort());
  });

  it('documents problem responses on every operation: its own 4xx and the host-wide ones, one Problem schema', () => {
    expect(doc.components.schemas.Problem).toMatchObject({ type: 'object', required: ['type', 'title', 'status', 'code'] });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        for (const status of ['400', '404', '414', '431', '500', '503']) {
          expect(operation.responses[status]?.content?.[PROBLEM]?.schema, `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' });
        }
        const problems = Object.entries(operation.responses).filter(([status, r]) => status.startsWith('4') && r.content?.[PROBLEM]);
        expect(problems.length, where).toBeGreaterThanOrEqual(4);
        if (path.startsWith('/v1/subscriptions') || path.startsWith('/v1/deliveries') || path === '/v1/events') {
          expect(operation.responses['401']?.content?.[PROBLEM], where).toBeDefined();
        }
      }
    }
  });

  it('documents the readings routes: JSON and SenML bodies, every status they send', () => {
    const readings = doc.paths['/v1/readings']!.post!;
    expect(Object.keys(readings.requestBody!.content).sort()).toEqual(['application/json', 'application/senml+json']);
    for (const status of ['202', '400', '401', '403', '409', '413', '415', '429', '503']) expect(readings.responses[status], status).toBeDefined();
    expect(readings.responses['429']!.headers).toHaveProperty('Retry-After');
    for (const uplink of ['/v1/uplinks/chirpstack', '/v1/uplinks/ttn']) {
      expect(doc.paths[uplink]!.post!.requestBody!.content['application/json']).toBeDefined();
      expect(doc.paths[uplink]!.post!.responses['202']).toBeDefined();
    }
    expect(doc.paths['/v1/uplinks/chirpstack']!.post!.responses['204']!.content).toBeUndefined();
    expect(doc.paths['/metrics']!.get!.responses['200']!.content).toHaveProperty(['text/plain']);
    expect(Object.keys(doc.paths['/readyz']!.get!.responses['503']!.content!).sort()).toEqual(['application/json', PROBLEM]);
  });

  it('documents request schemas as the handlers take them', () => {
    const input = doc.paths['/v1/subscriptions']!.post!.requestBody!.content['application/json']!.schema as { properties: Record<string, Record<string, unknown>> };
    // 3.1: JSON Schema's numeric exclusiveMinimum, as the route validates it.
    expect(input.properties.rate_limit_per_second).toMatchObject({ type: ['number', 'null'], exclusiveMinimum: 0 });
    expect(input.properties.farms).toMatchObject({ items: { pattern: `^${ID_RULE}$` } });
    const event = (doc.paths['/v1/events']!.post!.requestBody!.content['application/json']!.schema as { oneOf: { required?: string[] }[] }).oneOf[0]!;
    expect(event.required).toEqual(['type', 'data']);
    expect(doc.paths['/v1/subscriptions/{id}/rotate-secret']!.post!.requestBody!.required).toBe(false);
    expect(doc.paths['/v1/subscriptions/{id}']!.delete!.responses['204']!.content).toBeUndefined();
  });

  it('answers a method a known path does not take with 405 and Allow, and an unknown path with 404', async () => {
    const trace = await app.inject({ method: 'TRACE', url: '/v1/readings' });
    expect(trace.statusCode).toBe(405);
    expect(trace.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(trace.headers.allow).toBe('POST');
    expect(trace.json()).toMatchObject({ code: 'FH_ERR_HTTP_METHOD_NOT_ALLOWED', allowed: ['POST'] });
    const put = await app.inject({ method: 'PUT', url: '/v1/subscriptions/sub_1', headers: admin });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
    expect((await app.inject({ method: 'TRACE', url: '/v1/nowhere' })).json().code).toBe('FH_ERR_HTTP_NOT_FOUND');
  });

  it('takes JSON bodies as sent: a null is not a boolean, an empty secret is not an absent one', async () => {
    const create = await app.inject({ method: 'POST', url: '/v1/subscriptions', headers: admin, payload: { url: 'https://hooks.example.com/a', enabled: null } });
    expect(create.statusCode).toBe(400);
    expect(create.json().code).toBe('FH_ERR_HTTP_INVALID_REQUEST');
    const empty = await app.inject({ method: 'POST', url: '/v1/subscriptions', headers: admin, payload: { url: 'https://hooks.example.com/a', secret: '' } });
    expect(empty.json().code).toBe('FH_ERR_SUBSCRIPTION_INVALID_SECRET');
    const starred = await app.inject({ method: 'POST', url: '/v1/subscriptions', headers: admin, payload: { url: 'https://hooks.example*/a' } });
    expect(starred.json().code).toBe('FH_ERR_SUBSCRIPTION_INVALID_URL');
  });

  it('refuses a rotation to a secret the subscription signs with now (409, not a 500)', async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const created = await app.inject({ method: 'POST', url: '/v1/subscriptions', headers: admin, payload: { url: 'https://hooks.example.com/a', secret } });
    expect(created.statusCode).toBe(201);
    const again = await app.inject({ method: 'POST', url: `/v1/subscriptions/${created.json().id}/rotate-secret`, headers: admin, payload: { secret } });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('FH_ERR_SUBSCRIPTION_SECRET_IN_USE');
  });
});
