/**
 * Seeding the demo farm into a running fieldhook: the contract other code (the demo command, the
 * status page's browser test, the demo's integration test) builds on.
 *
 *   const farm = await seedDemoFarm({ dataDir: config.DATA_DIR, httpUrl: pipeline.url });
 *   farm.fleet.start();          // live readings from now on (optional)
 *   …
 *   await farm.fleet.stop();
 *
 * It registers the farm's devices in the pipeline's registry (in `dataDir`, or the PostgreSQL
 * database of `databaseUrl`, as `fieldhook start` chooses), back-fills their last three days
 * of readings through the HTTP API (seconds: one request per device), waits until InfluxDB has
 * them, and only then registers the field profiles: the predictor picks fields up at its next
 * scheduled round (`PREDICT_INTERVAL_MS`) with their whole window already in InfluxDB, so no
 * field is ever judged on a half-loaded history. Idempotent: a second call on the same data folder
 * keeps the devices, profiles and readings it finds (readings are de-duplicated by id).
 */
import { join } from 'node:path';
import type { FieldSettings } from '../predictor/field-profiles.js';
import { createFieldProfileRepository } from '../predictor/open-field-profiles.js';
import { PREDICTOR_FILE } from '../predictor/open-predictor-store.js';
import { openPredictorDb } from '../predictor/sqlite-predictor-store.js';
import { createDeviceRepository } from '../registry/open-devices.js';
import { waitUntil } from '../shared/child-process.js';
import { systemClock } from '../shared/clock.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../shared/database/control-plane.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { SqliteDatabase } from '../shared/sqlite.js';
import type { FieldSpec } from '../simulator/fields.js';
import { createFleet, type Fleet } from '../simulator/fleet.js';
import { createHttpTransport } from '../simulator/transports.js';
import { DEMO_FARM, designDemoFarm, siteOf, type DemoField } from './farm.js';

const HOUR_MS = 3_600_000;

export const DEFAULT_SEED_OPTIONS = {
  /** History sent at once: the predictor's 72 h window plus two hours of margin. */
  historyHours: 74,
  /** Wall-clock ms between live pushes of the fleet. */
  liveIntervalMs: 5_000,
  /** How long to wait for InfluxDB to hold the back-fill, ms. */
  backfillTimeoutMs: 60_000,
} as const;

export interface SeedOptions {
  /** The pipeline's DATA_DIR (its registry and predictor databases on SQLite). */
  dataDir: string;
  /** The pipeline's DATABASE_URL: with it, devices and fields are registered in that PostgreSQL. */
  databaseUrl?: string | undefined;
  /** Base URL of the pipeline's HTTP API. */
  httpUrl: string;
  /** The farm as designed earlier (a restart keeps its fields); default: designed for now. */
  fields?: readonly DemoField[];
  /** Wall clock, epoch ms. Default Date.now. */
  now?: () => number;
  historyHours?: number;
  liveIntervalMs?: number;
  backfillTimeoutMs?: number;
  /** Progress lines for people (each step and its duration). */
  progress?: (line: string) => void;
  logger?: Logger;
}

export interface SeededFarm {
  farm: string;
  fields: readonly DemoField[];
  /** The simulated fleet, caught up with the present; `start()` keeps it reporting live. */
  fleet: Fleet;
  /** Readings the back-fill sent (duplicates of an earlier run included). */
  backfilled: number;
}

/** The settings a farmer would enter for a demo field (`fieldhook fields add`). */
export function fieldSettingsOf(f: DemoField): FieldSettings {
  return fieldSettingsOfSpec(f.farm, f.spec);
}

/** The field profile of a simulated field (its crop, soil, site and sowing date), for any farm. */
export function fieldSettingsOfSpec(farm: string, spec: FieldSpec): FieldSettings {
  const site = siteOf({ climate: spec.climate });
  return {
    farm,
    field: spec.id,
    crop: spec.crop,
    // The simulated crop's Kc is adjusted to its climate (FAO-56 Eq. 62): so is the profile's.
    kc: { kcIni: spec.cropParams.kcIni, kcMid: spec.cropParams.kcMid, kcEnd: spec.cropParams.kcEnd },
    sowingDate: spec.sowingDate,
    soil: spec.soil,
    thetaFc: spec.thetaFc,
    thetaWp: spec.thetaWp,
    rootDepthM: spec.rootDepthM,
    p: spec.p,
    efficiency: 0.85,
    latitudeDeg: site.latitude,
    longitudeDeg: site.longitude,
    elevationM: site.elevation,
    tzLongitudeDeg: site.tzLongitude,
    windHeightM: spec.sensor.windHeightM,
  };
}

