/**
 * One snapshot of the whole process for the status page, assembled from the read-only contracts
 * each part exports (the registry's `list`, the ingestor's and predictor's `status()`, the
 * predictor's field views, which hold the fields other instances evaluate too, the dispatcher's
 * store queries) and from InfluxDB. A part that cannot answer (InfluxDB down) leaves
 * its section empty and says so in `problems`: the page still shows everything else.
 */
import type { BacklogRow, DeliveryRecord, OutboxRepository, SubscriptionRecord, SubscriptionRepository } from '../dispatcher/store/types.js';
import type { IngestorStatus } from '../ingestor/build-ingestor.js';
import type { PredictorStatus } from '../predictor/build-predictor.js';
import { offSeasonReason, profileOf, type FieldSettings } from '../predictor/field-profiles.js';
import type { FieldProfile } from '../model/index.js';
import type { FieldView, FieldViews } from '../predictor/field-views.js';
import type { DeviceRepository } from '../registry/device.js';
import type { Clock } from '../shared/clock.js';
import type { DeviceSignals, FieldHour, StatusQueries, WaterBalance } from './influx-queries.js';

const HOUR_MS = 3_600_000;

/** What the snapshot reads; each is a published, read-only surface of its part. */
export interface StatusSources {
  devices: Pick<DeviceRepository, 'list'>;
  ingestor: { status(): Promise<IngestorStatus> };
  /**
   * Absent when the predictor is off (`PREDICT_ENABLED=false`). `fieldViews` gives every field,
   * those other predictors evaluate too (read from the shared store where fields are shared).
   */
  predictor?: { status(): PredictorStatus; fieldViews: FieldViews };
  dispatcher: { store: { subscriptions: Pick<SubscriptionRepository, 'list'>; outbox: Pick<OutboxRepository, 'backlog' | 'lastAttempted'> } };
  influx: StatusQueries;
}

export interface SnapshotOptions {
  /** A device with no reading for this long is flagged silent, ms (the predictor's stale age). */
  silentAfterMs: number;
  /** How far back the charts reach, ms. Default 72 h. */
  historyMs: number;
  /** How far back a device's last reading is looked for, ms. Default 7 days. */
  lastSeenWindowMs: number;
  /**
   * The charts' hourly history is read again only when older than this, ms. Default 60 s: it is
   * by far the dearest query (a time grouping per field), and an hourly bar changes little within a
   * minute, while the page polls every 15 s.
   */
  historyMaxAgeMs: number;
  /**
   * A section whose source has not answered within this is left empty and named in `problems`,
   * ms. Default 12 s: past InfluxDB's own request timeout (10 s), so that one answers with its own
   * reason; the deadline is for a source that never answers, which would otherwise hold every
   * read of the page.
   */
  sectionDeadlineMs: number;
}

export const DEFAULT_SNAPSHOT_OPTIONS: SnapshotOptions = {
  silentAfterMs: 3 * HOUR_MS,
  historyMs: 72 * HOUR_MS,
  lastSeenWindowMs: 7 * 24 * HOUR_MS,
  historyMaxAgeMs: 60_000,
  sectionDeadlineMs: 12_000,
};

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export type StatusSnapshot = Awaited<ReturnType<ReturnType<typeof createSnapshotReader>>>;

