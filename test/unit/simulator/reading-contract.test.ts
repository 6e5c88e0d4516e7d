import { describe, expect, it } from 'vitest';
import { parseReading } from '../../../services/ingestor/reading.js';
import { buildQuantityTable } from '../../../services/shared/quantities.js';
import { simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';

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
