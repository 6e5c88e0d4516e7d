import { createSqliteFieldProfiles, openPredictorDb } from '../../services/predictor/sqlite-predictor-store.js';
import type { WindowReading } from '../../services/predictor/window-store.js';
import { simulateField } from '../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../services/simulator/fields.js';
import { sensorReadings } from '../../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../../services/training/dataset.js';

/**
 * A simulated held-out field `f/a`, configured in a predictor database in memory, with its hourly
 * readings from hour `from` to hour `to` of its season.
 */
export async function simulatedField(seed: string, from: number, to: number) {
  const [spec] = createFieldSpecs({ count: 1, seed, population: POPULATIONS.heldOut });
  const readings: WindowReading[] = sensorReadings(simulateField(spec!)).slice(from, to).map((r) => ({ ts: Date.parse(r.ts), values: r.values }));
  const p = profileFromSpec(spec!);
  const db = openPredictorDb(':memory:');
  const fields = createSqliteFieldProfiles(db);
  await fields.add({
    farm: 'f', field: 'a', crop: spec!.crop, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc, thetaWp: spec!.thetaWp, efficiency: 0.9,
    latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg, elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg,
  });
  return { spec: spec!, p, readings, db, fields };
}