/** `read()` assembles a snapshot now; the shape is `STATUS_SCHEMA` (schemas.ts). */
export function createSnapshotReader(sources: StatusSources, clock: Clock, options: SnapshotOptions = DEFAULT_SNAPSHOT_OPTIONS) {
  let history: { at: number; hours: Map<string, FieldHour[]> } | undefined;
  const fieldHours = async (now: number) => {
    if (history && now - history.at < options.historyMaxAgeMs) return history.hours;
    const hours = await sources.influx.fieldHours(now - options.historyMs, now);
    history = { at: now, hours };
    return hours;
  };

  return async function read() {
    const now = clock.now();
    const problems: { section: string; message: string }[] = [];
    const attempt = async <T>(section: string, fallback: T, f: () => Promise<T>): Promise<T> => {
      let deadline: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`no answer within ${options.sectionDeadlineMs / 1000} s`)), options.sectionDeadlineMs);
        deadline.unref();
      });
      try {
        return await Promise.race([f(), late]);
      } catch (err) {
        problems.push({ section, message: (err as Error).message });
        return fallback;
      } finally {
        clearTimeout(deadline);
      }
    };
    const views = sources.predictor?.fieldViews;
    const [fieldViews, devices, signals, hours, balances, ingestor, subscriptions, backlog, lastAttempted] = await Promise.all([
      // The shared store unreadable: at least the fields this instance evaluates.
      views ? attempt('fields', views.local(), () => views.read()) : ([] as FieldView[]),
      attempt('fleet', [], () => sources.devices.list()),
      attempt('fleet', new Map<string, DeviceSignals>(), () => sources.influx.devices(now - options.lastSeenWindowMs, now)),
      attempt('fields', new Map<string, FieldHour[]>(), () => fieldHours(now)),
      attempt('fields', new Map<string, WaterBalance>(), () => sources.influx.waterBalances(now - options.historyMs, now)),
      attempt('pipeline', null, () => sources.ingestor.status()),
      attempt('subscriptions', [] as SubscriptionRecord[], () => sources.dispatcher.store.subscriptions.list()),
      attempt('subscriptions', [] as BacklogRow[], () => sources.dispatcher.store.outbox.backlog()),
      attempt('subscriptions', [] as DeliveryRecord[], () => sources.dispatcher.store.outbox.lastAttempted()),
    ]);
    const predictor = sources.predictor?.status();

    const fleet = devices.map((d) => {
      const s = signals.get(d.id);
      return {
        id: d.id,
        farm: d.farm,
        field: d.field,
        kind: d.kind,
        enabled: d.enabled,
        last_seen: iso(s?.lastSeenAt),
        battery_v: s?.batteryV ?? null,
        rssi_dbm: s?.rssiDbm ?? null,
        silent: d.enabled && (!s || now - s.lastSeenAt > options.silentAfterMs),
      };
    });

    // Every configured field, and every field devices report for that has no profile yet (it gets no advice).
    const profiled = new Map(fieldViews.map((f) => [`${f.settings.farm}/${f.settings.field}`, f]));
    // Configured fields first; those without a profile after them, each group by name.
    // A gateway measures nothing: its field is no field of the farm's.
    const measuring = devices.filter((d) => d.kind !== 'gateway');
    const keys = [...new Set([...profiled.keys(), ...measuring.map((d) => `${d.farm}/${d.field}`)])].sort(
      (a, b) => Number(profiled.has(b)) - Number(profiled.has(a)) || a.localeCompare(b),
    );
    const fields = keys.map((key) => {
      const [farm, field] = splitKey(key);
      const entry = profiled.get(key);
      const balance = balances.get(key);
      const advice = entry?.state?.advice ?? null;
      const profile = entry ? readableProfile(entry.settings) : undefined;
      return {
        farm,
        field,
        configured: entry !== undefined,
        crop: entry?.settings.crop ?? null,
        soil: profile ? soilLines(profile, balance) : null,
        stale: entry?.state?.stale ?? false,
        season: entry && profile ? seasonOf(entry.settings, profile, now) : null,
        devices: fleet.filter((d) => d.farm === farm && d.field === field).map((d) => d.id),
        water: balance
          ? { at: iso(balance.at)!, depletion_mm: balance.depletionMm, raw_mm: balance.rawMm, taw_mm: balance.tawMm, hours_to_raw: balance.hoursToRaw }
          : null,
        advice: advice
          ? { event_id: advice.eventId, issued_at: iso(advice.issuedAt)!, start_by: iso(advice.startBy)!, valid_until: iso(advice.validUntil)!, expired: advice.validUntil <= now }
          : null,
        learning: entry?.learning ?? null,
        evaluation: entry ? evaluationOf(entry) : null,
        history: hourly(hours.get(key) ?? [], now - options.historyMs, now),
      };
    });

    const backlogOf = new Map(backlog.map((b) => [b.subscriptionId, b]));
    const lastOf = new Map(lastAttempted.map((d) => [d.subscriptionId, d]));
    const subs = subscriptions.map((s) => {
      const b = backlogOf.get(s.id);
      const last = lastOf.get(s.id);
      return {
        id: s.id,
        // The host only: paths and queries of chat platforms' URLs carry their tokens.
        host: hostOf(s.url),
        format: s.format,
        description: s.description,
        events: s.events,
        health: !s.enabled ? ('disabled' as const) : s.failingSince !== null ? ('failing' as const) : ('healthy' as const),
        disabled_reason: s.disabledReason,
        disabled_at: iso(s.disabledAt),
        failing_since: iso(s.failingSince),
        backlog: { pending: b?.pending ?? 0, oldest_created_at: iso(b?.oldestCreatedAt) },
        last_delivery: last
          ? { at: iso(last.lastAttemptAt)!, event_type: last.eventType, status: last.status, status_code: last.lastStatusCode, error: last.lastError }
          : null,
      };
    });

    return {
      generated_at: iso(now)!,
      fleet: { silent_after_ms: options.silentAfterMs, devices: fleet },
      fields,
      subscriptions: subs,
      pipeline: {
        spool: ingestor
          ? {
              pending_bytes: ingestor.spool.pendingBytes,
              dead_letters: ingestor.spool.deadLetters,
              consumers: Object.entries(ingestor.spool.consumers).map(([name, c]) => ({ name, pending_readings: c.pendingReadings, oldest_age_ms: c.oldestAgeMs })),
            }
          : null,
        influxdb_writer: ingestor ? { healthy: ingestor.writer.healthy, last_write_at: iso(ingestor.writer.lastSuccessAt) } : null,
        predictor: { enabled: sources.predictor !== undefined, model: predictor?.model ?? null, partitions: predictor?.partitions ?? null },
      },
      problems,
    };
  };
}

