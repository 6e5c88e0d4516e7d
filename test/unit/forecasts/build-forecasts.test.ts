/**
 * The forecasts component's own schedule on a manual clock: hours older than FORECAST_KEEP_MS are
 * removed whether or not Open-Meteo is pulled, and a pull that fails is logged, never an unhandled
 * rejection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { buildForecasts, FIRST_PULL_DELAY_MS, PRUNE_INTERVAL_MS, type Forecasts } from '../../../services/forecasts/build-forecasts.js';
import { createSqliteForecasts } from '../../../services/forecasts/store.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { createLogger, silentLogger } from '../../../services/shared/logger.js';
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

  it('logs a pull that fails (the fields cannot be read) and pulls again at the next interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-forecasts-pull-'));
    dirs.push(dir);
    const lines: { level: number; msg: string }[] = [];
    const logger = createLogger({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const clock = createManualClock(t0);
      let asked = 0;
      forecasts = buildForecasts({
        config: { DATA_DIR: dir, FORECAST_OPEN_METEO_URL: 'http://127.0.0.1:9', FORECAST_PULL_INTERVAL_MS: H },
        logger, devices: noDevices, bus: noBus, clock, store: createSqliteForecasts(':memory:'),
        sites: async () => {
          asked++;
          throw new Error('fields not loaded');
        },
      });
      await forecasts.start();
      await clock.advance(FIRST_PULL_DELAY_MS);
      await new Promise((resolve) => setImmediate(resolve));
      expect(asked).toBe(1);
      expect(lines.filter((l) => l.msg === 'forecast pull failed')).toHaveLength(1);
      await clock.advance(H);
      await new Promise((resolve) => setImmediate(resolve));
      expect(asked).toBe(2);
      expect(lines.filter((l) => l.msg === 'forecast pull failed')).toHaveLength(2);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
