import { describe, expect, it } from 'vitest';
import { parseReading } from '../../../services/ingestor/reading.js';
import { buildQuantityTable } from '../../../services/shared/quantities.js';
import { simulateField, trueSoilMoisture } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';

const population = {
  climates: ['humid', 'semi-arid', 'arid'] as const,
  soils: ['loam', 'sand', 'clay'] as const,
  crops: ['tomato', 'maize-field', 'potato'] as const,
};

describe('sensor readings', () => {
  const spec = createFieldSpecs({ count: 1, seed: 5, population: { ...population, climates: ['humid'] } })[0]!;
  const run = simulateField(spec);
  const readings = sensorReadings(run);

  it('uses the canonical quantities within their plausible ranges', () => {
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

// Contract with the ingestor: everything the simulator sends is a valid native reading.
describe('simulated readings against the ingestor\'s reading rules', () => {
  it('are all accepted as native readings', () => {
    const specs = createFieldSpecs({
      count: 3,
      seed: 'contract',
      population: { climates: ['arid', 'humid', 'continental'], soils: ['sand', 'clay'], crops: ['onion', 'cotton'] },
    });
    const rules = { quantities: buildQuantityTable(), maxFutureMs: 60_000, maxAgeMs: 365 * 86_400_000 };
    for (const spec of specs) {
      const readings = sensorReadings(simulateField(spec));
      const now = Date.parse(readings.at(-1)!.ts) + 1000;
      for (const reading of readings) {
        const result = parseReading(reading, rules, now);
        expect(result.ok ? 'ok' : `${result.code}: ${result.message}`).toBe('ok');
      }
    }
  });
});
