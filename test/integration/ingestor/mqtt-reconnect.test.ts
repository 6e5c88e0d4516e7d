import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { describe, it } from 'vitest';
import { startMosquitto } from '../../../infra/harness/mosquitto.js';
import { countPoints, createIngestFixture, reading } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

describe(`MQTT consumer against a broker that goes away (InfluxDB ${influx.kind})`, () => {
  it('reconnects to a restarted Mosquitto that lost its session, subscribes again and goes on storing', async () => {
    const database = `reconnect_${process.pid}`;
    await influx.createDatabase(database);
    const first = await startMosquitto({ dir: mkdtempSync(join(tmpdir(), 'fieldhook-mosq-a-')) });
    const fx = createIngestFixture({ database, config: { MQTT_URL: first.url, MQTT_CLIENT_ID_PREFIX: `rc-${process.pid}`, MQTT_CONNECTIONS: '2' } });
    await fx.devices.add({ id: 'r-1', farm: 'farm-r', field: 'f', kind: 'device' });
    await fx.ingestor.start();
    const base = Date.parse('2026-11-24T00:00:00Z');
    const topic = 'fieldhook/v1/devices/r-1/readings';
    let second: Awaited<ReturnType<typeof startMosquitto>> | undefined;
    try {
      const device = await connectAsync(first.url, { clientId: 'r-1-a' });
      await device.publishAsync(topic, JSON.stringify(reading('r-1', 0, base)), { qos: 1 });
      await eventually(async () => (await countPoints(database)) === 1);
      await device.endAsync();

      // A new broker on the same port, without the old one's sessions: the consumer must reconnect
      // and subscribe again, or nothing published from now on reaches it.
      await first.stop();
      second = await startMosquitto({ dir: mkdtempSync(join(tmpdir(), 'fieldhook-mosq-b-')), port: first.port });
      const again = await connectAsync(second.url, { clientId: 'r-1-b' });
      // Sent again until it is stored (a message published before the subscription is not kept); the same reading, so one point.
      await eventually(
        async () => {
          await again.publishAsync(topic, JSON.stringify(reading('r-1', 1, base)), { qos: 1 });
          return (await countPoints(database)) === 2;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'a reading stored through the new broker' },
      );
      await again.publishAsync(topic, JSON.stringify(reading('r-1', 2, base)), { qos: 1 });
      await eventually(async () => (await countPoints(database)) === 3);
      await again.endAsync();
      // Ready again: the consumer and the bus publisher are connected to the new broker.
      await eventually(async () => (await fx.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, { what: 'ready again' });
    } finally {
      await fx.close();
      await second?.stop();
      await first.stop();
    }
  }, 90_000);
});
