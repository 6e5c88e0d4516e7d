/**
 * Valve controllers on an external broker (Mosquitto): the irrigations component consumes their
 * topic itself, acknowledges a report once it is stored, and publishes refusals on the device's
 * errors topic; stored records go out on the field's irrigations topic for the predictor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildIrrigations, type Irrigations } from '../../../services/irrigations/build-irrigations.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { parseIrrigationBatch } from '../../../services/shared/bus/payloads.js';
import { deviceErrorsTopic, deviceIrrigationsTopic, fieldIrrigationsTopic } from '../../../services/shared/bus/topics.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

describe(`valve controllers on an external broker (Mosquitto, InfluxDB ${influx.kind})`, () => {
  const mosquittoUrl = inject('mosquittoUrl');
  const database = `irrigations_mosquitto_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fh-irrigations-mqtt-'));
  const device = `valve-${process.pid}`;
  let devices: DeviceRepository;
  let irrigations: Irrigations;

  beforeAll(async () => {
    await influx.createDatabase(database);
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    await devices.add({ id: device, farm: 'f9', field: 'orchard', kind: 'device' });
    irrigations = buildIrrigations({
      config: { DATA_DIR: dir, MQTT_URL: mosquittoUrl },
      logger: silentLogger(),
      devices,
      influx: influx.target(database),
      bus: () => ({ url: mosquittoUrl, protocolVersion: 5, sharedSubscriptions: true }),
    });
    await irrigations.start();
  });

  afterAll(async () => {
    await irrigations?.stop();
    devices?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a report, passes the record on to the field\'s topic, and refuses a bad one on the errors topic', async () => {
    const watcher = await mqtt.connectAsync(mosquittoUrl, { protocolVersion: 5, clientId: `watcher-${process.pid}` });
    const valve = await mqtt.connectAsync(mosquittoUrl, { protocolVersion: 5, clientId: device });
    try {
      const onField: unknown[] = [];
      const refusals: unknown[] = [];
      watcher.on('message', (topic, payload) => {
        if (topic === deviceErrorsTopic(device)) refusals.push(JSON.parse(payload.toString()));
        else onField.push(...parseIrrigationBatch(payload));
      });
      await watcher.subscribeAsync([fieldIrrigationsTopic('f9', 'orchard'), deviceErrorsTopic(device)], { qos: 1 });
      await valve.publishAsync(deviceIrrigationsTopic(device), JSON.stringify({ id: 'run-1', depth_mm: 9.5, end: '2026-07-07T05:00:00Z' }), { qos: 1 });
      const [record] = await eventually(async () => {
        const list = await irrigations.service.list({ farm: 'f9' });
        return list.length ? list : undefined;
      }, { what: 'the stored report' });
      expect(record).toMatchObject({ farm: 'f9', field: 'orchard', depth_mm: 9.5, source: 'mqtt', who: `device:${device}` });
      await eventually(() => onField.length === 1, { what: 'the record on the field topic' });
      expect(onField[0]).toEqual({ id: record!.id, farm: 'f9', field: 'orchard', depth_mm: 9.5, start: record!.start, end: record!.end, source: 'mqtt', who: `device:${device}` });
      await valve.publishAsync(deviceIrrigationsTopic(device), JSON.stringify({ depth_mm: 'lots' }), { qos: 1 });
      const refused = await eventually(() => refusals[0], { what: 'the refusal' });
      expect(refused).toEqual({ refused: [{ code: 'FH_ERR_IRRIGATION_INVALID', message: expect.any(String), field: 'depth_mm' }] });
    } finally {
      await valve.endAsync();
      await watcher.endAsync();
    }
  });
});
