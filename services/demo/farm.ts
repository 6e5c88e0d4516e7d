/**
 * The demo farm: six fields of different climates, soils and crops, drawn from the simulator so
 * that their readings follow the FAO-56 water balance. Two of them are designed to be thirsty
 * right now (root-zone depletion within a few hours of RAW), so the first irrigation advice comes
 * as soon as the predictor has seen their history; two are freshly watered, so the farm shows both.
 */
import type { CropName, SoilName } from '../agronomy/index.js';
import { CLIMATES, type ClimateName } from '../simulator/climates.js';
import { hoursToRawAhead, simulateField, type FieldRun } from '../simulator/field-run.js';
import { createFieldSpecs, type FieldSpec } from '../simulator/fields.js';
import { addDays } from '../simulator/weather.js';

/** Farm id of every demo device and field. */
export const DEMO_FARM = 'demo';

const HOUR_MS = 3_600_000;

/** What the demo wants a field to look like when the demo starts. */
type Role =
  /** Depletion reaches RAW within a few hours (true water balance): advice at the first look. */
  | 'thirsty'
  /** Far from RAW for the next two days: no advice. */
  | 'watered'
  /** Whatever its season gives. */
  | 'any';

interface FieldDesign {
  field: string;
  climate: ClimateName;
  soil: SoilName;
  crop: CropName;
  role: Role;
}

/** The six fields. Names say where and what, as a farmer would. */
export const DEMO_FIELDS: readonly FieldDesign[] = [
  { field: 'north-tomato', climate: 'arid', soil: 'sandy-loam', crop: 'tomato', role: 'thirsty' },
  { field: 'river-maize', climate: 'semi-arid', soil: 'loamy-sand', crop: 'maize-field', role: 'thirsty' },
  { field: 'hill-potato', climate: 'mediterranean', soil: 'loam', crop: 'potato', role: 'any' },
  { field: 'east-onion', climate: 'continental', soil: 'silt-loam', crop: 'onion', role: 'watered' },
  { field: 'south-wheat', climate: 'humid-subtropical', soil: 'clay-loam', crop: 'wheat-spring', role: 'any' },
  { field: 'west-sweetcorn', climate: 'humid', soil: 'clay', crop: 'maize-sweet', role: 'watered' },
];

/** Hours within which a thirsty field reaches RAW (well inside the predictor's 24 h horizon). */
const THIRSTY_WITHIN_H = 6;
/** A watered field stays short of RAW for at least this long. */
const WATERED_FOR_H = 48;
/** Seeds tried per field before taking the last one whatever its state. */
const MAX_TRIES = 400;

export interface DemoField {
  farm: string;
  field: string;
  /** The field's one sensor node (soil moisture and a weather station). */
  device: string;
  climate: ClimateName;
  role: Role;
  spec: FieldSpec;
}

/** Index of the last whole hour before `nowMs` in a field's run (−1 when the season starts later). */
function hourIndex(run: FieldRun, nowMs: number): number {
  const first = run.weather[0]?.ts ?? nowMs;
  return Math.min(run.weather.length - 1, Math.floor((nowMs - first) / HOUR_MS) - 1);
}

function fits(role: Role, run: FieldRun, index: number): boolean {
  if (index < 0) return false;
  if (role === 'any') return true;
  const hours = hoursToRawAhead(run, index, WATERED_FOR_H);
  if (role === 'thirsty') return hours !== null && hours <= THIRSTY_WITHIN_H;
  return hours === null;
}

/**
 * The demo farm as of `nowMs`: for each designed field, the first seed whose simulated season is
 * in the wanted state at `nowMs` (deterministic for a given hour; sowing dates fall within the
 * 60 days before the history starts, so every season is under way).
 */
export function designDemoFarm(nowMs: number, historyStartMs: number): DemoField[] {
  const from = addDays(new Date(historyStartMs).toISOString().slice(0, 10), -60);
  return DEMO_FIELDS.map((design, i) => {
    const n = String(i + 1).padStart(2, '0');
    let chosen: FieldSpec | undefined;
    for (let attempt = 0; attempt < MAX_TRIES && !chosen; attempt++) {
      const [spec] = createFieldSpecs({
        count: 1,
        seed: `demo/${design.field}/${attempt}`,
        population: { climates: [design.climate], soils: [design.soil], crops: [design.crop] },
        sowingWindow: { from, days: 60 },
      });
      const run = simulateField(spec!);
      if (fits(design.role, run, hourIndex(run, nowMs)) || attempt === MAX_TRIES - 1) chosen = spec!;
    }
    const device = `demo-node-${n}`;
    return {
      farm: DEMO_FARM,
      field: design.field,
      device,
      climate: design.climate,
      role: design.role,
      spec: { ...chosen!, id: design.field, deviceId: device },
    };
  });
}

/** Where a demo field lies (its climate's site). */
export function siteOf(field: Pick<DemoField, 'climate'>): { latitude: number; longitude: number; elevation: number; tzLongitude: number } {
  const c = CLIMATES[field.climate];
  return { latitude: c.latitudeDeg, longitude: c.longitudeDeg, elevation: c.elevationM, tzLongitude: c.tzLongitudeDeg };
}
