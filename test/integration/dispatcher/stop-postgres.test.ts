/**
 * Stopping a dispatcher on the run's real PostgreSQL in the middle of a delivery loop pass, then
 * ending the control plane's pool as the host does right after (the control plane stops last).
 * The stop waits for the pass, so nothing uses the pool once it is ended: before, every
 * `fieldhook leave` that stopped a busy dispatcher logged "Cannot use a pool after calling end on
 * the pool" at error level, and a delivery the pass had leased waited out its lease.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDispatcher } from '../../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../../../services/dispatcher/config.js';
import { createDispatchStore } from '../../../services/dispatcher/store/open-store.js';
import { closeControlPlane, createControlPlane } from '../../../services/shared/database/control-plane.js';
import { captureLogger } from '../../helpers/capture-logger.js';
import { eventually } from '../../helpers/eventually.js';
import { heldStore, stopDuring } from '../../helpers/held-store.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { startReceiver, verify, type Receiver } from './helpers.js';

const H = 3_600_000;

describe('stopping a dispatcher on PostgreSQL while its delivery loop is mid-pass', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-dispatch-stop-pg-'));
  let databaseUrl = '';
  let receiver: Receiver;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('dispatcher_stop');
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes the pass (its leased delivery attempted and recorded) before the pool ends, and logs no error', async () => {
    const { lines, logger } = captureLogger('warn');
    const plane = createControlPlane({ DATA_DIR: dir, DATABASE_URL: databaseUrl, INSTANCE_ID: 'stop-a' }, logger);
    const inner = createDispatchStore(plane, '', 'stop-a');
    await inner.open();
    const { store, calls, hold, deliveriesAtClose } = heldStore(inner);
    const config = createDispatchConfig({
      ADMIN_TOKEN: 'test-admin-token-0123456789', DATABASE_URL: databaseUrl, INSTANCE_ID: 'stop-a', DATA_DIR: dir,
      DISPATCH_POLL_INTERVAL_MS: H, WEBHOOK_ALLOW_CIDRS: { '*': ['127.0.0.1/32'] },
    });
    const d = buildDispatcher({ config, logger, store });
    await d.start();
    const { secret } = await d.service.createSubscription({ url: receiver.url, events: ['irrigation.recommended'] });
    // The pass that leases the event's delivery is held where it reads the subscription's secrets.
    const secrets = hold('subscriptions.activeSecrets');
    const event = await d.publish({ type: 'irrigation.recommended', data: { farm: 'f1' } });
    await secrets.reached;

    // As the host stops: the dispatcher, then (the control plane stops last) the pool.
    const early = await stopDuring(async () => {
      await d.stop();
      await closeControlPlane(plane);
    }, secrets);

    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(early, 'stopped while a pass still used the pool').toBe(false);
    expect(calls.filter((c) => c.afterClose)).toEqual([]);
    expect(deliveriesAtClose()).toEqual([expect.objectContaining({ eventId: event.id, status: 'succeeded', attempts: 1 })]);
    await eventually(() => receiver.received.length === 1, { what: 'the delivery' });
    expect(verify(secret, receiver.received[0]!).id).toBe(event.id);
  });
});
