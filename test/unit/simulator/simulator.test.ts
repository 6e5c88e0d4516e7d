import { describe, expect, it } from 'vitest';
import { CLIMATES } from '../../../services/simulator/climates.js';
import { depletionAhead, hoursToRawAhead, simulateField, trueSoilMoisture } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { createRandom } from '../../../services/simulator/random.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';
import { generateDailyWeather, generateHourlyWeather } from '../../../services/simulator/weather.js';

const population = {
  climates: ['humid', 'semi-arid', 'arid'] as const,
  soils: ['loam', 'sand', 'clay'] as const,
  crops: ['tomato', 'maize-field', 'potato'] as const,
};

describe('seeded random streams', () => {
  it('repeat for a seed and differ across seeds and forks', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(createRandom(8).next()).not.toBe(xs[0]);
    expect(createRandom(7).fork('x').next()).not.toBe(createRandom(7).fork('y').next());
    const r = createRandom('normal');
    const n = Array.from({ length: 20_000 }, () => r.normal(2, 3));
    const mean = n.reduce((s, x) => s + x, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length);
    expect(mean).toBeCloseTo(2, 1);
    expect(sd).toBeCloseTo(3, 1);
  });
});

describe('weather generator', () => {
  const climate = CLIMATES['semi-arid'];
  const daily = generateDailyWeather(climate, '2025-06-01', 60, createRandom('w'));
  const hourly = generateHourlyWeather(climate, daily, createRandom('h'));

  it('has a diurnal cycle: warm afternoons, humid dawns, dark nights', () => {
    const byHour = (pick: (h: (typeof hourly)[number]) => number, hour: number) => {
      const xs = hourly.filter((h) => h.hour === hour).map(pick);
      return xs.reduce((s, x) => s + x, 0) / xs.length;
    };
    expect(byHour((h) => h.temperatureC, 15)).toBeGreaterThan(byHour((h) => h.temperatureC, 5) + 6);
    expect(byHour((h) => h.rhPct, 5)).toBeGreaterThan(byHour((h) => h.rhPct, 15) + 15);
    expect(byHour((h) => h.solarRadiationMj, 1)).toBe(0);
    expect(byHour((h) => h.solarRadiationMj, 12)).toBeGreaterThan(2);
    for (const h of hourly) {
      expect(h.rhPct).toBeLessThanOrEqual(100);
      expect(h.windMs).toBeGreaterThan(0);
    }
  });

  it('puts each day\'s rain into its hours, as events', () => {
    const dailyRain = daily.reduce((s, d) => s + d.rainMm, 0);
    const hourlyRain = hourly.reduce((s, h) => s + h.rainMm, 0);
    expect(hourlyRain).toBeCloseTo(dailyRain, 6);
    expect(daily.some((d) => d.rainMm > 0)).toBe(true);
    expect(hourly.filter((h) => h.rainMm > 0).length).toBeLessThan(hourly.length / 4);
  });

  it('makes arid climates drier than humid ones', () => {
    const rain = (name: 'arid' | 'humid') =>
      generateDailyWeather(CLIMATES[name], '2025-01-01', 365, createRandom(`y-${name}`)).reduce((s, d) => s + d.rainMm, 0);
    expect(rain('humid')).toBeGreaterThan(3 * rain('arid'));
  });
});

