import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { countPoints, createIngestFixture, reading, type IngestFixture } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();
const mosquittoUrl = inject('mosquittoUrl');

/**
 * A control plane whose change feed is down cannot promise that memory is current, so every look
 * at its change version is a change (services/shared/database/change-feed.ts). MQTT ingest must
 * still go on: one registry read per message, then on with what it returned.
 */
describe(`MQTT ingest while the registry cannot vouch for the credential cache (InfluxDB ${influx.kind})`, () => {
  const database = `mqtt_unsettled_${process.pid}`;
  const reads = { count: 0 };
  let version = 0;
  let fx: IngestFixture;
  let client: MqttClient;

  beforeAll(async () => {
    await influx.createDatabase(database);
    fx = createIngestFixture({
      database,
      config: { MQTT_URL: mosquittoUrl, MQTT_CLIENT_ID_PREFIX: `unsettled-${process.pid}`, MQTT_GROUP: `unsettled-${process.pid}` },
      wrapDevices: (devices): DeviceRepository => ({
        ...devices,
        // As over a network: the answer comes in a later event-loop turn than the question.
        get: async (id) => {
          reads.count++;
          await new Promise((resolve) => setImmediate(resolve));
          return devices.get(id);
        },
        changeVersion: () => ++version,
      }),
    });
    await fx.devices.add({ id: 'u-1', farm: 'farm-u', field: 'east', kind: 'device' });
    await fx.ingestor.start();
    client = await connectAsync(mosquittoUrl, { clientId: `u-1-${process.pid}`, protocolVersion: 5 });
  });
  afterAll(async () => {
    await client?.endAsync();
    await fx?.close();
  });

  it('acknowledges and stores each reading after one registry read, without reading again and again', async () => {
    const base = Date.parse('2026-11-25T08:00:00Z');
    for (let i = 0; i < 5; i++) {
      // publishAsync resolves on the PUBACK, which comes only once the reading is in the spool.
      await client.publishAsync('fieldhook/v1/devices/u-1/readings', JSON.stringify(reading('u-1', i, base)), { qos: 1 });
    }
    await eventually(async () => expect(await countPoints(database, `WHERE "device" = 'u-1'`)).toBe(5));
    // One read per message at most (a few more if a broker redelivers), never a loop of them.
    expect(reads.count).toBeGreaterThanOrEqual(1);
    expect(reads.count).toBeLessThanOrEqual(10);
  });
});
