/** SQLite implementations of the predictor's repositories: the only module with predictor SQL. */
import { openSqlite, type Migration, type SqliteDatabase } from '../shared/sqlite.js';
import type { DecisionState } from './decision.js';
import type { FieldLearningState } from './field-learning.js';
import { validateFieldSettings, type FieldProfileRepository, type FieldSettings } from './field-profiles.js';
import { Errors } from '../shared/error-catalog.js';

/** Decision state per field, saved after every event so a restart does not re-send. */
export interface DecisionStateRepository {
  loadAll(): Promise<Map<string, DecisionState>>;
  save(farm: string, field: string, state: DecisionState): Promise<void>;
  /** Several fields in one transaction (a round that changed many). */
  saveMany(entries: readonly { farm: string; field: string; state: DecisionState }[]): Promise<void>;
  close(): void;
}

/** What each field has learnt from its own trace (field-learning.ts), kept beside its decision state. */
export interface FieldLearningRepository {
  loadAll(): Promise<Map<string, FieldLearningState>>;
  saveMany(entries: readonly { farm: string; field: string; state: FieldLearningState }[]): Promise<void>;
}

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
  // NORMAL: the state can be rebuilt; a lost last commit means at worst one event re-published
  // with the same id, which the dispatcher de-duplicates.
  return openSqlite(path, MIGRATIONS, { synchronous: 'NORMAL' });
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
      return settings;
    },
    async update(farm, field, patch) {
      const row = get.get(farm, field);
      if (!row) throw Errors.fieldNotFound(`No field ${farm}/${field}`);
      const next = validateFieldSettings({ ...parse(row), ...patch, farm, field });
      replace.run(JSON.stringify(next), Date.now(), farm, field);
      return next;
    },
    async remove(farm, field) {
      return remove(farm, field);
    },
    close() {
      if (ownsDb) db.close();
    },
  };
}

export function createSqliteDecisionStates(db: SqliteDatabase, ownsDb = false): DecisionStateRepository {
  const all = db.prepare<[], { farm: string; field: string; state: string }>('SELECT farm, field, state FROM decision_state');
  const upsert = db.prepare(
    'INSERT INTO decision_state (farm, field, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (farm, field) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
  );
  return {
    async loadAll() {
      return new Map(all.all().map((r) => [`${r.farm}/${r.field}`, JSON.parse(r.state) as DecisionState]));
    },
    async save(farm, field, state) {
      upsert.run(farm, field, JSON.stringify(state), Date.now());
    },
    async saveMany(entries) {
      const now = Date.now();
      db.transaction(() => {
        for (const e of entries) upsert.run(e.farm, e.field, JSON.stringify(e.state), now);
      })();
    },
    close() {
      if (ownsDb) db.close();
    },
  };
}

export function createSqliteFieldLearning(db: SqliteDatabase): FieldLearningRepository {
  const all = db.prepare<[], { farm: string; field: string; state: string }>('SELECT farm, field, state FROM field_learning');
  const upsert = db.prepare(
    'INSERT INTO field_learning (farm, field, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (farm, field) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
  );
  return {
    async loadAll() {
      return new Map(all.all().map((r) => [`${r.farm}/${r.field}`, JSON.parse(r.state) as FieldLearningState]));
    },
    async saveMany(entries) {
      const now = Date.now();
      db.transaction(() => {
        for (const e of entries) upsert.run(e.farm, e.field, JSON.stringify(e.state), now);
      })();
    },
  };
}

/** For a predictor built on repositories that keep no learning (tests): learnt in memory only. */
export function createMemoryFieldLearning(): FieldLearningRepository {
  const saved = new Map<string, FieldLearningState>();
  return {
    loadAll: async () => new Map(saved),
    async saveMany(entries) {
      for (const e of entries) saved.set(`${e.farm}/${e.field}`, e.state);
    },
  };
}
