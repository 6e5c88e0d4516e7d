/**
 * Gateways' forecasts on an external broker (Mosquitto), consumed by two instances at once: each
 * subscribes under its own client id (one shared id would make the broker drop one for the other,
 * over and over), reports it in readiness, and a gateway's forecast is stored once it arrives.
 * The Mosquitto is this file's own: a session other files leave in the shared group would take
 * its share of the gateway's messages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import { buildForecasts, type Forecasts } from '../../../services/forecasts/build-forecasts.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { deviceForecastsTopic } from '../../../services/shared/bus/topics.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';

const H = 3_600_000;

describe('forecasts on an external broker (Mosquitto), two instances', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-forecasts-mqtt-'));
  let mosquitto: RunningMosquitto;
  let mosquittoUrl: string;
  const gateway = `gw-fc-${process.pid}`;
  let devices: DeviceRepository;
  const instances: Forecasts[] = [];

  beforeAll(async () => {
    mosquitto = await startMosquitto({ dir: join(dir, 'mosquitto') });
    mosquittoUrl = mosquitto.url;
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    await devices.add({ id: gateway, farm: 'f7', field: 'yard', kind: 'gateway' });
    for (const id of ['a', 'b']) {
      const forecasts = buildForecasts({
        config: { DATA_DIR: mkdtempSync(join(dir, `${id}-`)), MQTT_URL: mosquittoUrl, INSTANCE_ID: `${id}-${process.pid}` },
        logger: silentLogger(),
        devices,
        bus: () => ({ url: mosquittoUrl, protocolVersion: 5, sharedSubscriptions: true }),
      });
      instances.push(forecasts);
      await forecasts.start();
    }
  });

  afterAll(async () => {
    for (const f of instances) await f.stop();
    devices?.close();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('subscribes per instance, both ready, and stores a gateway\'s forecast', async () => {
    const checks = instances.map((f) => f.readiness?.find((c) => c.name === 'forecasts'));
    expect(checks.every((c) => c !== undefined)).toBe(true);
    const results = await eventually(async () => {
      const r = await Promise.all(checks.map((c) => c!.check()));
      return r.every((x) => x.ok) ? r : undefined;
    }, { what: 'both forecasts subscribers connected' });
    expect(results[0]!.detail!.client_id).toBe(`fieldhook-forecasts-a-${process.pid}`);
    expect(results[1]!.detail!.client_id).toBe(`fieldhook-forecasts-b-${process.pid}`);

    const t0 = Math.ceil(Date.now() / H) * H;
    const client = await mqtt.connectAsync(mosquittoUrl, { protocolVersion: 5, clientId: gateway });
    try {
      await client.publishAsync(deviceForecastsTopic(gateway), JSON.stringify({ farm: 'f7', hours: [{ ts: t0 + H, rain_mm: 3 }] }), { qos: 1 });
      await eventually(() => instances.some((f) => f.reader.hours('f7', 'yard', t0, t0 + H).length === 1), { what: 'the forecast stored by one instance' });
    } finally {
      await client.endAsync();
    }
  });
});
