import { Errors } from '../../shared/error-catalog.js';

/**
 * SenML (RFC 8428) JSON packs, `Content-Type: application/senml+json`, mapped onto native
 * readings: records resolve their base fields, then records of one device and one time become one
 * reading. Names are canonical quantities; the device is the base name without its trailing
 * separator (the last part of a `urn:dev:…` name), or the credential itself when there is none.
 * Values in SenML units are converted to the canonical ones; a unit that does not fit the
 * quantity refuses the pack, since it is a device's configuration, not a passing fault.
 */
export interface SenmlItem {
  device?: string;
  ts: number;
  values: Record<string, number>;
}

/** SenML unit → canonical value, per quantity. No unit means the canonical one. */
const CONVERSIONS: Record<string, Record<string, (v: number) => number>> = {
  soil_moisture: { '/': (v) => v, '%': (v) => v / 100 },
  soil_temperature: { Cel: (v) => v, K: (v) => v - 273.15 },
  air_temperature: { Cel: (v) => v, K: (v) => v - 273.15 },
  soil_ec: { 'S/m': (v) => v * 10 },
  relative_humidity: { '%RH': (v) => v, '%': (v) => v, '/': (v) => v * 100 },
  wind_speed: { 'm/s': (v) => v },
  solar_radiation: { 'W/m2': (v) => v },
  rainfall: { m: (v) => v * 1000, mm: (v) => v },
  leaf_wetness: { '%': (v) => v, '/': (v) => v * 100 },
  battery_voltage: { V: (v) => v },
  rssi: { dBm: (v) => v, dBW: (v) => v + 30 },
};

/** Below 2^28 s a SenML time is relative to the receiver's clock; fieldhook keeps device time only. */
const RELATIVE_TIME_LIMIT_S = 2 ** 28;

const bad = (field: string, what: string) => Errors.ingestBadEnvelope(`${field}: ${what}`, { field });

function deviceOf(baseName: string): string | undefined {
  const trimmed = baseName.replace(/[:/]+$/, '');
  if (!trimmed) return undefined;
  const urn = /^urn:dev:[^:]+:(.+)$/.exec(trimmed);
  return urn ? urn[1] : trimmed;
}

export function fromSenml(body: unknown): SenmlItem[] {
  if (!Array.isArray(body)) throw bad('body', 'a SenML pack is a JSON array of records');
  let baseName = '';
  let baseTime = 0;
  let baseUnit: string | undefined;
  const readings = new Map<string, SenmlItem>();
  body.forEach((raw, index) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`[${index}]`, 'must be an object');
    const record = raw as Record<string, unknown>;
    if (typeof record.bn === 'string') baseName = record.bn;
    if (typeof record.bt === 'number') baseTime = record.bt;
    if (typeof record.bu === 'string') baseUnit = record.bu;
    if (record.v === undefined) return; // a base-only record, or a string/boolean value fieldhook does not store
    if (typeof record.n !== 'string') throw bad(`[${index}].n`, 'must name a quantity');
    if (typeof record.v !== 'number') throw bad(`[${index}].v`, 'must be a number');
    const seconds = baseTime + (typeof record.t === 'number' ? record.t : 0);
    if (!(Math.abs(seconds) >= RELATIVE_TIME_LIMIT_S)) throw bad(`[${index}].t`, 'must be an absolute time (bt + t, seconds since 1970)');
    const unit = typeof record.u === 'string' ? record.u : baseUnit;
    const quantity = record.n;
    const convert = unit === undefined ? (v: number) => v : CONVERSIONS[quantity]?.[unit];
    if (!convert) throw bad(`[${index}].u`, `unit ${unit} does not fit ${quantity}`);
    const device = deviceOf(baseName);
    const ts = Math.round(seconds * 1000);
    const key = `${device ?? ''}@${ts}`;
    let reading = readings.get(key);
    if (!reading) readings.set(key, (reading = { ...(device ? { device } : {}), ts, values: {} }));
    reading.values[quantity] = convert(record.v);
  });
  return [...readings.values()];
}
