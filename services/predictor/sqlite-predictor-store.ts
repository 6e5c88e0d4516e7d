/** SQLite implementations of the predictor's repositories: the only module with predictor SQL. */
import { changeVersion, openSqlite, type Migration, type SqliteDatabase } from '../shared/sqlite.js';
import { loadedState, type DecisionState } from './decision.js';
import type { FieldLearningState } from './field-learning.js';
import { validateFieldSettings, type FieldProfileRepository, type FieldSettings } from './field-profiles.js';
import type { DecisionStateRepository, FieldLearningRepository, StateWriteOptions } from './predictor-store.js';
import { Errors } from '../shared/error-catalog.js';

export type { DecisionStateRepository, FieldLearningRepository } from './predictor-store.js';

const MIGRATIONS: Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE field_profile (
        farm TEXT NOT NULL, field TEXT NOT NULL, settings TEXT NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (farm, field)
      );
      CREATE TABLE decision_state (
        farm TEXT NOT NULL, field TEXT NOT NULL, state TEXT NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (farm, field)
      );`);
  },
  (db) => {
    db.exec(`
      CREATE TABLE field_learning (
        farm TEXT NOT NULL, field TEXT NOT NULL, state TEXT NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (farm, field)
      );`);
  },
];

/** Open (or create) the predictor's SQLite file; `:memory:` for tests. */
export function openPredictorDb(path: string): SqliteDatabase {
  // FULL: event ids come from the state a decision starts from (evaluator.ts). With NORMAL a power
  // loss may take back several saved states at once, and a decision made again from one of them
  // would repeat an id already delivered for another event, which the dispatcher would then drop.
  // Saved states are few (one per changed field per round), so the fsync is cheap.
  return openSqlite(path, MIGRATIONS, { synchronous: 'FULL' });
}

export function createSqliteFieldProfiles(db: SqliteDatabase, ownsDb = false): FieldProfileRepository {
  const list = db.prepare<[], { settings: string }>('SELECT settings FROM field_profile ORDER BY farm, field');
  const listFarm = db.prepare<[string], { settings: string }>('SELECT settings FROM field_profile WHERE farm = ? ORDER BY field');
  const get = db.prepare<[string, string], { settings: string }>('SELECT settings FROM field_profile WHERE farm = ? AND field = ?');
  const insert = db.prepare('INSERT INTO field_profile (farm, field, settings, updated_at) VALUES (?, ?, ?, ?)');
  const replace = db.prepare('UPDATE field_profile SET settings = ?, updated_at = ? WHERE farm = ? AND field = ?');
  const removeProfile = db.prepare('DELETE FROM field_profile WHERE farm = ? AND field = ?');
  const removeState = db.prepare('DELETE FROM decision_state WHERE farm = ? AND field = ?');
  const removeLearning = db.prepare('DELETE FROM field_learning WHERE farm = ? AND field = ?');
  // A field added again later starts afresh: its old advice state and what it learnt go with its profile.
  const remove = db.transaction((farm: string, field: string) => {
    removeState.run(farm, field);
    removeLearning.run(farm, field);
    return removeProfile.run(farm, field).changes > 0;
  });
  const parse = (row: { settings: string }) => JSON.parse(row.settings) as FieldSettings;
  // Moves when another connection commits to the file (the CLI's `fields add` in another process),
  // so a running predictor takes a field in with its next round, not only the scheduled one.
  const changes = changeVersion(db);
  return {
    async list(farm) {
      return (farm === undefined ? list.all() : listFarm.all(farm)).map(parse);
    },
    async get(farm, field) {
      const row = get.get(farm, field);
      return row ? parse(row) : undefined;
    },
    async add(settings) {
      validateFieldSettings(settings);
      if (get.get(settings.farm, settings.field)) throw Errors.fieldExists(`Field ${settings.farm}/${settings.field} exists; use update`);
      insert.run(settings.farm, settings.field, JSON.stringify(settings), Date.now());
      changes.wrote();
      return settings;
    },
    async update(farm, field, patch) {
      const row = get.get(farm, field);
      if (!row) throw Errors.fieldNotFound(`No field ${farm}/${field}`);
      const next = validateFieldSettings({ ...parse(row), ...patch, farm, field });
      replace.run(JSON.stringify(next), Date.now(), farm, field);
      changes.wrote();
      return next;
    },
    async remove(farm, field) {
      changes.wrote();
      return remove(farm, field);
    },
    changeVersion: () => changes.version(),
    close() {
      if (ownsDb) db.close();
    },
  };
}

/**
 * `INSERT … ON CONFLICT` of a field's state into `table`, taking (farm, field, state, updated_at);
 * with `onlyProfiled`, written only while the field has a profile in this file (the profile's
 * removal deletes the state in the same transaction, so no later save brings it back).
 */
function stateUpsert(db: SqliteDatabase, table: 'decision_state' | 'field_learning', options: StateWriteOptions) {
  const update = 'ON CONFLICT (farm, field) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at';
  const statement = options.onlyProfiled
    ? db.prepare(
        `INSERT INTO ${table} (farm, field, state, updated_at) SELECT @farm, @field, @state, @at WHERE EXISTS (SELECT 1 FROM field_profile WHERE farm = @farm AND field = @field) ${update}`,
      )
    : db.prepare(`INSERT INTO ${table} (farm, field, state, updated_at) VALUES (@farm, @field, @state, @at) ${update}`);
  return { run: (farm: string, field: string, state: string, at: number) => statement.run({ farm, field, state, at }) };
}

export function createSqliteDecisionStates(db: SqliteDatabase, ownsDb = false, options: StateWriteOptions = {}): DecisionStateRepository {
  const all = db.prepare<[], { farm: string; field: string; state: string; updated_at: number }>('SELECT farm, field, state, updated_at FROM decision_state');
  const one = db.prepare<[string, string], { state: string; updated_at: number }>('SELECT state, updated_at FROM decision_state WHERE farm = ? AND field = ?');
  const upsert = stateUpsert(db, 'decision_state', options);
  const parse = (r: { state: string; updated_at: number }) => loadedState(JSON.parse(r.state) as DecisionState, r.updated_at);
  return {
    async loadAll() {
      return new Map(all.all().map((r) => [`${r.farm}/${r.field}`, parse(r)]));
    },
    async loadMany(keys) {
      return loadKeys(keys, one, parse);
    },
    async save(farm, field, state) {
      upsert.run(farm, field, JSON.stringify(state), Date.now());
    },
    async saveMany(entries) {
      const now = Date.now();
      db.transaction(() => {
        for (const e of entries) upsert.run(e.farm, e.field, JSON.stringify(e.state), now);
      })();
      // One instance owns the file: nothing is ever fenced off.
      return [];
    },
    close() {
      if (ownsDb) db.close();
    },
  };
}

export function createSqliteFieldLearning(db: SqliteDatabase, options: StateWriteOptions = {}): FieldLearningRepository {
  const all = db.prepare<[], { farm: string; field: string; state: string }>('SELECT farm, field, state FROM field_learning');
  const one = db.prepare<[string, string], { state: string }>('SELECT state FROM field_learning WHERE farm = ? AND field = ?');
  const upsert = stateUpsert(db, 'field_learning', options);
  return {
    async loadAll() {
      return new Map(all.all().map((r) => [`${r.farm}/${r.field}`, JSON.parse(r.state) as FieldLearningState]));
    },
    async loadMany(keys) {
      return loadKeys(keys, one, (r) => JSON.parse(r.state) as FieldLearningState);
    },
    async saveMany(entries) {
      const now = Date.now();
      db.transaction(() => {
        for (const e of entries) upsert.run(e.farm, e.field, JSON.stringify(e.state), now);
      })();
    },
  };
}

/** The rows of `keys` (`farm/field`, split at the first slash: farm names have none) that exist. */
function loadKeys<S, R>(keys: readonly string[], one: { get(farm: string, field: string): R | undefined }, parse: (row: R) => S): Map<string, S> {
  const found = new Map<string, S>();
  for (const key of keys) {
    const slash = key.indexOf('/');
    const row = one.get(key.slice(0, slash), key.slice(slash + 1));
    if (row) found.set(key, parse(row));
  }
  return found;
}

/** For a predictor built on repositories that keep no learning (tests): learnt in memory only. */
export function createMemoryFieldLearning(): FieldLearningRepository {
  const saved = new Map<string, FieldLearningState>();
  return {
    loadAll: async () => new Map(saved),
    loadMany: async (keys) => new Map(keys.flatMap((k) => (saved.has(k) ? [[k, saved.get(k)!] as const] : []))),
    async saveMany(entries) {
      for (const e of entries) saved.set(`${e.farm}/${e.field}`, e.state);
    },
  };
}
