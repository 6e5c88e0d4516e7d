import { soilMoistureFromDepletion } from '../agronomy/index.js';
import type { FieldRun } from './field-run.js';
import { createRandom } from './random.js';

/** A reading in the native format of the ingest API (canonical quantities and units). */
export interface NativeReading {
  device: string;
  /** The device's message id: the de-duplication key together with `device`. */
  id: string;
  /** Device time, ISO 8601 UTC. */
  ts: string;
  values: Partial<Record<ReadingQuantity, number>>;
}

export type ReadingQuantity =
  | 'soil_moisture'
  | 'air_temperature'
  | 'relative_humidity'
  | 'wind_speed'
  | 'solar_radiation'
  | 'rainfall'
  | 'battery_voltage'
  | 'rssi';

const HOUR_MS = 3_600_000;
/** MJ m-2 per hour to a mean flux in W/m2. */
const MJ_PER_HOUR_TO_W = 1e6 / 3600;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * What the field's sensor node reports: one reading at the end of each hour with the soil
 * moisture at that moment and the weather of the hour that just ended. Soil moisture carries
 * noise and a slow calibration drift; the weather station has its own small errors; the rain
 * gauge tips in 0.2 mm steps; readings go missing singly and in outages.
 */
export function sensorReadings(run: FieldRun): NativeReading[] {
  const { spec } = run;
  const random = createRandom(`${spec.seed}/sensor`);
  const n = run.weather.length;
  const lost = new Uint8Array(n);
  for (let k = 0; k < spec.sensor.outages; k++) {
    const start = random.int(0, Math.max(0, n - 1));
    const length = random.int(2, 36);
    for (let i = start; i < Math.min(n, start + length); i++) lost[i] = 1;
  }
  const windFactor = Math.log(67.8 * spec.sensor.windHeightM - 5.42) / 4.87; // inverse of FAO-56 Eq. 47
  let bucketRemainder = 0;
  let battery = random.uniform(3.9, 4.2);
  const out: NativeReading[] = [];
  for (let i = 0; i < n; i++) {
    const w = run.weather[i]!;
    // The gauge keeps what it has not tipped yet: totals stay right, timing is quantised.
    bucketRemainder += w.rainMm;
    const tipped = Math.floor(bucketRemainder / 0.2 + 1e-9) * 0.2;
    bucketRemainder -= tipped;
    battery = Math.max(3.3, battery - 0.00015 + (w.solarRadiationMj > 1 ? 0.0012 : 0));
    if (lost[i] || random.chance(spec.sensor.gapProbability)) continue;
    const days = (i + 1) / 24;
    const theta =
      soilMoistureFromDepletion(spec.thetaFc, run.depletion[i]!, spec.rootDepthM) +
      spec.sensor.driftPerDay * days +
      random.normal(0, spec.sensor.noiseSd);
    const values: NativeReading['values'] = {
      air_temperature: round(w.temperatureC + random.normal(0, 0.2), 2),
      relative_humidity: round(Math.min(100, Math.max(0, w.rhPct + random.normal(0, 2))), 1),
      wind_speed: round(Math.max(0, w.windMs * windFactor * (1 + random.normal(0, 0.04))), 2),
      solar_radiation: round(Math.max(0, w.solarRadiationMj * MJ_PER_HOUR_TO_W * (1 + random.normal(0, 0.03))), 1),
      rainfall: round(tipped, 1),
      battery_voltage: round(battery, 3),
      rssi: Math.round(random.normal(-95, 8)),
    };
    // The soil probe occasionally fails on its own while the weather station still reports.
    if (!random.chance(0.01)) values.soil_moisture = round(Math.min(0.7, Math.max(0, theta)), 4);
    const ts = w.ts + HOUR_MS;
    out.push({ device: spec.deviceId, id: `${spec.deviceId}-${ts}`, ts: new Date(ts).toISOString(), values });
  }
  return out;
}
