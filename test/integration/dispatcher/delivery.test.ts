import { afterEach, describe, expect, it } from 'vitest';
import { auth, createSubscription, makeDispatcher, startReceiver, verify, type Receiver, type TestDispatcher } from './helpers.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock, type ManualClock } from '../../helpers/manual-clock.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** With `clock`, the dispatcher's time (retries, expiry, secret overlap) moves only when the test advances it. */
async function setup(reply?: Receiver['reply'], overrides = {}, clock?: ManualClock) {
  const receiver = await startReceiver(reply, clock ? { now: clock.now } : {});
  const t: TestDispatcher = makeDispatcher(overrides, clock ? { clock } : {});
  cleanups.push(() => receiver.close(), () => t.cleanup());
  await t.dispatcher.start();
  const sub = await createSubscription(t.dispatcher, { url: receiver.url, events: ['irrigation.*'] });
  return { receiver, t, d: t.dispatcher, sub };
}

/**
 * A second receiver subscribed to `events` only. Once it has the event published after the one
 * under test, and its delivery is recorded, the loop has made its passes over the earlier one.
 */
async function witness(t: TestDispatcher, events: string[]) {
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  await createSubscription(t.dispatcher, { url: receiver.url, events });
  return receiver;
}

const deliveryOf = async (t: TestDispatcher, eventId: string) => {
  const res = await t.dispatcher.app.inject({ method: 'GET', url: `/v1/deliveries?event_id=${eventId}`, headers: auth });
  const id = (res.json() as { data: { id: string }[] }).data[0]!.id;
  return (await t.dispatcher.app.inject({ method: 'GET', url: `/v1/deliveries/${id}`, headers: auth })).json() as {
    status: string;
    attempts: number;
    attempt_log: { status_code: number | null; outcome: string; error: string | null; response_snippet: string | null }[];
  };
};

