import { afterEach, describe, expect, it } from 'vitest';
import { auth, createSubscription, makeDispatcher, startReceiver, verify, type TestDispatcher } from './helpers.js';
import { eventually } from '../../helpers/eventually.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function setup(overrides = {}): TestDispatcher {
  const t = makeDispatcher(overrides);
  cleanups.push(() => t.cleanup());
  return t;
}

describe('subscriptions API', () => {
  it('requires the admin bearer token', async () => {
    const { dispatcher: d } = setup();
    for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: 'Basic abc' }]) {
      const res = await d.app.inject({ method: 'GET', url: '/v1/subscriptions', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'FH_ERR_AUTH_UNAUTHORIZED' });
    }
    expect((await d.app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth })).statusCode).toBe(200);
  });

  it('serves an OpenAPI document listing every route', async () => {
    const { dispatcher: d } = setup();
    const res = await d.app.inject({ method: 'GET', url: '/documentation/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/v1/subscriptions',
      '/v1/subscriptions/{id}',
      '/v1/subscriptions/{id}/rotate-secret',
      '/v1/subscriptions/{id}/test',
      '/v1/subscriptions/{id}/recover',
      '/v1/deliveries',
      '/v1/deliveries/{id}',
      '/v1/deliveries/{id}/retry',
      '/v1/events',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.paths['/v1/subscriptions/{id}']!).sort()).toEqual(['delete', 'get', 'patch']);
  });

  it('creates (secret returned once), lists, shows, updates and deletes', async () => {
    const { dispatcher: d } = setup();
    const created = await d.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: auth,
      payload: { url: 'https://hooks.example.com/a', events: ['irrigation.*', 'sensor.stale'], farms: ['f1'], description: 'agronomist', rate_limit_per_second: 5 },
    });
    expect(created.statusCode).toBe(201);
    const sub = created.json();
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(sub).toMatchObject({ enabled: true, farms: ['f1'], fields: [], rate_limit_per_second: 5 });
    const shown = (await d.app.inject({ method: 'GET', url: `/v1/subscriptions/${sub.id}`, headers: auth })).json();
    expect(shown.secret).toBeUndefined();
    const listed = (await d.app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth })).json();
    expect(listed.data.map((s: { id: string }) => s.id)).toEqual([sub.id]);
    expect(JSON.stringify(listed)).not.toContain(sub.secret);
    const patched = await d.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${sub.id}`, headers: auth, payload: { description: 'x', enabled: false } });
    expect(patched.json()).toMatchObject({ description: 'x', enabled: false, disabled_reason: 'manual' });
    expect((await d.app.inject({ method: 'DELETE', url: `/v1/subscriptions/${sub.id}`, headers: auth })).statusCode).toBe(204);
    const gone = await d.app.inject({ method: 'GET', url: `/v1/subscriptions/${sub.id}`, headers: auth });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ code: 'FH_ERR_SUBSCRIPTION_NOT_FOUND' });
  });

  it('accepts a supplied secret and rejects malformed secrets, filters and URLs', async () => {
    const { dispatcher: d } = setup();
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const ok = await d.app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload: { url: 'https://a.example.com/', secret } });
    expect(ok.json().secret).toBe(secret);
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'https://a.example.com/', secret: 'not-a-secret' }, 'FH_ERR_SUBSCRIPTION_INVALID_SECRET'],
      [{ url: 'https://a.example.com/', secret: 'whsec_AAAA' }, 'FH_ERR_SUBSCRIPTION_INVALID_SECRET'],
      [{ url: 'https://a.example.com/', events: ['Irrigation!'] }, 'FH_ERR_SUBSCRIPTION_INVALID_FILTER'],
      // A misspelt type of fieldhook's own would subscribe to nothing without a word.
      [{ url: 'https://a.example.com/', events: ['irrigation.recomended'] }, 'FH_ERR_SUBSCRIPTION_INVALID_FILTER'],
      [{ url: 'https://a.example.com/', events: ['sensor.stail'] }, 'FH_ERR_SUBSCRIPTION_INVALID_FILTER'],
      [{ url: 'ftp://a.example.com/' }, 'FH_ERR_SUBSCRIPTION_INVALID_URL'],
      [{ url: 'https://a.example.com:0/hook' }, 'FH_ERR_SUBSCRIPTION_INVALID_URL'],
      [{ url: 'http://169.254.169.254/' }, 'FH_ERR_WEBHOOK_SSRF_BLOCKED'],
      [{ url: 'https://a.example.com/', surprise: 1 }, 'FH_ERR_SUBSCRIPTION_UNKNOWN_FIELD'],
    ];
    for (const [payload, code] of cases) {
      const res = await d.app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload });
      expect(res.statusCode, code).toBe(400);
      expect(res.json().code).toBe(code);
    }
    // Another family is an operator's own events (POST /v1/events): taken.
    const own = await d.app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload: { url: 'https://a.example.com/', events: ['frost.warning', 'irrigation.*', 'delivery.exhausted'] } });
    expect(own.statusCode).toBe(201);
  });

  it('refuses to accept events once stopped', async () => {
    const { dispatcher: d } = setup();
    await d.start();
    await d.stop();
    await expect(d.publish({ type: 'irrigation.cleared', data: {} })).rejects.toMatchObject({ code: 'FH_ERR_WEBHOOK_STOPPED' });
  });

  it('rejects invalid events on POST /v1/events and de-duplicates re-published ids', async () => {
    const { dispatcher: d } = setup();
    await createSubscription(d, { url: 'https://a.example.com/' });
    const bad = await d.app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: { type: 'nope', data: {} } });
    // Nested 5,000 levels deep: a 400 naming the depth, not a stack overflow answered 500.
    const deep = await d.app.inject({ method: 'POST', url: '/v1/events', headers: { ...auth, 'content-type': 'application/json' }, payload: `{"type":"test.deep","data":{"x":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}}` });
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toMatchObject({ code: 'FH_ERR_WEBHOOK_INVALID_EVENT' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('FH_ERR_WEBHOOK_INVALID_EVENT');
    const first = await d.app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: { id: 'evt_fixed_1', type: 'irrigation.cleared', data: {} } });
    expect(first.json()).toEqual({ id: 'evt_fixed_1', deliveries: 1, duplicate: false });
    const again = await d.publish({ id: 'evt_fixed_1', type: 'irrigation.cleared', data: {} });
    expect(again).toEqual({ id: 'evt_fixed_1', deliveries: 0, duplicate: true });
    // fieldhook's own families are closed: a typo, or a notice only the dispatcher sends, is refused whole.
    const typo = await d.app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: [{ type: 'sensor.recovered', data: {} }, { type: 'irrigation.recomended', data: {} }] });
    expect(typo.statusCode).toBe(400);
    expect(typo.json()).toMatchObject({ code: 'FH_ERR_WEBHOOK_INVALID_EVENT', errors: [{ path: '1.type', message: expect.stringContaining('fieldhook sends no irrigation.recomended event') }] });
    const forged = await d.app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: { type: 'endpoint.disabled', data: {} } });
    expect(forged.json()).toMatchObject({ code: 'FH_ERR_WEBHOOK_INVALID_EVENT', errors: [{ path: 'type', message: "endpoint.disabled is sent by fieldhook's dispatcher itself" }] });
    expect((await d.app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: { type: 'sensor.recovered', data: {} } })).statusCode).toBe(202);
  });
});

describe('delivery log, test send, retry and recover', () => {
  it('sends a test event through the normal path and logs it', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const { dispatcher: d } = setup();
    await d.start();
    const sub = await createSubscription(d, { url: receiver.url, events: ['sensor.stale'] });
    const res = await d.app.inject({ method: 'POST', url: `/v1/subscriptions/${sub.id}/test`, headers: auth });
    expect(res.statusCode).toBe(202);
    await eventually(() => receiver.received.length === 1);
    expect(verify(sub.secret, receiver.received[0]!)).toMatchObject({ type: 'webhook.test', data: { subscription_id: sub.id } });
    const delivery = await eventually(async () => {
      const r = (await d.app.inject({ method: 'GET', url: `/v1/deliveries/${res.json().delivery_id}`, headers: auth })).json();
      return r.status === 'succeeded' ? r : null;
    });
    expect(delivery.attempt_log).toHaveLength(1);
    expect(delivery.attempt_log[0].latency_ms).toBeGreaterThan(0);
  });

  it('filters the log, retries one delivery and recovers everything failed since a time', async () => {
    let up = false;
    const receiver = await startReceiver(() => ({ status: up ? 200 : 502 }));
    cleanups.push(() => receiver.close());
    const { dispatcher: d } = setup({ WEBHOOK_RETRY_SCHEDULE_MS: [0, 20], WEBHOOK_BREAKER_FAILURE_THRESHOLD: 100 });
    await d.start();
    const sub = await createSubscription(d, { url: receiver.url });
    const t0 = new Date().toISOString();
    const events = [];
    for (let i = 0; i < 4; i++) events.push(await d.publish({ type: 'irrigation.recommended', data: { i } }));
    const failed = await eventually(async () => {
      const r = (await d.app.inject({ method: 'GET', url: `/v1/deliveries?subscription_id=${sub.id}&status=failed`, headers: auth })).json();
      return r.data.length === 4 ? r.data : null;
    });
    expect(failed.every((x: { attempts: number; last_status_code: number }) => x.attempts === 2 && x.last_status_code === 502)).toBe(true);
    const page = (await d.app.inject({ method: 'GET', url: `/v1/deliveries?subscription_id=${sub.id}&limit=3`, headers: auth })).json();
    expect(page.data).toHaveLength(3);
    const rest = (await d.app.inject({ method: 'GET', url: `/v1/deliveries?subscription_id=${sub.id}&after=${page.next_after}`, headers: auth })).json();
    expect(rest.data).toHaveLength(1);
    up = true;
    const retry = await d.app.inject({ method: 'POST', url: `/v1/deliveries/${failed[0].id}/retry`, headers: auth });
    expect(retry.statusCode).toBe(202);
    await eventually(async () => (await d.service.getDelivery(failed[0].id)).delivery.status === 'succeeded');
    const recover = await d.app.inject({ method: 'POST', url: `/v1/subscriptions/${sub.id}/recover?since=${encodeURIComponent(t0)}`, headers: auth });
    expect(recover.json()).toEqual({ recovered: 3 });
    await eventually(async () => (await d.service.listDeliveries({ subscriptionId: sub.id, status: 'succeeded', limit: 10 })).length === 4);
    const ids = new Set(receiver.received.filter((r) => r.headers['webhook-id']).map((r) => r.headers['webhook-id']));
    expect(ids).toEqual(new Set(events.map((e) => e.id)));
  });

  it('exposes delivery metrics on /metrics', async () => {
    const receiver = await startReceiver(() => ({ status: 500 }));
    cleanups.push(() => receiver.close());
    const { dispatcher: d } = setup({ WEBHOOK_RETRY_SCHEDULE_MS: [0, 60_000] });
    await d.start();
    const sub = await createSubscription(d, { url: receiver.url });
    await d.publish({ type: 'irrigation.recommended', data: {} });
    await eventually(() => receiver.received.length === 1);
    await d.service.updateSubscription(sub.id, { enabled: false });
    const text = await eventually(async () => {
      const body = (await d.app.inject({ method: 'GET', url: '/metrics' })).body;
      return body.includes('fieldhook_webhook_attempts_total{outcome="failure"} 1') ? body : null;
    });
    expect(text).toContain(`fieldhook_webhook_backlog{subscription="${sub.id}"} 1`);
    expect(text).toMatch(new RegExp(`fieldhook_webhook_oldest_pending_age_seconds\\{subscription="${sub.id}"\\} [0-9.]+`));
    expect(text).toContain('fieldhook_webhook_endpoints_disabled 1');
    expect(text).toContain('fieldhook_webhook_events_accepted_total 1');
    expect(text).toContain('fieldhook_webhook_attempt_duration_seconds_count 1');
  });
});