/** Device secrets of the farm, registering the devices that are missing. */
async function registerDevices(plane: ControlPlane, fields: readonly DemoField[]): Promise<Map<string, string>> {
  const devices = createDeviceRepository(plane);
  try {
    await devices.open();
    const secrets = new Map<string, string>();
    for (const f of fields) {
      const site = siteOf(f);
      const device =
        (await devices.get(f.device)) ??
        (await devices.add({
          id: f.device,
          farm: f.farm,
          field: f.field,
          kind: 'device',
          location: { latitude: site.latitude, longitude: site.longitude, elevation: site.elevation },
          profile: { crop: f.spec.crop, soil: f.spec.soil, windHeightM: f.spec.sensor.windHeightM },
        }));
      secrets.set(f.device, device.secret);
    }
    return secrets;
  } finally {
    await devices.close();
  }
}

async function registerFields(plane: ControlPlane, fields: readonly DemoField[]): Promise<void> {
  let db: SqliteDatabase | undefined;
  const repo = createFieldProfileRepository(plane, { clock: systemClock, db: () => (db ??= openPredictorDb(join(plane.dataDir, PREDICTOR_FILE))) });
  try {
    await repo.open();
    for (const f of fields) {
      if (!(await repo.get(f.farm, f.field))) await repo.add(fieldSettingsOf(f));
    }
  } finally {
    await repo.close();
    db?.close();
  }
}

/** `fn` on the control plane the pipeline uses (`fieldhook start`'s choice: SQLite in the data folder, or PostgreSQL). */
async function onPipelinePlane<T>(options: SeedOptions, fn: (plane: ControlPlane) => Promise<T>): Promise<T> {
  const plane = createControlPlane({ DATA_DIR: options.dataDir, DATABASE_URL: options.databaseUrl }, options.logger ?? silentLogger());
  try {
    return await fn(plane);
  } finally {
    await closeControlPlane(plane);
  }
}

/** Readings the InfluxDB writer has not taken yet, from the pipeline's own metrics. */
async function influxBacklog(httpUrl: string): Promise<number> {
  const res = await fetch(new URL('/metrics', httpUrl));
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith('fieldhook_spool_depth_readings{consumer="influx"}'));
  return line === undefined ? Number.POSITIVE_INFINITY : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Register the demo farm in a running fieldhook and back-fill its history (see the module comment). */
export async function seedDemoFarm(options: SeedOptions): Promise<SeededFarm> {
  const now = options.now ?? Date.now;
  const progress = options.progress ?? (() => {});
  const historyMs = (options.historyHours ?? DEFAULT_SEED_OPTIONS.historyHours) * HOUR_MS;
  const startMs = now() - historyMs;
  let t = now();
  const fields = options.fields ?? designDemoFarm(now(), startMs);
  const secrets = await onPipelinePlane(options, (plane) => registerDevices(plane, fields));
  progress(`farm "${DEMO_FARM}": ${fields.length} fields and their devices registered (${now() - t} ms)`);

  t = now();
  const fleet = createFleet({
    devices: fields.length,
    seed: DEMO_FARM,
    specs: fields.map((f) => f.spec),
    startMs,
    // Fast enough that the first push reaches the present; the fleet never runs past it.
    speedup: 1e9,
    intervalMs: options.liveIntervalMs ?? DEFAULT_SEED_OPTIONS.liveIntervalMs,
    transport: createHttpTransport({ url: options.httpUrl, secret: (device) => secrets.get(device) ?? '' }),
    ...(options.logger ? { logger: options.logger } : {}),
    now,
  });
  // Until the fleet's clock has reached the present (one push, unless the clock has not moved yet).
  const present = now();
  let sent = 0;
  for (;;) {
    const pushed = await fleet.push();
    if (pushed.failedDevices > 0) throw new Error(`back-fill: ${pushed.failedDevices} devices could not send their readings (see the log)`);
    sent += pushed.sent;
    if (pushed.simulatedMs >= present) break;
  }
  await waitUntil(async () => (await influxBacklog(options.httpUrl)) === 0, options.backfillTimeoutMs ?? DEFAULT_SEED_OPTIONS.backfillTimeoutMs, 'the back-fill in InfluxDB');
  progress(`back-filled ${Math.round(historyMs / HOUR_MS)} h of history: ${sent} readings stored in InfluxDB (${now() - t} ms)`);

  await onPipelinePlane(options, (plane) => registerFields(plane, fields));
  progress(`field profiles registered: crop, soil, site and sowing date of each field`);
  return { farm: DEMO_FARM, fields, fleet, backfilled: sent };
}
