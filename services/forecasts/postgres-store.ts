/**
 * Forecasts in PostgreSQL, shared by every instance (`FIELDHOOK_DATABASE_URL`): a gateway's
 * forecast taken by one instance, or pulled by one, reaches the predictors of all.
 *
 * The predictor reads forecasts synchronously, inside an evaluation round, so each instance keeps
 * hours in memory and reads them from there: only those it will read. Its predictor names the
 * fields it evaluates and the earliest hour it reads (`follow`, at every re-read of its fields):
 * the copy keeps those fields' and their farms' hours from then on, and loads a field that comes
 * in (a partition taken over) before the field is evaluated. Hours past, kept 7 days in the
 * table, and other instances' fields stay in PostgreSQL only. Until a predictor names its fields
 * the copy holds every field's hours (`following: 'all'`), or none (`'declared'`, the
 * predictor's own store).
 *
 * The copy follows the table through the store's change feed: when the version moved, the next
 * read starts a catch-up in the background (that read, and those until the catch-up lands, still
 * answer from the copy, a forecast at most one change old). A catch-up reads only rows written
 * since the last one: every write (and the one-time copy of SQLite rows) takes a new `revision`
 * from a sequence under a transaction lock, so revisions become visible in order and none is
 * skipped. Catch-ups and the loads of fields that come in run one at a time, so an older read
 * never lands over a newer one. Pruning is each instance's own (every instance prunes on the
 * same schedule), so rows another instance pruned leave the copy at this one's next prune.
 */
import type { ChangeFeed } from '../shared/database/change-feed.js';
import { notifyChangesSql } from '../shared/database/change-feed.js';
import type { PostgresPlane } from '../shared/database/control-plane.js';
import type { PostgresMigration } from '../shared/database/migrations.js';
import { databaseUnavailable, inTransaction, orUnavailable } from '../shared/database/postgres.js';
import type { Logger } from '../shared/logger.js';
import { createHourTable, type HourTable } from './hour-table.js';
import { mergeHours, rowsOf, type ForecastRepository, type ForecastRow } from './store.js';


/** The forecasts' store name in `fieldhook_migrations`, and the channel their changes are announced on. */
export const FORECASTS_STORE = 'forecasts';
export const FORECASTS_CHANNEL = 'fieldhook_forecasts';

/**
 * The key of the transaction lock writers take (two halves: `fhk`, `fcst`): writes are few (a
 * forecast every few hours per site), and one at a time they commit in revision order.
 */
export const FORECASTS_WRITE_LOCK: readonly [number, number] = [0x66686b, 0x66637374];

export interface PostgresForecastOptions {
  /** What the copy holds until `follow` names the fields: every field's hours (default), or none. */
  following?: 'all' | 'declared';
}

/** The same data as forecasts.db (store.ts), plus the revision of each row's last write. Append steps, never edit one. */
export const FORECASTS_MIGRATIONS: readonly PostgresMigration[] = [
  {
    name: 'forecast hours',
    sql: `
      CREATE SEQUENCE forecast_revision;
      CREATE TABLE forecast_hour (
        farm TEXT NOT NULL, field TEXT NOT NULL, ts BIGINT NOT NULL, issued_at BIGINT NOT NULL, source TEXT NOT NULL,
        rain_mm DOUBLE PRECISION, rain_probability DOUBLE PRECISION, et0_mm DOUBLE PRECISION, air_temperature DOUBLE PRECISION,
        relative_humidity DOUBLE PRECISION, wind_speed DOUBLE PRECISION, solar_radiation DOUBLE PRECISION,
        revision BIGINT NOT NULL DEFAULT nextval('forecast_revision'),
        PRIMARY KEY (farm, field, ts)
      );
      CREATE INDEX forecast_hour_revision ON forecast_hour (revision);
      ${notifyChangesSql(FORECASTS_CHANNEL, ['forecast_hour'])}`,
  },
  {
    // Every instance prunes by time alone (\`ts < $1\`), which the (farm, field, ts) key cannot serve.
    name: 'forecast hours by time, for pruning',
    sql: 'CREATE INDEX forecast_hour_ts ON forecast_hour (ts)',
  },
];

