import { z } from 'zod';
import { Errors } from '../shared/error-catalog.js';
import type { ConfigShape } from '../shared/config.js';

/**
 * The parts one `fieldhook start` can run. Each can run in a process of its own, so that ingest,
 * prediction and delivery scale apart:
 *
 * - `ingestor`: HTTP and MQTT ingest, the spool, the InfluxDB writer and the bus publisher; with
 *   it run the irrigation records (API, valve reports) and the chat answers that become records.
 * - `predictor`: follows readings on the bus, advises, writes `recommendation` points; with it run
 *   the forecasts it reads (API, gateways' topic, the Open-Meteo pull).
 * - `dispatcher`: the subscriptions API, the outbox and the webhook deliveries.
 *
 * Always: the instance (its id and lock), the control plane and the device registry. The status
 * page reads every part, so it runs where all three do.
 */
export const PARTS = ['ingestor', 'predictor', 'dispatcher'] as const;
export type Part = (typeof PARTS)[number];

const isPart = (name: string): name is Part => (PARTS as readonly string[]).includes(name);

/**
 * `ingestor,predictor` → the set; an unknown or empty name is refused with its name. A config file
 * may list them as an array, the form `config show` prints.
 */
const partsSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value, ctx) => {
    const names = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim());
    const unknown = names.filter((n) => !isPart(n));
    for (const name of unknown) ctx.addIssue({ code: 'custom', message: `unknown part ${JSON.stringify(name)} (known: ${PARTS.join(', ')})` });
    return unknown.length > 0 ? z.NEVER : PARTS.filter((p) => names.includes(p));
  })
  .default([...PARTS]);

export const PARTS_CONFIG = {
  PARTS: partsSchema.describe(
    'Comma-separated parts this process runs: `ingestor`, `predictor`, `dispatcher` (default all). Apart, they meet on an external broker (`FIELDHOOK_MQTT_URL`) and InfluxDB (`FIELDHOOK_INFLUX_URL`); see docs/operations.md',
  ),
} satisfies ConfigShape;

/** What the selection needs from the rest of the configuration. */
export interface PartsSettings {
  PARTS: readonly Part[];
  PREDICT_ENABLED: boolean;
  MQTT_URL?: string | undefined;
  INFLUX_URL?: string | undefined;
}

/** The parts to run, and which of the process's other components go with them. */
export interface PartSelection {
  ingestor: boolean;
  predictor: boolean;
  dispatcher: boolean;
  /** Every part here: the embedded broker may serve them, and the status page can read them all. */
  all: boolean;
  /** InfluxDB is needed (the ingestor writes, the predictor reads); a dispatcher alone never touches it. */
  influx: boolean;
}

/**
 * Check a selection against what the current design can do, and resolve it. Refused, with
 * FH_ERR_CONFIG_INVALID naming each problem:
 *
 * - parts apart without an external broker: the embedded broker lives in the ingestor's process
 *   and only that process's parts reach it, so readings would never reach a predictor elsewhere,
 *   nor events a dispatcher elsewhere;
 * - parts apart without an external InfluxDB: each process would start a local one of its own
 *   (the ingestor writing into one, the predictor reading another);
 * - `predictor` chosen while `FIELDHOOK_PREDICT_ENABLED=false` says the opposite.
 *
 * With all parts (the default), `PREDICT_ENABLED=false` leaves the predictor out, as it always did.
 */
export function selectParts(config: PartsSettings): PartSelection {
  const chosen = new Set<Part>(config.PARTS);
  const problems: string[] = [];
  const apart = config.PARTS.length < PARTS.length;
  if (chosen.has('predictor') && !config.PREDICT_ENABLED) {
    if (apart) problems.push(`FIELDHOOK_PARTS: names predictor (${config.PARTS.join(',')}) while FIELDHOOK_PREDICT_ENABLED=false; choose one`);
    chosen.delete('predictor');
  }
  if (apart && !config.MQTT_URL) {
    problems.push(
      `FIELDHOOK_PARTS: ${config.PARTS.join(',')} runs apart from the other parts, which it reaches only through an external broker: set FIELDHOOK_MQTT_URL (the embedded broker serves only the process that runs every part)`,
    );
  }
  const influx = chosen.has('ingestor') || chosen.has('predictor');
  if (apart && influx && !config.INFLUX_URL) {
    problems.push(`FIELDHOOK_PARTS: ${config.PARTS.join(',')} runs apart from the other parts and needs the InfluxDB they share: set FIELDHOOK_INFLUX_URL (without it each process would start a local one)`);
  }
  if (problems.length > 0) throw Errors.configInvalid(`Invalid configuration:\n  ${problems.join('\n  ')}`, { problems });
  return {
    ingestor: chosen.has('ingestor'),
    predictor: chosen.has('predictor'),
    dispatcher: chosen.has('dispatcher'),
    all: !apart,
    influx,
  };
}
