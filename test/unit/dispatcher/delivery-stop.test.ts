/**
 * Stopping the dispatcher while a pass of its delivery loop waits on the store: the stop waits for
 * that pass, which leases nothing more, so nothing touches the store once it is closed. (On
 * PostgreSQL the host ends the shared pool right after: a pass still running logged "Cannot use a
 * pool after calling end on the pool", and a delivery it had leased waited out its lease.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildDispatcher, type FieldhookDispatcher } from '../../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../../../services/dispatcher/config.js';
import type { Transport } from '../../../services/dispatcher/http-transport.js';
import { createSqliteStore } from '../../../services/dispatcher/store/sqlite-store.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { heldStore, stopDuring } from '../../helpers/held-store.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const H = 3_600_000;

describe('stopping the dispatcher while its delivery loop waits on the store', () => {
  let d: FieldhookDispatcher | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  /** A started dispatcher with one subscription, its loop asleep until the next poll. */
  async function running() {
    const clock = createManualClock(Date.parse('2026-07-06T00:00:00Z'));
    const observed = heldStore(createSqliteStore(':memory:'));
    const sent: string[] = [];
    const transport: Transport = async (req) => {
      sent.push(String(req.headers['webhook-id']));
      return { statusCode: 200, headers: {}, snippet: '' };
    };
    const config = createDispatchConfig({ ADMIN_TOKEN: 'test-admin-token-0123456789', DISPATCH_DB_PATH: ':memory:', DISPATCH_POLL_INTERVAL_MS: H });
    d = buildDispatcher({ config, logger: silentLogger(), store: observed.store, transport, clock });
    await d.start();
    await d.service.createSubscription({ url: 'https://hooks.example.com/a', events: ['irrigation.recommended'] });
    await eventually(() => clock.pending() > 0, { what: 'the loop asleep' });
    return { ...observed, sent };
  }

  it('waits for a pass that has not leased yet, which then leases nothing, and leaves the store alone once closed', async () => {
    const { calls, hold, sent, deliveriesAtClose } = await running();
    // The first thing a pass asks the store (publishing does not).
    const expiring = hold('outbox.expireDue');
    const event = await d!.publish({ type: 'irrigation.recommended', data: { farm: 'f1' } });
    await expiring.reached;
    const claimsBefore = calls.filter((c) => c.method === 'outbox.claim').length;

    expect(await stopDuring(() => d!.stop(), expiring), 'stopped while a pass still used the store').toBe(false);
    expect(calls.filter((c) => c.afterClose)).toEqual([]);
    // Not leased: the next start (of any instance) attempts it at once, no lease to wait out.
    expect(calls.filter((c) => c.method === 'outbox.claim')).toHaveLength(claimsBefore);
    expect(sent).toEqual([]);
    expect(deliveriesAtClose()).toEqual([expect.objectContaining({ eventId: event.id, status: 'pending', attempts: 0 })]);
  });

  it('waits for a pass that already leased a delivery: it is attempted and recorded before the store closes', async () => {
    const { calls, hold, sent, deliveriesAtClose } = await running();
    const secrets = hold('subscriptions.activeSecrets');
    const event = await d!.publish({ type: 'irrigation.recommended', data: { farm: 'f1' } });
    await secrets.reached;

    expect(await stopDuring(() => d!.stop(), secrets), 'stopped while a pass still used the store').toBe(false);
    expect(calls.filter((c) => c.afterClose)).toEqual([]);
    expect(sent).toEqual([event.id]);
    expect(deliveriesAtClose()).toEqual([expect.objectContaining({ eventId: event.id, status: 'succeeded', attempts: 1 })]);
  });
});
