import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHostApp } from '../../../../services/host/http-app.js';
import type { IngestRequest } from '../../../../services/ingestor/ingest.js';
import { silentLogger } from '../../../../services/shared/logger.js';
import { SECRETS, readingsComponent, signed } from '../../../helpers/readings-app.js';

const reading = () => JSON.stringify([{ ts: new Date().toISOString(), values: { soil_moisture: 0.3 } }]);

/** A body that never arrives: a request whose body the server waits for never completes. */
function neverEndingBody() {
  const stream = new PassThrough();
  stream.write('[');
  return stream;
}

describe('readings routes: authentication, replay and media types', () => {
  let app: FastifyInstance;
  let ingest: { requests: IngestRequest[] };

  beforeEach(async () => {
    const { component, requests } = readingsComponent();
    ingest = { requests };
    app = buildHostApp([component], { logger: silentLogger() });
    await app.ready();
  });
  afterEach(() => app.close());

  const post = (headers: Record<string, string>, payload: string | PassThrough, url = '/v1/readings') => app.inject({ method: 'POST', url, headers, payload });

  describe('a replayed signed request is refused whatever Authorization it carries', () => {
    it.each([
      ['Basic', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['an empty Bearer', { authorization: 'Bearer ' }],
      ['a bare word', { authorization: 'x' }],
      ['none', {}],
    ])('with %s → 202, then 409 FH_ERR_AUTH_REPLAYED', async (_name, extra: Record<string, string>) => {
      const body = reading();
      const headers = signed(SECRETS['n-2'], body, { 'fieldhook-device': 'n-2', ...extra });
      expect((await post(headers, body)).statusCode).toBe(202);
      expect(ingest.requests.at(-1)!.onceKey).toBe(headers['webhook-id']);
      const again = await post(headers, body);
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ code: 'FH_ERR_AUTH_REPLAYED' });
    });
  });

  it('refuses a request carrying both a Bearer secret and a signature as ambiguous (400 FH_ERR_AUTH_AMBIGUOUS)', async () => {
    const body = reading();
    const res = await post(signed(SECRETS['n-2'], body, { 'fieldhook-device': 'n-2', authorization: `Bearer ${SECRETS['n-1']}` }), body);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'FH_ERR_AUTH_AMBIGUOUS' });
    expect(ingest.requests).toHaveLength(0);
  });

  it.each([
    ['Bearer <secret> extra', `Bearer ${SECRETS['n-1']} extra`],
    ['Basic', 'Basic dXNlcjpwYXNz'],
    ['an empty Bearer', 'Bearer '],
  ])('refuses an unsigned request with a malformed Authorization (%s) as 401 FH_ERR_AUTH_MALFORMED', async (_name, authorization) => {
    const res = await post({ authorization, 'content-type': 'application/json' }, reading());
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'FH_ERR_AUTH_MALFORMED' });
  });

  it('still answers 401 FH_ERR_AUTH_MISSING without any credential', async () => {
    const res = await post({ 'content-type': 'application/json' }, reading());
    expect(res.json()).toMatchObject({ status: 401, code: 'FH_ERR_AUTH_MISSING' });
  });

  describe('a signed request is refused before its body is read', () => {
    // The body never completes: each of these answers only because the server did not wait for it.
    const unsigned = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' };

    it.each([
      ['without fieldhook-device', 401, 'FH_ERR_AUTH_SIGNED_DEVICE_MISSING', unsigned],
      ['for an unknown device', 401, 'FH_ERR_DEVICE_UNKNOWN', { ...unsigned, 'fieldhook-device': 'ghost' }],
      ['for a disabled device', 403, 'FH_ERR_DEVICE_DISABLED', { ...unsigned, 'fieldhook-device': 'off' }],
      ['with a stale timestamp', 401, 'FH_ERR_AUTH_SIGNATURE_STALE', { ...unsigned, 'fieldhook-device': 'n-1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3_600) }],
      ['with a signature header missing', 401, 'FH_ERR_AUTH_MISSING', { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'fieldhook-device': 'n-1' }],
    ])('%s → %s %s', async (_name, status, code, headers: Record<string, string>) => {
      const res = await post(headers, neverEndingBody());
      expect(res.statusCode).toBe(status);
      expect(res.json()).toMatchObject({ code });
    }, 5_000);

    it('does not take the device from the body any more', async () => {
      const body = JSON.stringify([{ device: 'n-2', ts: new Date().toISOString(), values: { rssi: -70 } }]);
      const res = await post(signed(SECRETS['n-2'], body), body);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_AUTH_SIGNED_DEVICE_MISSING' });
    });

    it('accepts a valid signature once the body is read', async () => {
      const body = reading();
      const res = await post(signed(SECRETS['n-2'], body, { 'fieldhook-device': 'n-2' }), body);
      expect(res.statusCode).toBe(202);
      expect(ingest.requests[0]!.credential.id).toBe('n-2');
    });

    it('refuses a body changed after signing', async () => {
      const body = reading();
      const res = await post(signed(SECRETS['n-2'], body, { 'fieldhook-device': 'n-2' }), body.replace('0.3', '0.4'));
      expect(res.json()).toMatchObject({ status: 401, code: 'FH_ERR_AUTH_SIGNATURE_INVALID' });
    });
  });

  describe('only the documented media types', () => {
    const bearer = { authorization: `Bearer ${SECRETS['n-1']}` };

    it.each([
      ['text/plain', '/v1/readings'],
      ['text/csv', '/v1/readings'],
      ['application/x-www-form-urlencoded', '/v1/readings'],
      ['application/jsonx', '/v1/readings'],
      ['application/senml+json', '/v1/uplinks/ttn'],
      ['text/plain', '/v1/uplinks/chirpstack'],
    ])('%s on %s → 415 FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', async (type, url) => {
      const res = await post({ ...bearer, 'content-type': type }, reading(), url);
      expect(res.statusCode).toBe(415);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE' });
      expect(ingest.requests).toHaveLength(0);
    });

    it('refuses a body without a content type with 415', async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/readings', headers: bearer, payload: Buffer.from(reading()) });
      expect(res.statusCode).toBe(415);
    });

    it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON'])('accepts %s', async (type) => {
      expect((await post({ ...bearer, 'content-type': type }, reading())).statusCode).toBe(202);
    });

    it('accepts application/senml+json on /v1/readings', async () => {
      const pack = JSON.stringify([{ bn: 'n-1:', bt: Date.now() / 1000, n: 'soil_moisture', u: '/', v: 0.3 }]);
      const res = await post({ ...bearer, 'content-type': 'application/senml+json' }, pack);
      expect(res.statusCode).toBe(202);
    });
  });
});
