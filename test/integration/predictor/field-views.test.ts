/**
 * Two predictors sharing the fields on one PostgreSQL (automatic partitions), with the real model
 * and a real InfluxDB: the status page and the chat of one instance show every field of the farm,
 * those the other instance evaluates too, with the advice in force as it saved it and who
 * evaluates them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation } from '../../../services/chat/conversation.js';
import { predictorFieldDirectory } from '../../../services/chat/predictor-fields.js';
import { createSqliteChatUsers } from '../../../services/chat/users.js';
import { buildHostApp } from '../../../services/host/http-app.js';
import type { IrrigationService } from '../../../services/irrigations/service.js';
import { createModelHolder, type ModelHolder } from '../../../services/predictor/model-holder.js';
import { fieldHash } from '../../../services/predictor/partition.js';
import { AUTO_PARTITIONS } from '../../../services/predictor/partition-assignment.js';
import { createPostgresFieldProfiles } from '../../../services/predictor/postgres-field-profiles.js';
import { createPostgresFieldStateReader } from '../../../services/predictor/postgres-field-views.js';
import { createPostgresPredictorStore } from '../../../services/predictor/postgres-predictor-store.js';
import { createPartitionClaim } from '../../../services/host/partition-claim.js';
import { systemClock } from '../../../services/shared/clock.js';
import { closeControlPlane, createControlPlane, type ControlPlane, type PostgresPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { buildStatusPage } from '../../../services/status/build-status-page.js';
import type { StatusSnapshot } from '../../../services/status/snapshot.js';
import { advisedSeason, afterHeartbeat, buildSharedPredictor, type SharedPredictor } from '../../helpers/advice-fixture.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();
const FARM = 'valley';
const FIELDS = Array.from({ length: 8 }, (_, i) => `p${i}`);
const ADMIN_TOKEN = 'field-views-admin-token-0123456789';

describe(`every field on every instance, with predictors sharing them on PostgreSQL (InfluxDB ${influx.kind})`, () => {
  const target = influx.target(`field_views_${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), 'fh-field-views-'));
  const model = createModelHolder({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json', pollMs: 60_000 }, silentLogger());
  const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: () => model.reload(), current: () => model.current() };
  let databaseUrl: string;
  let adviceAt: number;
  let a: SharedPredictor;
  let b: SharedPredictor;
  /** The advice each field was given (by a, which evaluated every field first), by field. */
  const advised = new Map<string, string>();
  const running: SharedPredictor[] = [];
  let profilesPlane: ControlPlane | undefined;

  const start = async (id: string, at: number): Promise<SharedPredictor> => {
    // Field profiles, decision state and leases all on PostgreSQL, as `fieldhook start` has them.
    const r = buildSharedPredictor({ id, at, planeDir: join(dir, id), dataDir: join(dir, id), databaseUrl, target, holder });
    running.push(r);
    await r.predictor.start();
    return r;
  };
  const own = (r: SharedPredictor) => r.predictor.status().fields.map((f) => f.settings.field).sort();

  beforeAll(async () => {
    await influx.createDatabase(target.bucket);
    await model.start();
    const season = await advisedSeason('irrigation-advice', holder);
    adviceAt = season.adviceAt;
    await season.write(target, FIELDS.map((field) => ({ farm: FARM, field })));
    databaseUrl = await createTestDatabase('field_views');
    profilesPlane = createControlPlane({ DATA_DIR: dir, DATABASE_URL: databaseUrl, INSTANCE_ID: 'cli' }, silentLogger());
    const profiles = createPostgresFieldProfiles(profilesPlane as PostgresPlane, systemClock);
    await profiles.open();
    for (const field of FIELDS) await profiles.add(season.settings(FARM, field));
    await profiles.close();
    expect(new Set(FIELDS.map((f) => fieldHash(`${FARM}/${f}`) % AUTO_PARTITIONS)).size).toBeGreaterThan(4);

    // a alone advises every field; then b joins and each takes half of the partitions.
    a = await start('pred-a', adviceAt);
    for (const e of a.published.filter((x) => x.type === 'irrigation.recommended')) advised.set((e.data as { field: string }).field, e.id!);
    expect([...advised.keys()].sort()).toEqual([...FIELDS].sort());
    b = await start('pred-b', adviceAt);
    await afterHeartbeat(a, (n) => n === AUTO_PARTITIONS / 2);
    await afterHeartbeat(b, (n) => n === AUTO_PARTITIONS / 2);
    expect(own(b).length).toBeGreaterThan(0);
    expect(own(a).length).toBeGreaterThan(0);
  }, 120_000);

  afterAll(async () => {
    for (const r of running) {
      await r.predictor.stop().catch(() => {});
      await closeControlPlane(r.plane);
    }
    if (profilesPlane) await closeControlPlane(profilesPlane);
    await model.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the status page of one instance lists the fields the other evaluates, with their advice in force and who evaluates them', async () => {
    const ofB = own(b);
    const status = buildStatusPage({
      adminToken: ADMIN_TOKEN,
      tls: false,
      influx: target,
      clock: a.clock,
      sources: {
        devices: { list: async () => [] },
        ingestor: { status: async () => ({ spool: { pendingBytes: 0, consumers: {}, deadLetters: 0 }, writer: { healthy: true, lastSuccessAt: null } }) },
        dispatcher: { store: { subscriptions: { list: async () => [] }, outbox: { backlog: async () => [], lastAttempted: async () => [] } } },
        predictor: a.predictor,
      },
    });
    const app = buildHostApp([status], { logger: silentLogger() });
    try {
      // Through the route: the snapshot passes its JSON schema (the serializer drops nothing it needs).
      const res = await app.inject({ method: 'GET', url: '/ui/api/status', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.statusCode).toBe(200);
      const s = res.json<StatusSnapshot>();
      expect(s.problems).toEqual([]);
      expect(s.fields.map((f) => f.field).sort()).toEqual([...FIELDS].sort());
      for (const f of s.fields) {
        expect(f.advice?.event_id, f.field).toBe(advised.get(f.field));
        const elsewhere = ofB.includes(f.field);
        expect(f.evaluation, f.field).toMatchObject({
          here: !elsewhere,
          instance: elsewhere ? 'pred-b' : 'pred-a',
          partition: fieldHash(`${FARM}/${f.field}`) % AUTO_PARTITIONS,
          // a saved every advice as it sent it; b saves a field's state once its rounds change it.
          state_saved_by: expect.stringMatching(/^pred-[ab]$/),
        });
        expect(f.evaluation!.state_saved_at).not.toBeNull();
      }
    } finally {
      await app.close();
    }
  });

  it('the chat of one instance lists every field with its advice, answers status for one evaluated elsewhere with what was saved and recorded there, and records irrigations on it', async () => {
    const ofB = own(b);
    const directory = predictorFieldDirectory(a.predictor);
    const listed = await directory.list([FARM]);
    expect(listed.map((f) => f.field).sort()).toEqual([...FIELDS].sort());
    expect(listed.every((f) => f.advice !== null && f.advice.validUntil > adviceAt)).toBe(true);

    const field = ofB[0]!;
    const s = await directory.status(FARM, field);
    expect(s).toMatchObject({ farm: FARM, field, elsewhere: { instance: 'pred-b', partition: fieldHash(`${FARM}/${field}`) % AUTO_PARTITIONS } });
    expect(s!.advice).not.toBeNull();
    // No assessment here: the balance b's (or, before b took the field, a's) round recorded last, read back from InfluxDB.
    expect(s!.elsewhere!.recordedAt).toBeGreaterThanOrEqual(adviceAt);
    expect(s!.depletionMm).toBeGreaterThan(0);
    expect(s!.rawMm).toBeGreaterThan(0);

    const users = createSqliteChatUsers(':memory:');
    try {
      await users.add('telegram', '42', FARM);
      const asked: unknown[] = [];
      const irrigations: IrrigationService = {
        async record(input, reporter) {
          asked.push(input);
          const at = new Date(adviceAt).toISOString();
          return { record: { id: 'irr_000000000000000000000001', ...(input as { farm: string; field: string; depth_mm: number }), start: at, end: at, source: reporter.source, who: reporter.who, recorded_at: at }, replayed: false };
        },
        list: async () => [],
      };
      const conversation = createConversation({ users, fields: directory, irrigations });
      const reply = await conversation.answer(`/status ${field}`, { platform: 'telegram', user: '42', interactionId: '1' });
      const [advice, where] = reply.text.split('\n');
      expect(advice).toMatch(new RegExp(`^${FARM}/${field}: .*irrigate`));
      expect(where).toMatch(new RegExp(`^${FARM}/${field}: assessed on instance pred-b \\(partition \\d+\\), not here; advice as it saved it \\w+, \\w+ \\d+, \\d\\d:\\d\\d; [\\d.]+ mm of [\\d.]+ mm readily available water used as recorded \\w+, \\w+ \\d+, \\d\\d:\\d\\d$`));
      // The field is known here, so what people say they irrigated on it is recorded (not refused as a typo).
      expect((await conversation.answer(`irrigated ${field} 12`, { platform: 'telegram', user: '42', interactionId: '2' })).recorded).toBe(true);
      expect(asked).toEqual([{ farm: FARM, field, depth_mm: 12 }]);
      // One this instance evaluates is assessed here, as before.
      const mine = own(a)[0]!;
      expect(await directory.status(FARM, mine)).toMatchObject({ field: mine, depletionMm: expect.any(Number), rawMm: expect.any(Number) });
    } finally {
      users.close();
    }
  });

  it('with partitions set by hand, names the instance claiming a field\'s partition', async () => {
    const url = await createTestDatabase('field_views_claims');
    const claimer = createControlPlane({ DATA_DIR: join(dir, 'm1'), DATABASE_URL: url, INSTANCE_ID: 'pred-m1' }, silentLogger()) as PostgresPlane;
    const looker = createControlPlane({ DATA_DIR: join(dir, 'm0'), DATABASE_URL: url, INSTANCE_ID: 'pred-m0' }, silentLogger()) as PostgresPlane;
    const claim = createPartitionClaim(claimer, { partitions: 2, partition: 1 }, silentLogger());
    try {
      await createPostgresPredictorStore(looker, 'pred-m0').open();
      const reader = createPostgresFieldStateReader(looker, { learning: true, holders: 'claims' });
      expect((await reader.read(adviceAt)).holders).toEqual(new Map());
      await claim.start();
      expect((await reader.read(adviceAt)).holders).toEqual(new Map([[1, 'pred-m1']]));
      await claim.stop();
      expect((await reader.read(adviceAt)).holders).toEqual(new Map());
      // Fields that do not learn (PREDICT_LEARN_FIELD=false): the statement without its learning part runs too.
      expect(await createPostgresFieldStateReader(looker, { learning: false, holders: 'leases' }).read(adviceAt)).toEqual({ fields: new Map(), holders: new Map() });
    } finally {
      await claim.stop();
      await closeControlPlane(claimer);
      await closeControlPlane(looker);
    }
  });
});
