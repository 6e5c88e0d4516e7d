/**
 * The forecasts component's own schedule on a manual clock: hours older than FORECAST_KEEP_MS are
 * removed whether or not Open-Meteo is pulled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildForecasts, PRUNE_INTERVAL_MS, type Forecasts } from '../../../services/forecasts/build-forecasts.js';
import { createSqliteForecasts } from '../../../services/forecasts/store.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const H = 3_600_000;
const t0 = Date.parse('2026-07-08T00:00:00Z');
const noDevices = {} as DeviceRepository;
const noBus = () => {
  throw new Error('no bus without MQTT_URL');
};

describe('forecasts component schedule', () => {
  const dirs: string[] = [];
  let forecasts: Forecasts | undefined;
  afterEach(async () => {
    await forecasts?.stop();
    forecasts = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('removes hours older than FORECAST_KEEP_MS on its own timer, without Open-Meteo', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-forecasts-prune-'));
    dirs.push(dir);
    const clock = createManualClock(t0);
    const store = createSqliteForecasts(':memory:');
    forecasts = buildForecasts({ config: { DATA_DIR: dir, FORECAST_KEEP_MS: 2 * H }, logger: silentLogger(), devices: noDevices, bus: noBus, clock, store });
    store.save({ farm: 'f1', issuedAt: t0, source: 'api', hours: [{ ts: t0 + H, rainMm: 1 }, { ts: t0 + 6 * H, rainMm: 2 }] });
    await forecasts.start();
    const kept = () => forecasts!.reader.hours('f1', 'north', 0, t0 + 24 * H).map((h) => h.ts);
    expect(kept()).toEqual([t0 + H, t0 + 6 * H]);
    // t0+H is kept until t0+3H, so it goes at the first hourly round after that.
    await clock.advance(3 * PRUNE_INTERVAL_MS);
    expect(kept()).toEqual([t0 + H, t0 + 6 * H]);
    await clock.advance(PRUNE_INTERVAL_MS);
    expect(kept()).toEqual([t0 + 6 * H]);
    await clock.advance(6 * PRUNE_INTERVAL_MS);
    expect(kept()).toEqual([]);
  });
});
