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
  leaf_wetness: { unit: '%', min: 0, max: 100 },
  battery_voltage: { unit: 'V', min: 0, max: 60 },
  rssi: { unit: 'dBm', min: -150, max: 0 },
} as const satisfies Record<string, QuantitySpec>;

export type CanonicalQuantity = keyof typeof CANONICAL_QUANTITIES;

export type QuantityTable = Readonly<Record<string, QuantitySpec>>;

/** The canonical table plus quantities declared in configuration (which may not redefine one). */
export function buildQuantityTable(extra: Record<string, QuantitySpec> = {}): QuantityTable {
  for (const name of Object.keys(extra)) {
    if (name in CANONICAL_QUANTITIES) throw new Error(`Quantity ${name} is canonical and cannot be redefined`);
  }
  return Object.freeze({ ...CANONICAL_QUANTITIES, ...extra });
}
