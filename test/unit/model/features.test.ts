import { describe, expect, it } from 'vitest';
import { profileFromSpec, samplesOfField } from '../../../services/training/dataset.js';
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  buildObservationSeries,
  computeFeatures,
  featuresFromReadings,
  profileOnDay,
} from '../../../services/model/features.js';
import { simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';

const HOUR_MS = 3_600_000;
const spec = createFieldSpecs({
  count: 1,
  seed: 3,
  population: { climates: ['semi-arid'], soils: ['loam'], crops: ['tomato'] },
})[0]!;
const run = simulateField(spec);
const profile = profileFromSpec(spec);
const readings = sensorReadings(run);
const first = run.weather[0]!.ts;
const series = buildObservationSeries(profile, readings, first, first + run.weather.length * HOUR_MS);
const f = (row: Float64Array, name: (typeof FEATURE_NAMES)[number]) => row[FEATURE_NAMES.indexOf(name)]!;

describe('irrigation model features', () => {
  it('names every column once', () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_COUNT);
  });

  it('gives the same vector from a 72 h window of readings (prediction) as from the whole season (training)', () => {
    for (const hour of [80, 500, 1500, 2500]) {
      const at = first + hour * HOUR_MS;
      const fromSeason = computeFeatures(profile, series, at);
      const fromWindow = featuresFromReadings(profile, readings, at + 17 * 60_000); // rounded down to the hour
      expect('features' in fromSeason && 'features' in fromWindow).toBe(true);
      if ('features' in fromSeason && 'features' in fromWindow) {
        expect(Array.from(fromWindow.features)).toEqual(Array.from(fromSeason.features));
      }
    }
  });

  it('tracks the truth: depletion near the FAO-56 state, ET0 near the true ET0', () => {
    let depletionError = 0;
    let et0Error = 0;
    let n = 0;
    for (let i = 100; i < run.weather.length - 1; i += 24) {
      const r = computeFeatures(profile, series, first + (i + 1) * HOUR_MS);
      if (!('features' in r)) continue;
      depletionError += Math.abs(f(r.features, 'depletion_smoothed_mm') - run.depletion[i]!);
      const trueEt0 = run.et0.slice(i - 23, i + 1).reduce((s, x) => s + x, 0);
      et0Error += Math.abs(f(r.features, 'et0_24h_mm') - trueEt0) / trueEt0;
      n++;
    }
    expect(n).toBeGreaterThan(50);
    expect(depletionError / n).toBeLessThan(4);
    expect(et0Error / n).toBeLessThan(0.1);
  });

  it('reports a gap instead of features when soil moisture is stale or history short', () => {
    const at = first + 1000 * HOUR_MS;
    const noSoil = readings
      .filter((r) => Date.parse(r.ts) <= at - 13 * HOUR_MS || Date.parse(r.ts) > at)
      .concat(readings.filter((r) => Date.parse(r.ts) > at - 13 * HOUR_MS && Date.parse(r.ts) <= at).map((r) => ({ ...r, values: { ...r.values, soil_moisture: undefined } })));
    expect(featuresFromReadings(profile, noSoil, at)).toEqual({ gap: 'no-recent-soil-moisture' });
    expect(computeFeatures(profile, series, first + 10 * HOUR_MS)).toEqual({ gap: 'short-history' });
    // Weather for only the last 5 h (a station installed today): the day's ET0 is mostly unknown.
    const weatherless = readings.map((r) => {
      const ts = Date.parse(r.ts);
      if (ts > at - 5 * HOUR_MS) return r;
      const { soil_moisture, rainfall } = r.values;
      return { ...r, values: { ...(soil_moisture !== undefined ? { soil_moisture } : {}), ...(rainfall !== undefined ? { rainfall } : {}) } };
    });
    expect(featuresFromReadings(profile, weatherless, at)).toEqual({ gap: 'et0-unknown' });
    // With 20 h of it, what is known stands for the day.
    const recent = readings.map((r) => (Date.parse(r.ts) > at - 20 * HOUR_MS ? r : { ...r, values: { soil_moisture: r.values.soil_moisture } }));
    expect(featuresFromReadings(profile, recent, at)).toHaveProperty('features');
  });

  it('never smooths depletion below field capacity: a downpour carried forward fills the root zone, no more', () => {
    const at = first + 1000 * HOUR_MS;
    const downpour = { device: readings[0]!.device, id: 'downpour', ts: new Date(at - 3 * HOUR_MS).toISOString(), values: { rainfall: 400 } };
    const r = featuresFromReadings(profile, [...readings, downpour], at);
    if (!('features' in r)) throw new Error('no features');
    expect(f(r.features, 'depletion_smoothed_mm')).toBeGreaterThanOrEqual(0);
  });

  it('builds training samples with targets from the no-irrigation truth', () => {
    const samples = samplesOfField(run);
    expect(samples.length).toBeGreaterThan(400);
    for (const s of samples) {
      expect(s.features).toHaveLength(FEATURE_COUNT);
      expect(s.depletion24h).toBeGreaterThanOrEqual(0);
      expect(s.depletion48h).toBeLessThanOrEqual(s.taw + 1e-9);
      expect(f(s.features, 'taw_mm')).toBeCloseTo(s.taw, 9);
    }
  });

  it('with a minimum root depth, every feature uses the day\'s root zone (TAW and RAW grow with the roots)', () => {
    const growing = { ...profile, rootDepthMinM: 0.2 };
    const [ini, dev] = profile.crop.stageDays;
    const sowing = Date.parse(`${profile.sowingDate}T00:00:00Z`) - (profile.tzLongitudeDeg / 15) * HOUR_MS;
    expect(profileOnDay(growing, sowing + 2 * 86_400_000).rootDepthM).toBe(0.2);
    expect(profileOnDay(growing, sowing + (ini + dev / 2) * 86_400_000).rootDepthM).toBeCloseTo((0.2 + profile.rootDepthM) / 2, 9);
    expect(profileOnDay(profile, sowing)).toBe(profile); // fixed depth: the same object
    const at = sowing + (ini + dev / 4) * 86_400_000;
    const end = Math.floor(at / HOUR_MS) * HOUR_MS;
    const fixed = featuresFromReadings(profile, readings, end);
    const grown = featuresFromReadings(growing, readings, end);
    if (!('features' in fixed) || !('features' in grown)) throw new Error('no features');
    const zr = profileOnDay(growing, end).rootDepthM;
    expect(f(grown.features, 'root_depth_m')).toBeCloseTo(zr, 9);
    expect(f(grown.features, 'taw_mm')).toBeCloseTo((f(fixed.features, 'taw_mm') * zr) / profile.rootDepthM, 6);
    expect(f(grown.features, 'raw_mm')).toBeLessThan(f(fixed.features, 'raw_mm'));
  });

  describe('ET0 from the station as it is', () => {
    const at = first + 1200 * HOUR_MS;
    const window = readings.filter((r) => Date.parse(r.ts) > at - 73 * HOUR_MS && Date.parse(r.ts) <= at);
    const only = (keep: string[], extra: (r: (typeof readings)[number]) => Record<string, number> = () => ({})) =>
      window.map((r) => ({ ts: r.ts, values: { ...Object.fromEntries(keep.map((q) => [q, (r.values as Record<string, number | undefined>)[q]])), ...extra(r) } }));
    const full = featuresFromReadings(profile, window, at);
    // Hours of the last 24 with a reading (the simulated sensor has gaps): the rest have no ET0.
    const present = new Set(window.filter((r) => Date.parse(r.ts) > at - 24 * HOUR_MS).map((r) => Math.ceil(Date.parse(r.ts) / HOUR_MS))).size;

    it('with complete weather: Penman-Monteith for every hour, nothing missing', () => {
      if (!('features' in full)) throw new Error('no features');
      expect(present).toBeGreaterThan(20);
      expect(full.et0).toEqual({ method: 'penman-monteith', hours: { station: 0, 'penman-monteith': present, hargreaves: 0, none: 24 - present }, missing: [] });
    });

    it('with soil moisture, temperature and rain only: Hargreaves, close to Penman-Monteith, and says what was missing', () => {
      const degraded = featuresFromReadings(profile, only(['soil_moisture', 'air_temperature', 'rainfall']), at);
      if (!('features' in degraded) || !('features' in full)) throw new Error('no features');
      expect(degraded.et0).toEqual({
        method: 'hargreaves',
        hours: { station: 0, 'penman-monteith': 0, hargreaves: present, none: 24 - present },
        missing: ['relative_humidity', 'wind_speed', 'solar_radiation'],
      });
      expect(degraded.features.every(Number.isFinite)).toBe(true);
      expect(f(degraded.features, 'weather_coverage_72h')).toBeGreaterThan(0.9);
      // Hargreaves is a daily method; over a day it lands within about a third of Penman-Monteith here.
      const ratio = f(degraded.features, 'et0_24h_mm') / f(full.features, 'et0_24h_mm');
      expect(ratio).toBeGreaterThan(0.66);
      expect(ratio).toBeLessThan(1.5);
    });

    it('a station\'s own et0 (mm since its previous reading) wins over computing it', () => {
      const station = featuresFromReadings(profile, only(['soil_moisture', 'rainfall'], () => ({ et0: 0.25 })), at);
      if (!('features' in station)) throw new Error('no features');
      expect(station.et0.method).toBe('station');
      expect(station.et0.hours.station).toBe(present);
      // Hours without a reading are filled with the day's mean, as for every ET0 source.
      expect(f(station.features, 'et0_24h_mm')).toBeCloseTo(0.25 * 24, 6);
    });

    describe('a station reporting its ET0 as a total over several hours', () => {
      const iso = (ts: number) => new Date(ts).toISOString();
      /** Soil moisture and rain of the 72 h before `end`, and `et0` reports of `mm` at the given hours before `end`. */
      const withReports = (end: number, hoursBefore: number[], mm: (h: number) => number, keep = ['soil_moisture', 'rainfall']) => [
        ...readings
          .filter((r) => Date.parse(r.ts) > end - 73 * HOUR_MS && Date.parse(r.ts) <= end)
          .map((r) => ({ ts: r.ts, values: Object.fromEntries(keep.map((q) => [q, (r.values as Record<string, number | undefined>)[q]])) })),
        ...hoursBefore.map((h) => ({ ts: iso(end - h * HOUR_MS), values: { et0: mm(h) } })),
      ];
      const features = (end: number, rows: Parameters<typeof featuresFromReadings>[1]) => {
        const r = featuresFromReadings(profile, rows, end);
        if (!('features' in r)) throw new Error(`no features: ${JSON.stringify(r)}`);
        return r;
      };

      it('a daily total covers the day before it, not the hour it arrives in, and wins over Hargreaves there', () => {
        const daily = { 0: 5, 24: 4, 48: 6 } as Record<number, number>;
        for (const keep of [['soil_moisture', 'rainfall'], ['soil_moisture', 'rainfall', 'air_temperature']]) {
          const r = features(at, withReports(at, [0, 24, 48], (h) => daily[h]!, keep));
          expect(f(r.features, 'et0_24h_mm')).toBeCloseTo(5, 9);
          expect(f(r.features, 'et0_72h_mm')).toBeCloseTo(15, 9);
          expect(r.et0.hours).toEqual({ station: 24, 'penman-monteith': 0, hargreaves: 0, none: 0 });
        }
      });

      it('the hours after the newest report take its rate until the next one is due', () => {
        const end = at + 6 * HOUR_MS;
        const r = features(end, withReports(end, [6, 30, 54], () => 4.8));
        expect(f(r.features, 'et0_24h_mm')).toBeCloseTo(4.8, 9);
        expect(r.et0.hours).toEqual({ station: 24, 'penman-monteith': 0, hargreaves: 0, none: 0 });
        // Past the period the report covers, the hours are unknown again: the station went quiet.
        const late = features(at + 30 * HOUR_MS, withReports(at + 30 * HOUR_MS, [30, 54], () => 4.8));
        expect(late.et0.hours.none).toBe(7);
      });

      it('whatever the hour a daily station reports at, its days add up: the first report of the window is not squeezed into it', () => {
        for (let offset = 0; offset < 24; offset++) {
          const r = features(at, withReports(at, [offset, offset + 24, offset + 48], () => 5));
          expect(f(r.features, 'et0_72h_mm'), `reports ${offset} h before`).toBeCloseTo(15, 9);
          expect(f(r.features, 'et0_24h_mm'), `reports ${offset} h before`).toBeCloseTo(5, 9);
        }
      });

      it("a daily station's lost report (two reports two days apart) leaves a day unknown, not the next report spread over two", () => {
        const r = features(at, withReports(at, [0, 48], () => 5));
        expect(f(r.features, 'et0_24h_mm')).toBeCloseTo(5, 9);
        expect(r.et0.hours).toEqual({ station: 24, 'penman-monteith': 0, hargreaves: 0, none: 0 });
      });

      it("a lost report leaves its hours unknown: the period is the station's usual one, not the gap", () => {
        const sixHourly = [0, 6, 18, 24, 30, 36, 42, 48, 54, 60, 66];
        const r = features(at, withReports(at, sixHourly, () => 1.2));
        expect(r.et0.hours).toEqual({ station: 18, 'penman-monteith': 0, hargreaves: 0, none: 6 });
        // The unknown hours are filled with the day's mean, as for every source.
        expect(f(r.features, 'et0_24h_mm')).toBeCloseTo(4.8, 9);
      });
    });

    it('without any ET0 source the day\'s ET0 is unknown: a gap, not a day without evapotranspiration', () => {
      expect(featuresFromReadings(profile, only(['soil_moisture', 'rainfall']), at)).toEqual({ gap: 'et0-unknown' });
    });
  });
  describe('the weather ahead and the water applied', () => {
    const at = first + 1200 * HOUR_MS;
    const window = readings.filter((r) => Date.parse(r.ts) > at - 73 * HOUR_MS && Date.parse(r.ts) <= at);
    const day = (perHour: (k: number) => { rainMm?: number; et0Mm?: number }, hours = 24) =>
      Array.from({ length: hours }, (_, k) => ({ ts: at + (k + 1) * HOUR_MS, ...perHour(k) }));
    const features = (context?: Parameters<typeof featuresFromReadings>[3]) => {
      const r = featuresFromReadings(profile, window, at, context);
      if (!('features' in r)) throw new Error('no features');
      return r.features;
    };
    const none = features();

    it('without a forecast the forecast columns fall back to the past day, and say so', () => {
      expect(f(none, 'forecast_available')).toBe(0);
      expect(f(none, 'forecast_rain_24h_mm')).toBe(0);
      expect(f(none, 'forecast_et0_24h_mm')).toBe(f(none, 'et0_24h_mm'));
      expect(f(none, 'forecast_depletion_24h_mm')).toBe(f(none, 'fao_depletion_24h_mm'));
      expect(f(none, 'applied_water_24h_mm')).toBe(0);
      // A forecast of a few hours only, or one whose hours have passed, is no forecast.
      expect(Array.from(features({ forecast: day(() => ({ rainMm: 5 }), 6) }))).toEqual(Array.from(none));
      expect(Array.from(features({ forecast: day(() => ({ rainMm: 5 })).map((h) => ({ ...h, ts: h.ts - 48 * HOUR_MS })) }))).toEqual(Array.from(none));
      // Hours that do not say how much rain are not hours of no rain: no rain forecast.
      expect(Array.from(features({ forecast: day((k) => (k < 10 ? { rainMm: 0 } : {})) }))).toEqual(Array.from(none));
    });

    it('a forecast of rain lowers the balance ahead; its ET0 replaces the past day\'s; the readings\' columns stay', () => {
      const wet = features({ forecast: day(() => ({ rainMm: 1, et0Mm: 0.2 })) });
      expect(f(wet, 'forecast_available')).toBe(1);
      expect(f(wet, 'forecast_rain_24h_mm')).toBeCloseTo(24, 9);
      expect(f(wet, 'forecast_et0_24h_mm')).toBeCloseTo(4.8, 9);
      expect(f(wet, 'forecast_depletion_24h_mm')).toBeLessThan(f(none, 'fao_depletion_24h_mm'));
      FEATURE_NAMES.filter((n) => !n.startsWith('forecast_')).forEach((n) => expect(f(wet, n)).toBe(f(none, n)));
      // Probability weighs the rain; a forecast without ET0 keeps the past day's.
      const maybe = features({ forecast: day(() => ({ rainMm: 1, rainProbability: 0.5 })) });
      expect(f(maybe, 'forecast_rain_24h_mm')).toBeCloseTo(12, 9);
      expect(f(maybe, 'forecast_et0_24h_mm')).toBe(f(none, 'et0_24h_mm'));
      // A forecast of 18 hours: its rain as it says (a storm hour is not scaled to the day), its ET0
      // over the day at the listed hours' mean.
      const short = features({ forecast: day((k) => ({ rainMm: k === 0 ? 3 : 0, et0Mm: 0.05 }), 18) });
      expect(f(short, 'forecast_available')).toBe(1);
      expect(f(short, 'forecast_rain_24h_mm')).toBe(3);
      expect(f(short, 'forecast_et0_24h_mm')).toBeCloseTo(1.2, 9);
    });

    it('counts the water recorded over the last 24 h, a record straddling the window in proportion', () => {
      const applied = [
        { startTs: at - 30 * HOUR_MS, endTs: at - 26 * HOUR_MS, depthMm: 40 }, // before the window
        { startTs: at - 25 * HOUR_MS, endTs: at - 23 * HOUR_MS, depthMm: 10 }, // half inside
        { startTs: at - 5 * HOUR_MS, endTs: at - 4 * HOUR_MS, depthMm: 20 },
      ];
      expect(f(features({ applied }), 'applied_water_24h_mm')).toBeCloseTo(25, 9);
    });
  });
});
