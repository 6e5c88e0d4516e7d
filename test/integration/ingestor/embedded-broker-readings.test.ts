/**
 * On the embedded broker a device's readings message ends at the broker: acknowledged once stored,
 * neither retained nor forwarded (the readings reach the bus from the spool).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DEVICE_READINGS, deviceReadingsTopic, TOPIC_ROOT } from '../../../services/shared/bus/index.js';
import { countPoints, createIngestFixture, reading, type IngestFixture } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();
const MARKER = `${TOPIC_ROOT}/test/marker`;

describe('readings messages on the embedded broker', () => {
  const database = `embedded_readings_${process.pid}`;
  let fx: IngestFixture;
  let secret: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    await influx.createDatabase(database);
    fx = createIngestFixture({ database });
    secret = (await fx.devices.add({ id: 'e-1', farm: 'farm-e', field: 'north', kind: 'device' })).secret;
    await fx.ingestor.start();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await fx.close();
  });

  /** An internal part's client that records every message it gets, subscribed to `filters` and the marker. */
  const listener = async (clientId: string, filters: string[]) => {
    const { url, username, password } = fx.ingestor.busConnection('bus');
    const client = await connectAsync(url, { username, password, clientId, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(client);
    const topics: string[] = [];
    client.on('message', (topic) => topics.push(topic));
    await client.subscribeAsync([...filters, MARKER], { qos: 1 });
    return { client, topics };
  };
  /** Every message published before the marker has reached the listener once the marker has (one publisher, QoS 1, in order). */
  const marked = async (l: Awaited<ReturnType<typeof listener>>) => {
    await l.client.publishAsync(MARKER, 'm', { qos: 1 });
    await eventually(() => l.topics.includes(MARKER), { what: 'the marker' });
    return l.topics.filter((t) => t !== MARKER);
  };

  it('stores a retained QoS 1 reading, acknowledges it, and neither forwards nor retains it', async () => {
    const watcher = await listener('fieldhook-test-watcher', [ALL_DEVICE_READINGS]);
    const device = await connectAsync(fx.ingestor.busConnection('bus').url, { username: 'e-1', password: secret, clientId: 'e-1', protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(device);
    await device.publishAsync(deviceReadingsTopic('e-1'), JSON.stringify(reading('e-1', 1)), { qos: 1, retain: true });
    await eventually(async () => (await countPoints(database)) === 1, { what: 'the reading in InfluxDB' });
    expect(await marked(watcher)).toEqual([]);
    // A later subscriber to the device's topic gets no retained reading.
    const late = await listener('fieldhook-test-late', [deviceReadingsTopic('e-1')]);
    expect(await marked(late)).toEqual([]);
  });
});
