import { describe, expect, it } from 'vitest';
import type { DeliveryRecord, SubscriptionRecord } from '../../../services/dispatcher/store/types.js';
import type { PredictorStatus } from '../../../services/predictor/build-predictor.js';
import type { FieldSettings } from '../../../services/predictor/field-profiles.js';
import { createFieldViews, type FieldViews } from '../../../services/predictor/field-views.js';
import type { Device } from '../../../services/registry/device.js';
import type { StatusQueries } from '../../../services/status/influx-queries.js';
import { createSnapshotReader, DEFAULT_SNAPSHOT_OPTIONS, type StatusSources } from '../../../services/status/snapshot.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-07-06T12:00:00Z');

const device = (id: string, field: string, enabled = true): Device => ({ id, farm: 'f', field, kind: 'device', enabled, allowedNetworks: [], createdAt: '2026-07-01T00:00:00Z' });
const north: FieldSettings = { farm: 'f', field: 'north', crop: 'tomato', soil: 'loam', sowingDate: '2026-05-01', efficiency: 0.8, latitudeDeg: 45, longitudeDeg: 0, elevationM: 50, rootDepthM: 1 };
const subscription = (id: string, over: Partial<SubscriptionRecord>): SubscriptionRecord => ({
  id, url: 'https://api.telegram.org/bot123:SECRET/sendMessage?chat_id=1', description: '', events: ['*'], farms: [], fields: [], enabled: true,
  disabledReason: null, disabledAt: null, rateLimitPerSecond: null, format: 'telegram', locale: 'en', timeZone: 'UTC', settings: { chat_id: '1' },
  failingSince: null, createdAt: 0, updatedAt: 0, ...over,
});

const predictorStatus: PredictorStatus = {
  model: { name: 'm', version: '1', sha256: 'ab'.repeat(32) },
  fields: [{
    settings: north,
    state: { advice: { eventId: 'evt_1', issuedAt: NOW - HOUR, validUntil: NOW + HOUR, startBy: NOW }, lastChangeAt: NOW - HOUR, stale: false },
    learning: { dry_days: 12, ratio: 0.64, spread: 0.1, applied: true, taw_factor: 1.37, kc_factor: 0.88, raw_factor: 1, last_day: '2026-07-05', last_outcome: 'dry (0.61 × ETc)' },
  }],
};
/** One predictor evaluating every field: its own fields are all there is. */
const singleViews = createFieldViews({ instance: 'a', local: () => predictorStatus.fields, mode: 'single', partitionOf: () => 0 });

function sources(influx: Partial<StatusQueries> = {}, fieldViews: FieldViews = singleViews): StatusSources {
  return {
    devices: { list: async () => [device('n1', 'north'), device('quiet', 'north'), device('off', 'north', false), device('e1', 'east')] },
    ingestor: { status: async () => ({ spool: { pendingBytes: 10, consumers: { influx: { pendingReadings: 2, oldestAgeMs: 500 } }, deadLetters: 1 }, writer: { healthy: false, lastSuccessAt: NOW - HOUR } }) },
    predictor: { status: () => predictorStatus, fieldViews },
    dispatcher: {
      store: {
        subscriptions: { list: async () => [subscription('s1', {}), subscription('s2', { failingSince: NOW - HOUR }), subscription('s3', { enabled: false, disabledReason: 'gone', disabledAt: NOW, url: 'mailto:ana@Farm.example,bo@farm.example,co@coop.example' })] },
        outbox: {
          backlog: async () => [{ subscriptionId: 's2', pending: 3, oldestCreatedAt: NOW - 2 * HOUR }],
          lastAttempted: async () => [{ subscriptionId: 's1', lastAttemptAt: NOW - 60_000, eventType: 'irrigation.recommended', status: 'succeeded', lastStatusCode: 200, lastError: null } as DeliveryRecord],
        },
      },
    },
    influx: {
      devices: async () => new Map([['n1', { lastSeenAt: NOW - 10 * 60_000, batteryV: 3.6, rssiDbm: -90 }], ['quiet', { lastSeenAt: NOW - 4 * HOUR, batteryV: null, rssiDbm: null }]]),
      fieldHours: async () => new Map([['f/north', [{ t: NOW - HOUR, soilMoisture: 0.2, rainfallMm: 1 }]]]),
      waterBalances: async () => new Map([['f/north', { at: NOW - HOUR, depletionMm: 60, rawMm: 52, tawMm: 130, hoursToRaw: 0 }]]),
      ...influx,
    },
  };
}