describe('webhook delivery to a real receiver', () => {
  it('delivers a signed event that standardwebhooks verifies', async () => {
    const { receiver, d, sub, t } = await setup();
    const r = await d.publish({ type: 'irrigation.recommended', data: { farm: 'f1', field: 'north', depth_mm: 12 } });
    expect(r).toMatchObject({ deliveries: 1, duplicate: false });
    await eventually(() => receiver.received.length === 1);
    const got = receiver.received[0]!;
    const payload = verify(sub.secret, got);
    expect(payload).toMatchObject({ type: 'irrigation.recommended', id: r.id, data: { depth_mm: 12 } });
    expect(got.headers['webhook-id']).toBe(r.id);
    expect(got.headers['content-type']).toBe('application/json');
    await eventually(async () => (await deliveryOf(t, r.id)).status === 'succeeded');
    const log = await deliveryOf(t, r.id);
    expect(log.attempt_log).toHaveLength(1);
    expect(log.attempt_log[0]).toMatchObject({ status_code: 204, outcome: 'success' });
  });

  it('retries failures with the same webhook-id until a 2xx', async () => {
    const { receiver, d, sub, t } = await setup((n) => (n < 2 ? { status: 500, body: 'boom' } : { status: 200 }));
    const r = await d.publish({ type: 'irrigation.recommended', data: { farm: 'f1' } });
    await eventually(async () => (await deliveryOf(t, r.id)).status === 'succeeded');
    expect(receiver.received).toHaveLength(3);
    const ids = new Set(receiver.received.map((x) => x.headers['webhook-id']));
    expect([...ids]).toEqual([r.id]);
    for (const x of receiver.received) expect(verify(sub.secret, x).id).toBe(r.id);
    const log = await deliveryOf(t, r.id);
    expect(log.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 200]);
    expect(log.attempt_log[0]!.response_snippet).toBe('boom');
    // Schedule [0, 100, 200]: the retries are spaced, not hammered.
    expect(receiver.received[2]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(250);
  });

  it('treats 410 Gone as "disable the subscription" and keeps its backlog for re-enabling', async () => {
    let gone = true;
    const { receiver, d, sub, t } = await setup(() => (gone ? { status: 410 } : { status: 200 }));
    const first = await d.publish({ type: 'irrigation.recommended', data: {} });
    await eventually(async () => !(await d.service.getSubscription(sub.id)).enabled);
    const disabled = await d.service.getSubscription(sub.id);
    expect(disabled.disabledReason).toBe('gone');
    const bystander = await witness(t, ['irrigation.cleared']);
    const second = await d.publish({ type: 'irrigation.cleared', data: {} });
    // The pass that delivers `second` to the enabled bystander is the one that would have sent it here.
    await eventually(() => bystander.received.length === 1);
    await eventually(async () => (await d.service.listDeliveries({ eventId: second.id, status: 'succeeded', limit: 10 })).length === 1);
    expect(receiver.received).toHaveLength(1);
    expect(await d.service.listDeliveries({ eventId: second.id, subscriptionId: sub.id, limit: 10 })).toMatchObject([{ status: 'pending', attempts: 0 }]);
    gone = false;
    const res = await d.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${sub.id}`, headers: auth, payload: { enabled: true } });
    expect(res.statusCode).toBe(200);
    await eventually(() => receiver.received.length === 3);
    const ids = receiver.received.slice(1).map((x) => verify(sub.secret, x).id).sort();
    expect(ids).toEqual([first.id, second.id].sort());
    await eventually(async () => (await deliveryOf(t, first.id)).status === 'succeeded');
  });

  it('honours Retry-After on 429 and 503', async () => {
    const { receiver, d } = await setup(
      (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }),
      { WEBHOOK_RETRY_SCHEDULE_MS: [0, 50, 50, 50] },
    );
    await d.publish({ type: 'irrigation.recommended', data: {} });
    await eventually(() => receiver.received.length === 3, { timeoutMs: 10_000 });
    const gap1 = receiver.received[1]!.at - receiver.received[0]!.at;
    const gap2 = receiver.received[2]!.at - receiver.received[1]!.at;
    // The schedule alone would have retried after 50 ms.
    expect(gap1).toBeGreaterThanOrEqual(950);
    expect(gap2).toBeGreaterThanOrEqual(950);
  });

  it('stops retrying when the receiver answers webhook-delivery: abort-message', async () => {
    const clock = createManualClock();
    const { receiver, d, t } = await setup(() => ({ status: 400, headers: { 'webhook-delivery': 'abort-message' } }), {}, clock);
    const r = await d.publish({ type: 'irrigation.recommended', data: {} });
    await eventually(async () => (await deliveryOf(t, r.id)).status === 'aborted');
    // Past every retry the schedule [0, 100, 200, 300] would have made.
    await clock.advance(1_000);
    const bystander = await witness(t, ['sensor.stale']);
    const later = await d.publish({ type: 'sensor.stale', data: {} });
    await eventually(async () => (await deliveryOf(t, later.id)).status === 'succeeded');
    expect(bystander.received).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    expect((await deliveryOf(t, r.id)).attempts).toBe(1);
  });

  it('times out a receiver that does not answer and retries', async () => {
    const { receiver, d, t } = await setup((n) => (n === 0 ? { status: 200, delayMs: 1_500 } : { status: 200 }), {
      WEBHOOK_TIMEOUT_MS: 300,
    });
    const r = await d.publish({ type: 'irrigation.recommended', data: {} });
    await eventually(async () => (await deliveryOf(t, r.id)).status === 'succeeded');
    const log = await deliveryOf(t, r.id);
    expect(log.attempt_log[0]).toMatchObject({ outcome: 'timeout', status_code: null });
    expect(log.attempt_log[0]!.error).toContain('FH_ERR_WEBHOOK_TIMEOUT');
    expect(receiver.received).toHaveLength(2);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const target = await startReceiver();
    cleanups.push(() => target.close());
    const { receiver, d, t } = await setup(() => ({ status: 307, headers: { location: target.url } }), {
      WEBHOOK_RETRY_SCHEDULE_MS: [0, 50],
    });
    const r = await d.publish({ type: 'irrigation.recommended', data: {} });
    await eventually(async () => (await deliveryOf(t, r.id)).status === 'failed');
    const log = await deliveryOf(t, r.id);
    expect(log.attempt_log.map((a) => a.status_code)).toEqual([307, 307]);
    expect(receiver.received).toHaveLength(2);
    expect(target.received).toHaveLength(0);
  });

  it('never delivers an event after valid_until and records it as expired', async () => {
    const clock = createManualClock();
    const { receiver, d, t } = await setup(() => ({ status: 500 }), { WEBHOOK_RETRY_SCHEDULE_MS: [0, 400, 400] }, clock);
    const validUntil = new Date(clock.now() + 200).toISOString();
    const r = await d.publish({ type: 'irrigation.recommended', data: {}, valid_until: validUntil });
    await eventually(async () => (await deliveryOf(t, r.id)).status === 'expired');
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ valid_until: validUntil });
    // Manual retry is refused once stale.
    await clock.advance(Date.parse(validUntil) - clock.now() + 20);
    const list = await d.app.inject({ method: 'GET', url: `/v1/deliveries?event_id=${r.id}`, headers: auth });
    const id = list.json().data[0].id as string;
    const retry = await d.app.inject({ method: 'POST', url: `/v1/deliveries/${id}/retry`, headers: auth });
    expect(retry.statusCode).toBe(409);
    expect(retry.json()).toMatchObject({ code: 'FH_ERR_WEBHOOK_EXPIRED' });
    for (const x of receiver.received) expect(x.at).toBeLessThan(Date.parse(validUntil));
  });

  it('expires an event whose valid_until passes while its subscription is disabled', async () => {
    const clock = createManualClock();
    const { receiver, d, sub, t } = await setup(undefined, {}, clock);
    await d.service.updateSubscription(sub.id, { enabled: false });
    const r = await d.publish({ type: 'irrigation.recommended', data: {}, valid_until: new Date(clock.now() + 100).toISOString() });
    await clock.advance(250);
    await d.service.updateSubscription(sub.id, { enabled: true });
    await eventually(async () => (await deliveryOf(t, r.id)).status === 'expired');
    expect(receiver.received).toHaveLength(0);
  });

  it('collapses: a newer event with the same key replaces an undelivered older one', async () => {
    let healthy = false;
    const clock = createManualClock();
    const { receiver, d, sub, t } = await setup(() => ({ status: healthy ? 200 : 500 }), { WEBHOOK_RETRY_SCHEDULE_MS: [0, 300, 300, 300] }, clock);
    const a = await d.publish({ type: 'irrigation.recommended', data: { depth_mm: 10 }, collapse_key: 'f1:north' });
    await eventually(() => receiver.received.length === 1);
    const b = await d.publish({ type: 'irrigation.recommended', data: { depth_mm: 14 }, collapse_key: 'f1:north' });
    const other = await d.publish({ type: 'irrigation.recommended', data: { depth_mm: 3 }, collapse_key: 'f1:south' });
    healthy = true;
    await eventually(async () => (await deliveryOf(t, b.id)).status === 'succeeded');
    await eventually(async () => (await deliveryOf(t, other.id)).status === 'succeeded');
    // Past the retries `a` would have had at 300 and 600 ms; a later event proves the loop has looked.
    await clock.advance(700);
    const later = await d.publish({ type: 'irrigation.recommended', data: { depth_mm: 1 }, collapse_key: 'f1:east' });
    await eventually(async () => (await deliveryOf(t, later.id)).status === 'succeeded');
    expect((await deliveryOf(t, a.id)).status).toBe('superseded');
    const successfulIds = receiver.received.filter((_x, i) => i > 0).map((x) => verify(sub.secret, x).id);
    expect(successfulIds).not.toContain(a.id);
    expect(successfulIds).toContain(b.id);
  });

  it('signs with old and new secrets during a rotation overlap, then only the new one', async () => {
    const clock = createManualClock();
    const { receiver, d, sub } = await setup(undefined, { WEBHOOK_SECRET_ROTATION_OVERLAP_MS: 1_500 }, clock);
    const res = await d.app.inject({ method: 'POST', url: `/v1/subscriptions/${sub.id}/rotate-secret`, headers: auth });
    expect(res.statusCode).toBe(200);
    const fresh = res.json().secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(sub.secret);
    await d.publish({ type: 'irrigation.recommended', data: {} });
    await eventually(() => receiver.received.length === 1);
    const during = receiver.received[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => verify(sub.secret, during)).not.toThrow();
    expect(() => verify(fresh, during)).not.toThrow();
    await clock.advance(1_600);
    await d.publish({ type: 'irrigation.recommended', data: {} });
    await eventually(() => receiver.received.length === 2);
    const after = receiver.received[1]!;
    expect(() => verify(fresh, after)).not.toThrow();
    expect(() => verify(sub.secret, after)).toThrow();
  });

  it('fans out to every matching subscription and filters by farm and field', async () => {
    const { receiver, d, sub } = await setup();
    const farmOnly = await startReceiver();
    const fieldOnly = await startReceiver();
    cleanups.push(() => farmOnly.close(), () => fieldOnly.close());
    const farmSub = await createSubscription(d, { url: farmOnly.url, events: ['*'], farms: ['f2'] });
    const fieldSub = await createSubscription(d, { url: fieldOnly.url, events: ['sensor.stale'], fields: ['east'] });
    await d.publish({ type: 'irrigation.recommended', data: { farm: 'f1', field: 'east' } });
    await d.publish({ type: 'sensor.stale', data: { farm: 'f2', field: 'east' } });
    await d.publish({ type: 'sensor.stale', farm: 'f2', field: 'west', data: {} });
    await eventually(() => receiver.received.length === 1 && farmOnly.received.length === 2 && fieldOnly.received.length === 1);
    // Every delivery there is has been recorded as succeeded: nothing is left that could still be sent.
    const deliveriesOf = (subscriptionId: string) => d.service.listDeliveries({ subscriptionId, limit: 100 });
    await eventually(async () => {
      const all = (await Promise.all([sub.id, farmSub.id, fieldSub.id].map(deliveriesOf))).flat();
      return all.every((x) => x.status === 'succeeded');
    });
    expect((await deliveriesOf(sub.id)).map((x) => x.attempts)).toEqual([1]);
    expect((await deliveriesOf(farmSub.id)).map((x) => x.attempts)).toEqual([1, 1]);
    expect((await deliveriesOf(fieldSub.id)).map((x) => x.attempts)).toEqual([1]);
    expect(receiver.received).toHaveLength(1);
    expect(farmOnly.received).toHaveLength(2);
    expect(fieldOnly.received).toHaveLength(1);
  });
});
