import { Errors } from './error-catalog.js';

/**
 * The canonical quantities every reading is normalised to before it is stored (docs/ARCHITECTURE.md, "Canonical quantities").
 * Adapters convert vendor units onto these; anything else is refused unless configuration
 * declares it.
 */
export interface QuantitySpec {
  unit: string;
  min: number;
  max: number;
}

export const CANONICAL_QUANTITIES = {
  soil_moisture: { unit: 'm3/m3', min: 0, max: 0.7 },
  soil_temperature: { unit: 'degC', min: -30, max: 70 },
  soil_ec: { unit: 'dS/m', min: 0, max: 25 },
  air_temperature: { unit: 'degC', min: -50, max: 60 },
  relative_humidity: { unit: '%', min: 0, max: 100 },
  wind_speed: { unit: 'm/s', min: 0, max: 75 },
  solar_radiation: { unit: 'W/m2', min: 0, max: 1500 },
  rainfall: { unit: 'mm', min: 0, max: 500 },
  // Reference evapotranspiration a weather station computes itself, mm since its previous reading.
  et0: { unit: 'mm', min: 0, max: 50 },
  leaf_wetness: { unit: '%', min: 0, max: 100 },
  battery_voltage: { unit: 'V', min: 0, max: 60 },
  rssi: { unit: 'dBm', min: -150, max: 0 },
} as const satisfies Record<string, QuantitySpec>;

export type CanonicalQuantity = keyof typeof CANONICAL_QUANTITIES;

/**
 * Quantity name → spec. Built by {@link buildQuantityTable} with a null prototype, so a name from
 * a request (`constructor`, `__proto__`) never finds anything but a declared quantity; look names
 * up with {@link quantitySpec}.
 */
export type QuantityTable = Readonly<Record<string, QuantitySpec>>;

/**
 * The longest quantity name, canonical or declared. Adapters refuse longer names from devices
 * before looking them up: such a name cannot be a quantity.
 */
export const MAX_QUANTITY_NAME_LENGTH = 64;

/**
 * What a declared quantity may be called: a letter, then letters, digits and `_`, as the canonical
 * names. A name is an InfluxDB field key and a key of bus payloads, so no character needs escaping
 * anywhere (a trailing backslash would swallow line protocol's `=`), and `__proto__` is not one.
 */
export const QUANTITY_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Names that are members of every plain object: never a quantity, so no lookup can confuse the two. */
const RESERVED_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));
/**
 * Names a `reading` point already uses: InfluxDB drops a field called `time`, and a field named
 * like a tag shadows it for every query (`WHERE device = …` then finds nothing, for good).
 */
const SCHEMA_NAMES = new Set(['time', 'device', 'farm', 'field']);

/** Why a quantity cannot be declared, or undefined when it can. */
function badQuantity(name: string, spec: QuantitySpec): string | undefined {
  const shown = name.slice(0, MAX_QUANTITY_NAME_LENGTH);
  if (Object.hasOwn(CANONICAL_QUANTITIES, name)) return `Quantity ${name} is canonical and cannot be redefined`;
  if (name.length > MAX_QUANTITY_NAME_LENGTH) return `Quantity names have at most ${MAX_QUANTITY_NAME_LENGTH} characters`;
  if (!QUANTITY_NAME_PATTERN.test(name)) return `Quantity ${shown} must be a letter followed by letters, digits and _`;
  if (RESERVED_NAMES.has(name)) return `Quantity ${name} is a reserved name (a member of every JavaScript object)`;
  if (SCHEMA_NAMES.has(name)) return `Quantity ${name} is a reserved name (InfluxDB's time or a tag of the reading measurement)`;
  if (!(Number.isFinite(spec.min) && Number.isFinite(spec.max) && spec.min <= spec.max)) return `Quantity ${name} needs finite min <= max`;
  return undefined;
}

/**
 * The canonical table plus quantities declared in configuration (which may not redefine one, nor
 * be called `constructor` or anything else a plain object answers). The table has no prototype.
 */
export function buildQuantityTable(extra: Readonly<Record<string, QuantitySpec>> = {}): QuantityTable {
  const problems = quantityProblems(extra).map(({ name, problem }) => `INGEST_EXTRA_QUANTITIES.${name}: ${problem}`);
  if (problems.length > 0) throw Errors.configInvalid(`Invalid configuration:\n  ${problems.join('\n  ')}`, { problems });
  const table = Object.create(null) as Record<string, QuantitySpec>;
  for (const [name, spec] of Object.entries(CANONICAL_QUANTITIES)) table[name] = spec;
  for (const [name, spec] of Object.entries(extra)) table[name] = Object.freeze({ unit: spec.unit, min: spec.min, max: spec.max });
  return Object.freeze(table);
}

/**
 * Why each declared quantity cannot be one (its name shortened for the message); empty when all
 * can. The configuration's schema asks this too, so `config show` and `doctor` refuse what a
 * start would. Object.entries: own keys only, so a `"__proto__"` key of parsed JSON is a name
 * like any other (and refused).
 */
export function quantityProblems(extra: Readonly<Record<string, QuantitySpec>>): { name: string; problem: string }[] {
  const problems: { name: string; problem: string }[] = [];
  for (const [name, spec] of Object.entries(extra)) {
    const problem = badQuantity(name, spec);
    if (problem) problems.push({ name: name.slice(0, MAX_QUANTITY_NAME_LENGTH), problem });
  }
  return problems;
}

/** The spec of a quantity name from untrusted input: own entries only, never the prototype chain. */
export function quantitySpec(table: QuantityTable, name: string): QuantitySpec | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
