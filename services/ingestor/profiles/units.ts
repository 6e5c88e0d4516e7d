/**
 * Units a device profile may name, and how each converts onto the canonical unit of its
 * dimension (docs/devices.md, "Units"). One table: a value in unit `u` is `value * factor + offset`
 * in the dimension's base unit; a conversion between two units of one dimension goes through the
 * base. Lookups are through a Map, so a unit name from a file (`constructor`, `__proto__`) finds
 * nothing but a listed unit.
 */
export interface UnitSpec {
  /** What the unit measures; only units of one dimension convert into each other. */
  dimension: string;
  /** Multiplier onto the dimension's base unit. */
  factor: number;
  /** Added after the multiplier (temperatures). */
  offset: number;
  /** How the documentation explains the factor, when it is not exact. */
  note?: string;
}

const u = (dimension: string, factor: number, offset = 0, note?: string): UnitSpec =>
  Object.freeze({ dimension, factor, offset, ...(note ? { note } : {}) });

/** Base units: m3/m3, °C, dS/m, V, m/s, W/m2, mm, dBm (the canonical units of services/shared/quantities.ts). */
export const UNITS: ReadonlyMap<string, UnitSpec> = new Map<string, UnitSpec>([
  // Volumetric water content: a fraction, or percent of volume.
  ['m3/m3', u('fraction', 1)],
  ['%', u('fraction', 0.01)],
  // Temperature.
  ['degC', u('temperature', 1)],
  ['°C', u('temperature', 1)],
  ['degF', u('temperature', 5 / 9, -32 * (5 / 9))],
  ['°F', u('temperature', 5 / 9, -32 * (5 / 9))],
  ['K', u('temperature', 1, -273.15)],
  // Electrical conductivity.
  ['dS/m', u('conductivity', 1)],
  ['mS/cm', u('conductivity', 1)],
  ['µS/cm', u('conductivity', 0.001)],
  ['uS/cm', u('conductivity', 0.001)],
  ['S/m', u('conductivity', 10)],
  ['mS/m', u('conductivity', 0.01)],
  // Voltage.
  ['V', u('voltage', 1)],
  ['mV', u('voltage', 0.001)],
  // Speed.
  ['m/s', u('speed', 1)],
  ['km/h', u('speed', 1 / 3.6)],
  ['mph', u('speed', 0.44704)],
  ['kn', u('speed', 1852 / 3600)],
  // Irradiance. Lux is a photometric unit: 1 W/m2 of daylight is about 126.7 lux (solar spectrum),
  // so a lux sensor gives an estimate of solar radiation, not a pyranometer's reading.
  ['W/m2', u('irradiance', 1)],
  ['lux', u('irradiance', 1 / 126.7, 0, 'daylight approximation: 126.7 lux per W/m2')],
  ['klux', u('irradiance', 1000 / 126.7, 0, 'daylight approximation: 126.7 lux per W/m2')],
  // Length (rainfall).
  ['mm', u('length', 1)],
  ['cm', u('length', 10)],
  ['inch', u('length', 25.4)],
  ['in', u('length', 25.4)],
  // Signal strength.
  ['dBm', u('power', 1)],
]);

/** The unit named, or undefined when the table has no such unit. */
export function unitSpec(name: string): UnitSpec | undefined {
  return UNITS.get(name);
}

/**
 * A converter from `from` to `to`, or a sentence saying why there is none (an unknown unit, or two
 * dimensions). Same unit: the identity.
 */
export function converter(from: string, to: string): ((value: number) => number) | string {
  const a = UNITS.get(from);
  if (!a) return `unknown unit ${JSON.stringify(from)}`;
  const b = UNITS.get(to);
  if (!b) return `unknown unit ${JSON.stringify(to)}`;
  if (a.dimension !== b.dimension) return `unit ${JSON.stringify(from)} (${a.dimension}) does not convert to ${JSON.stringify(to)} (${b.dimension})`;
  if (from === to || (a.factor === b.factor && a.offset === b.offset)) return (value) => value;
  return (value) => (value * a.factor + a.offset - b.offset) / b.factor;
}
