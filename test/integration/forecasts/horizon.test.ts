/**
 * The forecast horizon on both ways in: `POST /v1/forecasts` and a gateway's forecasts topic
 * (the handler the broker hands a gateway's message to) refuse an hour that ends more than 16
 * days ahead of fieldhook's clock with FH_ERR_FORECAST_BEYOND_HORIZON, and store nothing of
 * that forecast; up to the horizon, and in the past, hours are taken.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildForecasts, type Forecasts } from '../../../services/forecasts/build-forecasts.js';
import { buildHostApp } from '../../../services/host/http-app.js';
import type { DeviceWithSecret } from '../../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const ADMIN = 'horizon-admin-token-0123456789';
const H = 3_600_000;
const DAY = 24 * H;
const t0 = Date.parse('2026-07-08T00:00:00Z');

describe('forecast horizon: hours at most 16 days ahead', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-forecast-horizon-'));
  const devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
  const clock = createManualClock(t0);
  let gateway: DeviceWithSecret;
  let forecasts: Forecasts;
  let app: FastifyInstance;

  beforeAll(async () => {
    gateway = await devices.add({ id: 'gw-1', farm: 'f1', field: 'yard', kind: 'gateway' });
    forecasts = buildForecasts({ config: { DATA_DIR: dir, ADMIN_TOKEN: ADMIN }, logger: silentLogger(), devices, bus: () => { throw new Error('no broker'); }, clock });
    app = buildHostApp([forecasts], { logger: silentLogger() });
    await forecasts.start();
  });
  afterAll(async () => {
    await app?.close();
    await forecasts?.stop();
    devices.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown) =>
    app.inject({ method: 'POST', url: '/v1/forecasts', headers: { authorization: `Bearer ${ADMIN}` }, payload: body as Record<string, unknown> });
  const stored = (field: string) => forecasts.reader.hours('f1', field, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

  it('refuses POST /v1/forecasts with an hour beyond the horizon, naming it, and stores none of its hours', async () => {
    const res = await post({ farm: 'f1', field: 'far', hours: [{ ts: t0 + H, rain_mm: 1 }, { ts: t0 + 16 * DAY + H, rain_mm: 50 }] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FH_ERR_FORECAST_BEYOND_HORIZON', field: 'hours[1].ts' });
    expect(await post({ farm: 'f1', field: 'far', hours: [{ ts: '2100-01-01T00:00:00Z', rain_mm: 50 }] })).toMatchObject({ statusCode: 400 });
    expect(stored('far')).toEqual([]);
  });

  it('takes hours up to 16 days ahead, and hours in the past', async () => {
    const res = await post({ farm: 'f1', field: 'near', hours: [{ ts: t0 - 2 * DAY, rain_mm: 3 }, { ts: t0 + 16 * DAY, rain_mm: 2 }] });
    expect([res.statusCode, res.json()]).toEqual([201, { farm: 'f1', field: 'near', hours: 2, stored: 2 }]);
    expect(stored('near').map((h) => h.ts)).toEqual([t0 - 2 * DAY, t0 + 16 * DAY]);
  });

  it('measures the horizon from the clock of the moment: the same hour is taken once time has moved on', async () => {
    const hour = t0 + 17 * DAY;
    expect((await post({ farm: 'f1', field: 'later', hours: [{ ts: hour }] })).statusCode).toBe(400);
    await clock.advance(DAY);
    expect((await post({ farm: 'f1', field: 'later', hours: [{ ts: hour }] })).statusCode).toBe(201);
  });

  it("refuses a gateway's forecast message beyond the horizon on its errors topic, and acknowledges it (a redelivery would not help)", async () => {
    const message = (ts: number) => Buffer.from(JSON.stringify({ farm: 'f1', field: 'mqtt', hours: [{ ts, rain_mm: 4 }] }));
    const refused = await forecasts.deviceTopic.handle(gateway, message(clock.now() + 20 * DAY));
    expect(refused).toEqual([{ code: 'FH_ERR_FORECAST_BEYOND_HORIZON', message: expect.stringContaining('16 days'), field: expect.stringMatching(/^hours\[\d+\]\.ts$/) }]);
    expect(stored('mqtt')).toEqual([]);
    expect(await forecasts.deviceTopic.handle(gateway, message(clock.now() + 15 * DAY))).toEqual([]);
    expect(stored('mqtt')).toHaveLength(1);
  });
});