/** Whether the crop is in the ground: off season no advice is given, and the water shown is the last in season. */
function seasonOf(settings: FieldSettings, profile: FieldProfile, now: number) {
  const why = offSeasonReason(settings, now, profile);
  return { in_season: why === undefined, reason: why ?? null, sowing_date: settings.sowingDate, harvested_on: settings.harvestedOn ?? null };
}

/** The profile a field's settings resolve to; undefined for settings this release cannot read (a crop another instance's newer release knows). */
function readableProfile(settings: FieldSettings): FieldProfile | undefined {
  try {
    return profileOf(settings);
  } catch {
    return undefined;
  }
}

/** Who evaluates the field, and when its state was saved (not shown as local when it is not). */
function evaluationOf({ evaluation: e }: FieldView) {
  return { here: e.here, instance: e.instance, partition: e.partition, state_saved_at: iso(e.savedAt), state_saved_by: e.savedBy };
}

/**
 * Field capacity, wilting point and the RAW threshold as volumetric water contents, the lines of
 * the soil-moisture chart: the threshold is field capacity less RAW spread over the root depth.
 */
function soilLines(p: FieldProfile, balance: WaterBalance | undefined) {
  const thetaRaw = balance ? p.thetaFc - balance.rawMm / (1000 * p.rootDepthM) : null;
  return { theta_fc: p.thetaFc, theta_wp: p.thetaWp, theta_raw: thetaRaw };
}

/**
 * A field's hours as two dense series from the first hour of the window on (null: no reading that
 * hour): a third of the bytes of one object per hour, and the page polls every 15 s, phones too.
 * Soil moisture is rounded to 0.1 % (1e-3 m3/m3 is a probe's resolution), rain to 0.1 mm.
 */
function hourly(hours: readonly FieldHour[], fromMs: number, toMs: number) {
  const start = Math.floor(fromMs / HOUR_MS) * HOUR_MS;
  const length = Math.floor(toMs / HOUR_MS) - start / HOUR_MS + 1;
  const soil: (number | null)[] = new Array<number | null>(length).fill(null);
  const rain: (number | null)[] = new Array<number | null>(length).fill(null);
  for (const h of hours) {
    const i = Math.round((h.t - start) / HOUR_MS);
    if (i < 0 || i >= length) continue;
    if (h.soilMoisture !== null) soil[i] = Math.round(h.soilMoisture * 1e4) / 1e4;
    if (h.rainfallMm !== null) rain[i] = Math.round(h.rainfallMm * 10) / 10;
  }
  return { start: iso(start)!, step_ms: HOUR_MS, soil_moisture: soil, rainfall_mm: rain };
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/**
 * Where a subscription delivers, without its path or query. A `mailto:` URL has no host: its
 * recipients' mail domains stand in for it (the addresses themselves stay off the page).
 */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'mailto:') return parsed.host;
    const domains = decodeURIComponent(parsed.pathname).split(',').map((address) => address.slice(address.lastIndexOf('@') + 1).trim().toLowerCase());
    return [...new Set(domains.filter(Boolean))].join(', ');
  } catch {
    return '';
  }
}