const HOUR_COLUMNS = 'farm, field, ts, issued_at, rain_mm, rain_probability, et0_mm, air_temperature, relative_humidity, wind_speed, solar_radiation, revision';

/** BIGINT arrives as a string. */
type PgRow = Omit<ForecastRow, 'ts' | 'issued_at'> & { farm: string; field: string; ts: string; issued_at: string; revision: string };

/** Fields (and farms) whose hours one query loads. */
const LOAD_BATCH = 1_000;

/** The key of a farm and field (`''` the farm's) in the copy. */
const keyOf = (farm: string, field: string) => `${farm}\u0000${field}`;

export function createPostgresForecasts(plane: PostgresPlane, logger: Logger, options: PostgresForecastOptions = {}): ForecastRepository {
  const { pool, shownUrl } = plane.postgres;
  const copy: HourTable = createHourTable();
  let revision = 0;
  let feed: ChangeFeed | undefined;
  let loadedVersion = Number.NaN;
  let catchingUp: Promise<void> | undefined;
  let opening: Promise<void> | undefined;
  /** The fields and farms (`keyOf(farm, '')`) whose hours are kept; undefined: all. */
  let followed: Set<string> | undefined = options.following === 'declared' ? new Set() : undefined;
  /** Hours ending at or before this are not kept (never read). */
  let fromTs = Number.NEGATIVE_INFINITY;
  /** Catch-ups and loads, one at a time. */
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const done = queue.then(work, work);
    queue = done.catch(() => {});
    return done;
  };

  /**
   * Put the rows this instance reads in the copy. Only a catch-up moves the revision (past the
   * rows left out too): a row this process wrote may be newer than one another instance
   * committed just before it, which the next catch-up must read.
   */
  function keep(rows: readonly PgRow[], caughtUp: boolean): void {
    const byKey = new Map<string, ForecastRow[]>();
    for (const r of rows) {
      if (caughtUp) revision = Math.max(revision, Number(r.revision));
      const key = keyOf(r.farm, r.field);
      const ts = Number(r.ts);
      if (ts <= fromTs || (followed && !followed.has(key))) continue;
      const { farm: _farm, field: _field, revision: _rev, ...hour } = r;
      const row = { ...hour, ts, issued_at: Number(r.issued_at) };
      const held = byKey.get(key);
      if (held) held.push(row);
      else byKey.set(key, [row]);
    }
    // In revision order: a later row for the same hour wins.
    for (const [key, hours] of byKey) copy.put(key, hours);
  }

  /** Read what was written since the copy's revision (everything the first time). */
  async function catchUp(): Promise<void> {
    // The version first: a change committed while reading moves it again and is read next time.
    const version = feed?.version() ?? Number.NaN;
    if (followed?.size === 0) {
      // Nothing is kept yet: only where the table stands (a write in progress takes a higher revision).
      const { rows } = await pool.query<{ revision: string | null }>('SELECT max(revision) AS revision FROM forecast_hour');
      revision = Math.max(revision, Number(rows[0]?.revision ?? 0));
    } else {
      const { rows } = await pool.query<PgRow>(`SELECT ${HOUR_COLUMNS} FROM forecast_hour WHERE revision > $1 ORDER BY revision`, [revision]);
      keep(rows, true);
    }
    loadedVersion = version;
  }

  function open(): Promise<void> {
    // The broker may hand over a gateway's forecast before the component starts: whatever comes
    // first opens, the rest wait for it; a failed attempt is tried again.
    return (opening ??= (async () => {
      await plane.migrate(FORECASTS_STORE, FORECASTS_MIGRATIONS);
      feed ??= plane.changeFeed(FORECASTS_CHANNEL);
      try {
        await feed.start();
        await serially(catchUp);
      } catch (err) {
        throw databaseUnavailable(err, shownUrl, 'load the forecasts');
      }
    })().catch((err: unknown) => {
      opening = undefined;
      throw err;
    }));
  }

  function followChanges(): void {
    if (!feed || catchingUp || feed.version() === loadedVersion) return;
    catchingUp = serially(catchUp)
      .catch((err: unknown) => logger.warn({ err }, 'forecasts not re-read from PostgreSQL; advice uses those in memory until the next try'))
      .finally(() => (catchingUp = undefined));
  }

  /** Keep `fields` (and their farms) from `from` on: drop the rest, load those not kept yet. */
  async function follow(fields: readonly { farm: string; field: string }[], from: number): Promise<void> {
    await open();
    const next = new Set<string>();
    for (const f of fields) next.add(keyOf(f.farm, f.field)).add(keyOf(f.farm, ''));
    // Every field's hours were kept until now: none is missing.
    const missing = followed ? [...next].filter((k) => !followed!.has(k)) : [];
    followed = next;
    fromTs = Math.max(fromTs, from);
    copy.retain((key) => next.has(key));
    copy.dropUntil(fromTs, true);
    if (missing.length === 0) return;
    const pairs = missing.map((k) => k.split('\u0000'));
    try {
      await serially(async () => {
        // A few thousand fields' rows at a time: a predictor starting with all its fields never holds every row object at once.
        for (let at = 0; at < pairs.length; at += LOAD_BATCH) {
          const batch = pairs.slice(at, at + LOAD_BATCH);
          const { rows } = await pool.query<PgRow>(
            `SELECT ${HOUR_COLUMNS} FROM forecast_hour WHERE (farm, field) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND ts > $3`,
            [batch.map((p) => p[0]), batch.map((p) => p[1]), Number.isFinite(fromTs) ? fromTs : Number.MIN_SAFE_INTEGER],
          );
          // Not a catch-up: the revision stays, rows written meanwhile are read by the next one.
          keep(rows, false);
        }
      });
    } catch (err) {
      // Not kept after all: named again, they are loaded again.
      for (const key of missing) {
        next.delete(key);
        copy.delete(key);
      }
      throw databaseUnavailable(err, shownUrl, 'load the forecasts of fields taken over');
    }
  }

  const rowsIn = (farm: string, field: string, fromTs: number, toTs: number) => copy.read(keyOf(farm, field), fromTs, toTs);

  return {
    open,
    follow,
    async save(f) {
      await open();
      const rows = rowsOf(f);
      if (rows.length === 0) return 0;
      const column = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
      // A database failure is FH_ERR_DATABASE_UNAVAILABLE (503): the gateway or the API client retries.
      const kept = await orUnavailable(inTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...FORECASTS_WRITE_LOCK]);
        const { rows: written } = await client.query<PgRow>(
          `INSERT INTO forecast_hour AS h (farm, field, ts, issued_at, source, rain_mm, rain_probability, et0_mm, air_temperature, relative_humidity, wind_speed, solar_radiation)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[])
           ON CONFLICT (farm, field, ts) DO UPDATE SET
             issued_at = excluded.issued_at, source = excluded.source, rain_mm = excluded.rain_mm, rain_probability = excluded.rain_probability,
             et0_mm = excluded.et0_mm, air_temperature = excluded.air_temperature, relative_humidity = excluded.relative_humidity,
             wind_speed = excluded.wind_speed, solar_radiation = excluded.solar_radiation, revision = nextval('forecast_revision')
           WHERE excluded.issued_at >= h.issued_at
           RETURNING ${HOUR_COLUMNS}`,
          [
            column('farm'), column('field'), column('ts'), column('issuedAt'), column('source'), column('rainMm'), column('rainProbability'),
            column('et0Mm'), column('airTemperature'), column('relativeHumidity'), column('windSpeed'), column('solarRadiation'),
          ],
        );
        return written;
      }), shownUrl, 'store a forecast');
      // This process's own write is read at once, not after its notification.
      keep(kept, false);
      return kept.length;
    },
    hours(farm, field, fromTs, toTs) {
      followChanges();
      return mergeHours(rowsIn(farm, field, fromTs, toTs), rowsIn(farm, '', fromTs, toTs));
    },
    async prune(beforeTs) {
      await open();
      copy.dropUntil(beforeTs, false);
      const { rowCount } = await orUnavailable(pool.query('DELETE FROM forecast_hour WHERE ts < $1', [beforeTs]), shownUrl, 'prune the forecasts');
      return rowCount ?? 0;
    },
    async close() {
      await catchingUp;
      await feed?.stop();
    },
  };
}
