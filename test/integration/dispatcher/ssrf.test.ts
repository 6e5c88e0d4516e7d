import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../../../services/dispatcher/http-transport.js';
import { createAddressGuard, createGuardedAgent, policyFor } from '../../../services/dispatcher/ssrf-guard.js';
import { auth, createSubscription, makeDispatcher, startReceiver, verify } from './helpers.js';
import { eventually } from '../../helpers/eventually.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('SSRF guard on real connections', () => {
  it('refuses to store a loopback URL when no allow-list admits it', async () => {
    const receiver = await startReceiver();
    const t = makeDispatcher({ WEBHOOK_ALLOW_CIDRS: {} });
    cleanups.push(() => receiver.close(), () => t.cleanup());
    for (const url of [receiver.url, receiver.url.replace('127.0.0.1', '2130706433'), receiver.url.replace('127.0.0.1', '[::ffff:127.0.0.1]')]) {
      const res = await t.dispatcher.app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload: { url } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_WEBHOOK_SSRF_BLOCKED' });
    }
  });

  it('blocks a name that resolves to loopback at connect time, on the normal and the test-send path', async () => {
    const receiver = await startReceiver();
    const port = new URL(receiver.url).port;
    const t = makeDispatcher(
      { WEBHOOK_ALLOW_CIDRS: {}, WEBHOOK_RETRY_SCHEDULE_MS: [0] },
      { resolver: async () => [{ address: '127.0.0.1', family: 4 }] },
    );
    cleanups.push(() => receiver.close(), () => t.cleanup());
    await t.dispatcher.start();
    const sub = await createSubscription(t.dispatcher, { url: `http://receiver.test:${port}/hook` });
    const test = await t.dispatcher.app.inject({ method: 'POST', url: `/v1/subscriptions/${sub.id}/test`, headers: auth });
    expect(test.statusCode).toBe(202);
    const published = await t.dispatcher.publish({ type: 'irrigation.recommended', data: {} });
    for (const deliveryId of [test.json().delivery_id as string]) {
      const done = await eventually(async () => {
        const d = (await t.dispatcher.app.inject({ method: 'GET', url: `/v1/deliveries/${deliveryId}`, headers: auth })).json();
        return d.status === 'failed' ? d : null;
      });
      expect(done.attempt_log[0].outcome).toBe('blocked');
      expect(done.attempt_log[0].error).toContain('FH_ERR_WEBHOOK_SSRF_BLOCKED');
    }
    await eventually(async () => (await t.dispatcher.service.listDeliveries({ eventId: published.id, limit: 1 }))[0]?.status === 'failed');
    expect(receiver.received).toHaveLength(0);
  });

  it('checks the connected address even for literal IPs that skip the lookup hook', async () => {
    const receiver = await startReceiver();
    const agent = createGuardedAgent(createAddressGuard(policyFor({}, [], false)));
    cleanups.push(() => receiver.close(), () => agent.close());
    const send = createHttpTransport();
    await expect(send({ url: receiver.url, headers: {}, body: '{}', timeoutMs: 2000, dispatcher: agent })).rejects.toMatchObject({
      code: 'FH_ERR_WEBHOOK_SSRF_BLOCKED',
    });
    // A request the receiver has answered after the refusal: had the guarded one got through, it would be there first.
    const marker = await fetch(receiver.url, { method: 'POST', body: 'marker' });
    expect(marker.status).toBe(204);
    expect(receiver.received.map((r) => r.body)).toEqual(['marker']);
  });

  it('admits a farm LAN receiver through that farm’s allow-list only', async () => {
    const receiver = await startReceiver();
    const t = makeDispatcher({ WEBHOOK_ALLOW_CIDRS: { 'farm-a': ['127.0.0.0/8'] } });
    cleanups.push(() => receiver.close(), () => t.cleanup());
    await t.dispatcher.start();
    const unscoped = await t.dispatcher.app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload: { url: receiver.url } });
    expect(unscoped.statusCode).toBe(400);
    const sub = await createSubscription(t.dispatcher, { url: receiver.url, farms: ['farm-a'] });
    await t.dispatcher.publish({ type: 'irrigation.recommended', farm: 'farm-a', data: {} });
    await eventually(() => receiver.received.length === 1);
    expect(verify(sub.secret, receiver.received[0]!).type).toBe('irrigation.recommended');
    // Widening the subscription to every farm would leave the allow-list's scope: refused.
    const widen = await t.dispatcher.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${sub.id}`, headers: auth, payload: { farms: [] } });
    expect(widen.statusCode).toBe(400);
  });
});
