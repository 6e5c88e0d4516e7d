import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildDispatcher, type FieldhookDispatcher } from '../../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig, type DispatchConfig } from '../../../services/dispatcher/config.js';
import type { Transport, TransportRequest } from '../../../services/dispatcher/http-transport.js';
import { createSqliteStore } from '../../../services/dispatcher/store/sqlite-store.js';
import { silentLogger } from '../../../services/shared/logger.js';

const H = 3_600_000;

describe('delivery loop over a whole day of retries (fake timers)', () => {
  let d: FieldhookDispatcher;
  let calls: { url: string; at: number; req: TransportRequest }[];
  let answer: (req: TransportRequest) => number;
  let answerHeaders: Record<string, string>;

  const transport: Transport = async (req) => {
    calls.push({ url: req.url, at: Date.now(), req });
    return { statusCode: answer(req), headers: answerHeaders, snippet: '' };
  };

  function build(overrides: Partial<DispatchConfig> = {}, random = () => 0.5) {
    const config = createDispatchConfig({
      ADMIN_TOKEN: 'test-admin-token-0123456789',
      DISPATCH_DB_PATH: ':memory:',
      DISPATCH_POLL_INTERVAL_MS: H,
      ...overrides,
    });
    d = buildDispatcher({ config, logger: silentLogger(), store: createSqliteStore(':memory:'), transport, random });
    return d;
  }

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-07-06T00:00:00Z') });
    calls = [];
    answer = () => 500;
    answerHeaders = {};
  });
  afterEach(async () => {
    await d?.stop();
    vi.useRealTimers();
  });

  it('still makes its last attempt a day after the first when the receiver keeps answering 503 with a Retry-After of seconds', async () => {
    build();
    await d.start();
    await d.service.createSubscription({ url: 'https://hooks.example.com/a', events: ['irrigation.recommended'] });
    answer = () => 503;
    answerHeaders = { 'retry-after': '3' };
    const t0 = Date.now();
    const ev = await d.publish({ type: 'irrigation.recommended', data: { farm: 'f1' } });
    await vi.advanceTimersByTimeAsync(23 * H);
    const [early] = await d.service.listDeliveries({ eventId: ev.id, limit: 1 });
    expect(early).toMatchObject({ status: 'pending', attempts: 7 });
    await vi.advanceTimersByTimeAsync(2 * H);
    const attempts = calls.filter((c) => c.url.startsWith('https://hooks.'));
    expect(attempts).toHaveLength(8);
    expect(attempts.at(-1)!.at - t0).toBeGreaterThanOrEqual(24 * H);
    const [delivery] = await d.service.listDeliveries({ eventId: ev.id, limit: 1 });
    expect(delivery).toMatchObject({ status: 'failed', attempts: 8 });
  });

  it('makes 8 attempts at 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then gives up and reports it', async () => {
    build();
    await d.start();
    const { subscription: sub } = await d.service.createSubscription({ url: 'https://hooks.example.com/a', events: ['irrigation.recommended'] });
    const { subscription: ops } = await d.service.createSubscription({ url: 'https://ops.example.com/', events: ['delivery.exhausted'] });
    answer = (req) => (req.url.startsWith('https://ops.') ? 200 : 500);
    const t0 = Date.now();
    const ev = await d.publish({ type: 'irrigation.recommended', data: { farm: 'f1' } });
    await vi.advanceTimersByTimeAsync(30 * H);
    const attempts = calls.filter((c) => c.url.startsWith('https://hooks.'));
    expect(attempts).toHaveLength(8);
    const offsets = attempts.map((c) => c.at - t0);
    const expected = [0, 5_000, 305_000, 2_105_000, 2_105_000 + 2 * H, 2_105_000 + 7 * H, 2_105_000 + 17 * H, 2_105_000 + 27 * H];
    offsets.forEach((o, i) => expect(Math.abs(o - expected[i]!)).toBeLessThan(1_000));
    expect(offsets.at(-1)!).toBeGreaterThanOrEqual(24 * H);
    // Every retry is the same message.
    expect(new Set(attempts.map((c) => c.req.headers['webhook-id']))).toEqual(new Set([ev.id]));
    const [delivery] = await d.service.listDeliveries({ eventId: ev.id, limit: 1 });
    expect(delivery).toMatchObject({ status: 'failed', attempts: 8, subscriptionId: sub.id });
    const opsCalls = calls.filter((c) => c.url.startsWith('https://ops.'));
    expect(opsCalls).toHaveLength(1);
    expect(JSON.parse(opsCalls[0]!.req.body)).toMatchObject({ type: 'delivery.exhausted', data: { event_id: ev.id, subscription_id: sub.id } });
    expect(ops.id).not.toBe(sub.id);
  });

  it('applies jitter but still keeps the last attempt a day after the first', async () => {
    build({}, () => 0); // every delay at -20 %
    await d.start();
    await d.service.createSubscription({ url: 'https://hooks.example.com/a' });
    const t0 = Date.now();
    await d.publish({ type: 'irrigation.recommended', data: {} });
    await vi.advanceTimersByTimeAsync(30 * H);
    expect(calls).toHaveLength(8);
    expect(calls[1]!.at - t0).toBe(4_000);
    expect(calls[7]!.at - t0).toBeGreaterThanOrEqual(24 * H);
  });

  it('disables a subscription failing continuously for 5 days, emits endpoint.disabled, and delivers the backlog once re-enabled', async () => {
    build({ WEBHOOK_RETRY_SCHEDULE_MS: [0, 5_000, 30 * 60_000] });
    await d.start();
    const { subscription: sub } = await d.service.createSubscription({ url: 'https://hooks.example.com/a', events: ['sensor.stale'] });
    await d.service.createSubscription({ url: 'https://ops.example.com/', events: ['endpoint.disabled'] });
    answer = (req) => (req.url.startsWith('https://ops.') ? 200 : 500);
    const published: string[] = [];
    for (let hour = 0; hour < 5 * 24 + 6; hour += 6) {
      published.push((await d.publish({ type: 'sensor.stale', data: { hour } })).id);
      await vi.advanceTimersByTimeAsync(6 * H);
    }
    const disabled = await d.service.getSubscription(sub.id);
    expect(disabled).toMatchObject({ enabled: false, disabledReason: 'failing' });
    const opsCalls = calls.filter((c) => c.url.startsWith('https://ops.'));
    expect(opsCalls.map((c) => JSON.parse(c.req.body).type)).toEqual(['endpoint.disabled']);
    // While disabled nothing is attempted, but new events still queue.
    const before = calls.length;
    const late = await d.publish({ type: 'sensor.stale', data: { late: true } });
    await vi.advanceTimersByTimeAsync(12 * H);
    expect(calls.length).toBe(before);
    answer = () => 200;
    await d.service.updateSubscription(sub.id, { enabled: true });
    await vi.advanceTimersByTimeAsync(60_000);
    const pending = await d.service.listDeliveries({ subscriptionId: sub.id, status: 'pending', limit: 1000 });
    expect(pending).toHaveLength(0);
    const delivered = calls.slice(before).map((c) => c.req.headers['webhook-id']);
    expect(delivered).toContain(late.id);
    expect(delivered.length).toBeGreaterThanOrEqual(2);
  });

  it('opens the circuit breaker so a dead endpoint is probed, not hammered, while others flow', async () => {
    build({ WEBHOOK_RETRY_SCHEDULE_MS: [0, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000], WEBHOOK_BREAKER_FAILURE_THRESHOLD: 3, WEBHOOK_BREAKER_COOLDOWN_MS: 60_000 });
    await d.start();
    await d.service.createSubscription({ url: 'https://dead.example.com/', farms: ['dead'] });
    await d.service.createSubscription({ url: 'https://alive.example.com/', farms: ['alive'] });
    answer = (req) => (req.url.startsWith('https://dead.') ? 503 : 200);
    for (let i = 0; i < 20; i++) await d.publish({ type: 'irrigation.recommended', farm: 'dead', data: { i } });
    for (let i = 0; i < 20; i++) await d.publish({ type: 'irrigation.recommended', farm: 'alive', data: { i } });
    await vi.advanceTimersByTimeAsync(30_000);
    const dead = calls.filter((c) => c.url.startsWith('https://dead.'));
    const alive = calls.filter((c) => c.url.startsWith('https://alive.'));
    expect(alive).toHaveLength(20);
    // The first pass sends at most the endpoint's concurrency (10); their failures open the breaker.
    expect(dead).toHaveLength(10);
    const lastDead = dead.at(-1)!.at;
    // Nothing more reaches it during the 60 s cooldown, although retries are due every second.
    await vi.advanceTimersByTimeAsync(25_000);
    expect(calls.filter((c) => c.url.startsWith('https://dead.') && c.at > lastDead)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(40_000);
    // After the cooldown: one probe at a time.
    expect(calls.filter((c) => c.url.startsWith('https://dead.') && c.at > lastDead).length).toBeGreaterThanOrEqual(1);
  });
});
