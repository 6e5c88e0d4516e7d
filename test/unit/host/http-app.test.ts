import { gzipSync } from 'node:zlib';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildHostApp } from '../../../services/host/http-app.js';
import type { Component } from '../../../services/shared/component.js';
import { silentLogger } from '../../../services/shared/logger.js';

function component(name: string, parts: Partial<Component> = {}): Component {
  return { name, start: async () => {}, stop: async () => {}, ...parts };
}

function counterIn(name: string): Registry {
  const registry = new Registry();
  new Counter({ name, help: name, registers: [registry] }).inc(3);
  return registry;
}

describe('host app', () => {
  it('answers /readyz from every component’s checks: 200 when all pass, 503 naming the one that fails or throws', async () => {
    let spoolOk = true;
    const app = buildHostApp(
      [
        component('ingestor', { readiness: [{ name: 'spool', check: async () => ({ ok: spoolOk, detail: { pressure: spoolOk ? 'ok' : 'high' } }) }] }),
        component('dispatcher', { readiness: [{ name: 'dispatcher', check: async () => ({ ok: true }) }] }),
        component('broken', { readiness: [{ name: 'broken', check: async () => Promise.reject(new Error('store closed')) }] }),
      ],
      { logger: silentLogger() },
    );
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'not_ready',
      checks: [
        { name: 'spool', ok: true, detail: { pressure: 'ok' } },
        { name: 'dispatcher', ok: true },
        { name: 'broken', ok: false, detail: { error: 'store closed' } },
      ],
    });
    spoolOk = false;
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json().checks[0]).toEqual({ name: 'spool', ok: false, detail: { pressure: 'high' } });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    await app.close();

    const healthy = buildHostApp([component('dispatcher', { readiness: [{ name: 'dispatcher', check: async () => ({ ok: true }) }] })], { logger: silentLogger() });
    expect((await healthy.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await healthy.close();
  });

  it('serves every component’s metrics and the process’s own on one /metrics', async () => {
    const app = buildHostApp([component('a', { metrics: counterIn('fieldhook_a_total') }), component('b', { metrics: counterIn('fieldhook_b_total') })], {
      logger: silentLogger(),
      registry: counterIn('process_thing_total'),
    });
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toMatch(/^fieldhook_a_total 3$/m);
    expect(body).toMatch(/^fieldhook_b_total 3$/m);
    expect(body).toMatch(/^process_thing_total 3$/m);
    await app.close();
  });

  it('refuses two components that claim the same metric', () => {
    expect(() => buildHostApp([component('a', { metrics: counterIn('fieldhook_x_total') }), component('b', { metrics: counterIn('fieldhook_x_total') })], { logger: silentLogger() })).toThrow(
      /fieldhook_x_total/,
    );
  });

  it('serves the components’ routes with one error handler: problem+json with a stable code', async () => {
    const app = buildHostApp(
      [component('api', { routes: async (scope) => void scope.post('/v1/things', { schema: { body: { type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } } } }, async () => ({ ok: true })) })],
      { logger: silentLogger() },
    );
    const unknownField = await app.inject({ method: 'POST', url: '/v1/things', payload: { a: 'x', b: 1 } });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(unknownField.json().code).toBe('FH_ERR_HTTP_INVALID_REQUEST');
    // A JSON object sent as text/plain is of the wrong media type, not "not an object".
    const asText = await app.inject({ method: 'POST', url: '/v1/things', headers: { 'content-type': 'text/plain' }, payload: '{"a":"x"}' });
    expect(asText.statusCode).toBe(415);
    expect(asText.json().code).toBe('FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    const missing = await app.inject({ method: 'GET', url: '/nowhere' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('FH_ERR_HTTP_NOT_FOUND');
    const doc = (await app.inject({ method: 'GET', url: '/documentation/json' })).json();
    expect(Object.keys(doc.paths)).toContain('/v1/things');
    await app.close();
  });

  it('refuses a compressed body with 415 FH_ERR_HTTP_UNSUPPORTED_ENCODING unless the route inflates that coding', async () => {
    const app = buildHostApp(
      [
        component('api', {
          routes: async (scope) => {
            scope.post('/v1/things', async () => ({ ok: true }));
            // A route that takes text brings its parser, as the line protocol routes do.
            await scope.register(async (text) => {
              text.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
              text.post('/write', { config: { contentEncodings: ['gzip'] } }, async () => ({ ok: true }));
            });
          },
        }),
      ],
      { logger: silentLogger() },
    );
    const gz = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
    const json = await app.inject({ method: 'POST', url: '/v1/things', headers: gz, payload: gzipSync('{"a":"x"}') });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ code: 'FH_ERR_HTTP_UNSUPPORTED_ENCODING' });
    expect((await app.inject({ method: 'POST', url: '/write', headers: { ...gz, 'content-encoding': 'br' }, payload: 'x' })).json()).toMatchObject({ code: 'FH_ERR_HTTP_UNSUPPORTED_ENCODING', accepted: ['identity', 'gzip'] });
    expect((await app.inject({ method: 'POST', url: '/write', headers: { ...gz, 'content-type': 'text/plain' }, payload: gzipSync('m f=1') })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/v1/things', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, payload: '{}' })).statusCode).toBe(200);
    await app.close();
  });

  it('answers anything unexpected a route throws with the catalog\'s FH_ERR_INTERNAL, never its message or stack', async () => {
    const thrown: Record<string, () => unknown> = {
      error: () => new Error('connect ECONNREFUSED postgres://fieldhook:s3cret@db:5432/fieldhook'),
      'error with a status': () => Object.assign(new Error('upstream said: s3cret'), { statusCode: 502 }),
      'not an error': () => 's3cret',
      'plain object': () => ({ message: 's3cret' }),
    };
    const app = buildHostApp(
      [component('api', { routes: async (scope) => void scope.get('/v1/fail/:kind', async (request) => { throw thrown[(request.params as { kind: string }).kind]!(); }) })],
      { logger: silentLogger() },
    );
    for (const kind of Object.keys(thrown)) {
      const res = await app.inject({ method: 'GET', url: `/v1/fail/${encodeURIComponent(kind)}` });
      expect([kind, res.statusCode, res.headers['content-type']]).toEqual([kind, expect.any(Number), expect.stringMatching(/^application\/problem\+json/)]);
      expect(res.statusCode).toBeGreaterThanOrEqual(500);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_INTERNAL', title: 'Internal error' });
      expect(res.body).not.toMatch(/s3cret|ECONNREFUSED|\n\s+at /);
    }
    await app.close();
  });

  describe('bounded request targets', () => {
    const api = () =>
      buildHostApp([component('api', { routes: async (scope) => void scope.get('/v1/things/:id', async () => ({ ok: true })) })], {
        logger: silentLogger(),
        server: { maxUrlLengthBytes: 256 },
      });

    it('answers a path over HTTP_MAX_URL_LENGTH_BYTES with 414 FH_ERR_HTTP_URI_TOO_LONG, without echoing it', async () => {
      const app = api();
      const marker = 'zq'.repeat(5_000);
      for (const url of [`/v1/things/${marker}`, `/nowhere/${marker}`, `/v1/things/1?q=${marker}`]) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode).toBe(414);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(res.json()).toMatchObject({ status: 414, code: 'FH_ERR_HTTP_URI_TOO_LONG' });
        expect(res.body).not.toContain('zqzq');
      }
      expect((await app.inject({ method: 'GET', url: '/v1/things/1' })).statusCode).toBe(200);
      await app.close();
    });

    it('answers a path parameter over Fastify’s limit with 414 problem+json, without echoing it', async () => {
      const app = api();
      const res = await app.inject({ method: 'GET', url: `/v1/things/${'zq'.repeat(60)}` });
      expect(res.statusCode).toBe(414);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_HTTP_URI_TOO_LONG' });
      expect(res.body).not.toContain('zqzq');
      await app.close();
    });

    it('repeats at most the start of an unknown path in the 404', async () => {
      const app = api();
      const res = await app.inject({ method: 'GET', url: `/nowhere/${'zq'.repeat(100)}` });
      expect(res.statusCode).toBe(404);
      expect(res.json().title.length).toBeLessThan(160);
      await app.close();
    });
  });
});