describe('field simulation (FAO-56 balance as ground truth)', () => {
  const specs = createFieldSpecs({ count: 6, seed: 11, population });

  it('is deterministic for a seed and varies across fields', () => {
    expect(createFieldSpecs({ count: 6, seed: 11, population })).toEqual(specs);
    expect(new Set(specs.map((s) => `${s.climate}/${s.soil}/${s.crop}`)).size).toBeGreaterThan(2);
    const a = simulateField(specs[0]!);
    const b = simulateField(specs[0]!);
    expect(Array.from(a.depletion)).toEqual(Array.from(b.depletion));
  });

  it('keeps depletion within 0–TAW, conserves water hour by hour, and irrigates', () => {
    for (const spec of specs) {
      const run = simulateField(spec);
      let prev = spec.initialDepletionFraction * run.taw;
      let percolated = 0;
      for (let i = 0; i < run.depletion.length; i++) {
        const d = run.depletion[i]!;
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(run.taw + 1e-9);
        // Depletion can only fall by what came in (rain, irrigation).
        expect(prev - d).toBeLessThanOrEqual(run.weather[i]!.rainMm + run.irrigation[i]! + 1e-9);
        percolated += Math.max(0, run.weather[i]!.rainMm + run.irrigation[i]! - prev);
        prev = d;
      }
      expect(run.irrigation.some((x) => x > 0) || percolated > 0).toBe(true);
      expect(trueSoilMoisture(run, 0)).toBeLessThanOrEqual(spec.thetaFc + 1e-9);
    }
  });

  it('forecasts depletion ahead without irrigation from the true future weather', () => {
    const run = simulateField(specs[1]!);
    for (let i = 100; i < run.depletion.length - 48; i += 97) {
      const rain = run.weather.slice(i + 1, i + 25).reduce((s, w) => s + w.rainMm, 0);
      const ahead = depletionAhead(run, i, 24);
      if (rain === 0) expect(ahead).toBeGreaterThanOrEqual(run.depletion[i]!);
      expect(ahead).toBeLessThanOrEqual(run.taw);
    }
  });

  it('finds the hour the no-irrigation depletion reaches RAW, consistent with depletionAhead', () => {
    const run = simulateField(specs[2]!);
    let checked = 0;
    for (let i = 100; i < run.depletion.length - 60; i += 13) {
      const hours = hoursToRawAhead(run, i, 48);
      if (run.depletion[i]! >= run.raw) expect(hours).toBe(0);
      else if (hours === null) expect(depletionAhead(run, i, 48)).toBeLessThan(run.raw);
      else {
        expect(depletionAhead(run, i, Math.floor(hours))).toBeLessThan(run.raw);
        expect(depletionAhead(run, i, Math.ceil(hours))).toBeGreaterThanOrEqual(run.raw - 1e-9);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('sensor readings', () => {
  const spec = createFieldSpecs({ count: 1, seed: 5, population: { ...population, climates: ['humid'] } })[0]!;
  const run = simulateField(spec);
  const readings = sensorReadings(run);

  it('uses the canonical quantities of DESIGN.md within their plausible ranges', () => {
    const ranges: Record<string, [number, number]> = {
      soil_moisture: [0, 0.7],
      air_temperature: [-50, 60],
      relative_humidity: [0, 100],
      wind_speed: [0, 75],
      solar_radiation: [0, 1500],
      rainfall: [0, 500],
      battery_voltage: [0, 60],
      rssi: [-150, 0],
    };
    for (const r of readings) {
      expect(r.device).toBe(spec.deviceId);
      expect(Number.isNaN(Date.parse(r.ts))).toBe(false);
      for (const [name, value] of Object.entries(r.values)) {
        const range = ranges[name];
        expect(range, name).toBeDefined();
        expect(value).toBeGreaterThanOrEqual(range![0]);
        expect(value).toBeLessThanOrEqual(range![1]);
      }
    }
  });

  it('has gaps, noise around the truth, and a rain gauge that keeps the total', () => {
    expect(readings.length).toBeLessThan(run.weather.length);
    expect(readings.length).toBeGreaterThan(run.weather.length * 0.8);
    const hourMs = 3_600_000;
    const start = run.weather[0]!.ts;
    const errors = readings
      .filter((r) => r.values.soil_moisture !== undefined)
      .map((r) => {
        const i = (Date.parse(r.ts) - start) / hourMs - 1;
        return r.values.soil_moisture! - trueSoilMoisture(run, i);
      });
    const meanAbs = errors.reduce((s, e) => s + Math.abs(e), 0) / errors.length;
    expect(meanAbs).toBeGreaterThan(0.0003);
    expect(meanAbs).toBeLessThan(0.02);
    const gauge = readings.reduce((s, r) => s + (r.values.rainfall ?? 0), 0);
    const truth = run.weather.reduce((s, w) => s + w.rainMm, 0);
    // Lost readings lose their tips; the rest is quantised to 0.2 mm.
    expect(gauge).toBeLessThanOrEqual(truth + 0.2);
    expect(gauge).toBeGreaterThan(truth * 0.7);
  });
});