describe('the status snapshot', () => {
  const read = (s: StatusSources) => createSnapshotReader(s, createManualClock(NOW), DEFAULT_SNAPSHOT_OPTIONS)();

  it('says whether each configured field is in season, and why not (none for a field without a profile)', async () => {
    const s = await read(sources());
    expect(s.fields[0]!.season).toEqual({ in_season: true, reason: null, sowing_date: '2026-05-01', harvested_on: null });
    expect(s.fields[1]!.season).toBeNull();
    const harvested = { ...north, harvestedOn: '2026-07-01' };
    const views = createFieldViews({ instance: 'a', local: () => [{ ...predictorStatus.fields[0]!, settings: harvested }], mode: 'single', partitionOf: () => 0 });
    const off = await read(sources({}, views));
    expect(off.fields[0]!.season).toEqual({ in_season: false, reason: 'harvested 2026-07-01', sowing_date: '2026-05-01', harvested_on: '2026-07-01' });
    // Settings this release cannot read (a crop another instance's newer release knows): no season, no soil lines, the page still served.
    const unknown = createFieldViews({ instance: 'a', local: () => [{ ...predictorStatus.fields[0]!, settings: { ...north, crop: 'quinoa-2030' } }], mode: 'single', partitionOf: () => 0 });
    const unread = await read(sources({}, unknown));
    expect(unread.fields[0]).toMatchObject({ field: 'north', season: null, soil: null });
  });

  it('lists a gateway in the fleet, never as a field of its own', async () => {
    const base = sources();
    const gateway: Device = { ...device('gw-1', 'gw-1'), kind: 'gateway' };
    const s = await read({ ...base, devices: { list: async () => [...(await base.devices.list()), gateway] } });
    expect(s.fleet.devices.map((d) => d.id)).toContain('gw-1');
    expect(s.fields.map((f) => f.field)).toEqual(['north', 'east']);
  });

  it('flags devices silent past the stale age (never-seen ones too, disabled ones never)', async () => {
    const s = await read(sources());
    expect(s.fleet.devices.map((d) => [d.id, d.silent, d.last_seen])).toEqual([
      ['n1', false, new Date(NOW - 10 * 60_000).toISOString()],
      ['quiet', true, new Date(NOW - 4 * HOUR).toISOString()],
      ['off', false, null],
      ['e1', true, null],
    ]);
  });

  it('lists configured fields with advice, water balance, chart lines and history, then fields devices report for without a profile', async () => {
    const s = await read(sources());
    expect(s.fields.map((f) => [f.field, f.configured, f.devices])).toEqual([['north', true, ['n1', 'quiet', 'off']], ['east', false, ['e1']]]);
    const [n] = s.fields;
    expect(n!.evaluation).toEqual({ here: true, instance: 'a', partition: null, state_saved_at: null, state_saved_by: null });
    expect(s.fields[1]!.evaluation).toBeNull();
    expect(n!.advice).toMatchObject({ event_id: 'evt_1', expired: false, valid_until: new Date(NOW + HOUR).toISOString() });
    expect(n!.water).toMatchObject({ depletion_mm: 60, raw_mm: 52, taw_mm: 130 });
    expect(n!.learning).toMatchObject({ dry_days: 12, ratio: 0.64, applied: true, taw_factor: 1.37 });
    expect(s.fields[1]!.learning).toBeNull();
    // Loam: θFC 0.25, θWP 0.12; RAW 52 mm over 1 m of roots is 0.052 below field capacity.
    expect(n!.soil!.theta_fc).toBe(0.25);
    expect(n!.soil!.theta_raw).toBeCloseTo(0.198, 6);
    // 72 h back from 12:00: 73 hours, the 72nd (11:00) holding the one hour read.
    expect(n!.history.start).toBe(new Date(NOW - 72 * HOUR).toISOString());
    expect(n!.history.step_ms).toBe(HOUR);
    expect(n!.history.soil_moisture).toHaveLength(73);
    expect(n!.history.soil_moisture.flatMap((v, i) => (v === null ? [] : [[i, v]]))).toEqual([[71, 0.2]]);
    expect(n!.history.rainfall_mm.flatMap((v, i) => (v === null ? [] : [[i, v]]))).toEqual([[71, 1]]);
  });

  it('gives each subscription its health, backlog and last delivery, and only the host of its URL', async () => {
    const s = await read(sources());
    expect(s.subscriptions.map((x) => [x.id, x.health, x.backlog.pending, x.last_delivery?.status_code ?? null])).toEqual([
      ['s1', 'healthy', 0, 200],
      ['s2', 'failing', 3, null],
      ['s3', 'disabled', 0, null],
    ]);
    expect(JSON.stringify(s.subscriptions)).not.toContain('SECRET');
    expect(s.subscriptions[0]).toMatchObject({ host: 'api.telegram.org', format: 'telegram' });
    // An e-mail subscription: its recipients' domains, not their addresses.
    expect(s.subscriptions[2]!.host).toBe('farm.example, coop.example');
  });

  it('reports the pipeline from the ingestor and predictor snapshots', async () => {
    const s = await read(sources());
    expect(s.pipeline).toEqual({
      spool: { pending_bytes: 10, dead_letters: 1, consumers: [{ name: 'influx', pending_readings: 2, oldest_age_ms: 500 }] },
      influxdb_writer: { healthy: false, last_write_at: new Date(NOW - HOUR).toISOString() },
      predictor: { enabled: true, model: { name: 'm', version: '1', sha256: 'ab'.repeat(32) }, partitions: null },
    });
  });

  it('reads the charts\' history again only once it is older than historyMaxAgeMs; everything else on every read', async () => {
    const clock = createManualClock(NOW);
    const calls = { hours: 0, devices: 0 };
    const base = sources();
    const counted = sources({
      fieldHours: async (...args) => (calls.hours++, base.influx.fieldHours(...args)),
      devices: async (...args) => (calls.devices++, base.influx.devices(...args)),
    });
    const read = createSnapshotReader(counted, clock, { ...DEFAULT_SNAPSHOT_OPTIONS, historyMaxAgeMs: 60_000 });
    await read();
    await clock.advance(59_999);
    expect((await read()).fields[0]!.history.soil_moisture.filter((v) => v !== null)).toEqual([0.2]);
    expect(calls).toEqual({ hours: 1, devices: 2 });
    await clock.advance(1);
    await read();
    expect(calls).toEqual({ hours: 2, devices: 3 });
  });

  it('keeps every other section when InfluxDB fails, and names what is missing', async () => {
    const down = async () => {
      throw new Error('InfluxDB query failed: connect ECONNREFUSED');
    };
    const s = await read(sources({ devices: down, fieldHours: down, waterBalances: down }));
    expect(s.problems.map((p) => p.section)).toEqual(['fleet', 'fields', 'fields']);
    expect(s.fleet.devices).toHaveLength(4);
    expect(s.fields[0]!.advice).not.toBeNull();
    expect(s.fields[0]!.water).toBeNull();
    expect(s.subscriptions).toHaveLength(3);
  });

  it('answers when a source never does: its section is left empty and named, past the deadline', async () => {
    const never = () => new Promise<never>(() => {});
    const reader = createSnapshotReader(
      { ...sources({ devices: never }), ingestor: { status: never } },
      createManualClock(NOW),
      { ...DEFAULT_SNAPSHOT_OPTIONS, sectionDeadlineMs: 50 },
    );
    const s = await reader();
    expect(s.problems).toEqual([
      { section: 'fleet', message: 'no answer within 0.05 s' },
      { section: 'pipeline', message: 'no answer within 0.05 s' },
    ]);
    expect(s.fields[0]!.advice).not.toBeNull();
    expect(s.subscriptions).toHaveLength(3);
  });

  describe('where predictors share the fields', () => {
    const south: FieldSettings = { ...north, field: 'south' };
    const southAdvice = { eventId: 'evt_s', issuedAt: NOW - 2 * HOUR, validUntil: NOW + 22 * HOUR, startBy: NOW + HOUR, depthMm: 21 };
    const shared = (read: () => Promise<never> | undefined = () => undefined) =>
      createFieldViews({
        instance: 'a',
        local: () => predictorStatus.fields,
        mode: 'auto',
        partitionOf: (key) => (key === 'f/north' ? 3 : 7),
        shared: {
          profiles: { list: async () => [north, south] },
          state: {
            read: async () =>
              read() ??
              {
                fields: new Map([
                  ['f/north', { state: null, learning: null, savedAt: NOW - 60_000, savedBy: 'a' }],
                  ['f/south', { state: { advice: southAdvice, lastChangeAt: NOW - 2 * HOUR, stale: false }, learning: null, savedAt: NOW - 5 * 60_000, savedBy: 'b' }],
                ]),
                holders: new Map([[3, 'a'], [7, 'b']]),
              },
          },
          now: () => NOW,
          learnField: true,
        },
      });

    it('lists the fields another instance evaluates, with the advice it saved, who evaluates them and when it saved', async () => {
      const s = await read(sources({}, shared()));
      expect(s.fields.map((f) => [f.field, f.configured])).toEqual([['north', true], ['south', true], ['east', false]]);
      const south = s.fields[1]!;
      expect(south.evaluation).toEqual({ here: false, instance: 'b', partition: 7, state_saved_at: new Date(NOW - 5 * 60_000).toISOString(), state_saved_by: 'b' });
      expect(south.advice).toEqual({ event_id: 'evt_s', issued_at: new Date(NOW - 2 * HOUR).toISOString(), start_by: new Date(NOW + HOUR).toISOString(), valid_until: new Date(NOW + 22 * HOUR).toISOString(), expired: false });
      // Its own field: the state of its last round (not the older one saved), with when it was saved.
      expect(s.fields[0]!.advice).toMatchObject({ event_id: 'evt_1' });
      expect(s.fields[0]!.evaluation).toMatchObject({ here: true, instance: 'a', partition: 3, state_saved_by: 'a' });
    });

    it('keeps its own fields when the shared store cannot be read, and names the problem', async () => {
      const s = await read(sources({}, shared(() => Promise.reject(new Error('database unavailable')))));
      expect(s.fields.map((f) => f.field)).toEqual(['north', 'east']);
      expect(s.fields[0]!.advice).toMatchObject({ event_id: 'evt_1' });
      expect(s.problems).toEqual([{ section: 'fields', message: 'database unavailable' }]);
    });
  });
});
