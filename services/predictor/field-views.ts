/**
 * Every registered field as people look at it (the status page, the chat), whichever predictor
 * evaluates it. Where predictors share the fields on PostgreSQL, this instance evaluates only
 * its share: the fields it evaluates come as of its last round, the others as their predictor
 * saved them last (the advice in force, what the field learnt), with who evaluates them and when
 * their state was saved, so a reader can tell. With one predictor evaluating every field (SQLite,
 * or a single partition) it is that predictor's own view.
 */
import type { DecisionState } from './decision.js';
import { factorsOf, type FieldFactors, type FieldLearningState } from './field-learning.js';
import { fieldKey, profileOf, type FieldProfileRepository, type FieldSettings } from './field-profiles.js';
import type { SharedFieldStateReader } from './postgres-field-views.js';
import type { RecordedBalance, RecordedBalanceReader } from './recorded-balance.js';

/** Who evaluates a field, and how fresh what is shown of it is. */
export interface FieldEvaluation {
  /** This instance evaluates it: its state is as of this instance's last round. */
  here: boolean;
  /**
   * The instance that evaluates it: this one, the live holder of its partition's lease or the one
   * claiming it (partitions set by hand), or null when none does right now (a partition between
   * two holders, an instance down).
   */
  instance: string | null;
  /** Its partition; null while one predictor evaluates every field. */
  partition: number | null;
  /** When its decision state was saved last (epoch ms) and by which instance; null when never, or not read (one predictor). */
  savedAt: number | null;
  savedBy: string | null;
}

export interface FieldView {
  settings: FieldSettings;
  /** The decision state: the advice in force. */
  state: DecisionState | null;
  /** What the field learnt from its dry days; null before its first day, or with PREDICT_LEARN_FIELD=false. */
  learning: FieldFactors | null;
  evaluation: FieldEvaluation;
}

/** The read-only source the status page and the chat read fields from. */
export interface FieldViews {
  /**
   * Every field with a profile, in the profiles' order. Where fields are shared, reads the
   * profiles (only when they changed) and the saved state of every field in one query; fails
   * with FH_ERR_DATABASE_UNAVAILABLE when PostgreSQL cannot be read.
   */
  read(): Promise<FieldView[]>;
  /** Only the fields this instance evaluates, from memory: never fails (the fall-back of `read`). */
  local(): FieldView[];
  /**
   * The newest water balance recorded for a field by whichever predictor evaluates it (InfluxDB):
   * what is known of a field evaluated elsewhere, which cannot be assessed here. Undefined when
   * none is known; rejects when InfluxDB cannot be read.
   */
  recorded(farm: string, field: string): Promise<RecordedBalance | undefined>;
}

/** What the predictor knows of its own fields (its `status().fields`). */
export interface LocalField {
  settings: FieldSettings;
  state: DecisionState | null;
  learning?: FieldFactors | null;
}

export interface FieldViewsDeps {
  /** This instance's id. */
  instance: string;
  /** The fields this instance evaluates, as of its last round. */
  local(): readonly LocalField[];
  /** How fields are shared (field-ownership.ts): with `single` nothing is read and no partition shown. */
  mode: 'single' | 'manual' | 'auto';
  /** A field's partition (key `farm/field`). */
  partitionOf(key: string): number;
  /** Where recorded water balances are read; without it none is known. */
  recorded?: RecordedBalanceReader;
  /** Where the others' state is read; without it only the local fields are shown. */
  shared?: { profiles: Pick<FieldProfileRepository, 'list' | 'changeVersion'>; state: SharedFieldStateReader; now(): number; learnField: boolean };
  /**
   * The profiles, where nothing is shared: a field added since the last round is listed (not yet
   * evaluated) instead of missing until the next one, so the chat does not take a misspelt name
   * for a field it has not heard of.
   */
  profiles?: Pick<FieldProfileRepository, 'list' | 'changeVersion'>;
}

export function createFieldViews(deps: FieldViewsDeps): FieldViews {
  const partition = (key: string) => (deps.mode === 'single' ? null : deps.partitionOf(key));
  const local = (): FieldView[] =>
    deps.local().map((f) => ({
      settings: f.settings,
      state: f.state,
      learning: f.learning ?? null,
      evaluation: { here: true, instance: deps.instance, partition: partition(fieldKey(f.settings.farm, f.settings.field)), savedAt: null, savedBy: null },
    }));
  const recorded = async (farm: string, field: string) => deps.recorded?.latest(farm, field);
  const shared = deps.mode === 'single' ? undefined : deps.shared;
  const source = shared?.profiles ?? deps.profiles;
  if (!source) return { read: async () => local(), local, recorded };

  /** The profiles as last listed, and the change version they were listed at (NaN: list every time). */
  let profiles: { version: number; list: FieldSettings[] } | undefined;
  const listProfiles = async () => {
    const version = source.changeVersion?.() ?? Number.NaN;
    if (profiles && !Number.isNaN(version) && profiles.version === version) return profiles.list;
    const list = await source.list();
    profiles = { version, list };
    return list;
  };
  if (!shared) {
    return {
      local,
      recorded,
      async read() {
        const mine = new Map(local().map((v) => [fieldKey(v.settings.farm, v.settings.field), v]));
        const views = (await listProfiles()).map((settings): FieldView => {
          const key = fieldKey(settings.farm, settings.field);
          const here = mine.get(key);
          mine.delete(key);
          // Added since the last round: evaluated here at the next one.
          return here ?? { settings, state: null, learning: null, evaluation: { here: true, instance: deps.instance, partition: partition(key), savedAt: null, savedBy: null } };
        });
        return [...views, ...mine.values()];
      },
    };
  }
  const factors = (settings: FieldSettings, learnt: FieldLearningState | null): FieldFactors | null => {
    if (!learnt || !shared.learnField) return null;
    try {
      return factorsOf(learnt, profileOf(settings).tzLongitudeDeg);
    } catch {
      return null;
    }
  };

  return {
    local,
    recorded,
    async read() {
      const [list, saved] = await Promise.all([listProfiles(), shared.state.read(shared.now())]);
      const mine = new Map(local().map((v) => [fieldKey(v.settings.farm, v.settings.field), v]));
      const views = list.map((settings): FieldView => {
        const key = fieldKey(settings.farm, settings.field);
        const s = saved.fields.get(key);
        const here = mine.get(key);
        mine.delete(key);
        if (here) return { ...here, evaluation: { ...here.evaluation, savedAt: s?.savedAt ?? null, savedBy: s?.savedBy ?? null } };
        const p = deps.partitionOf(key);
        return {
          settings,
          state: s?.state ?? null,
          learning: factors(settings, s?.learning ?? null),
          evaluation: { here: false, instance: saved.holders.get(p) ?? null, partition: p, savedAt: s?.savedAt ?? null, savedBy: s?.savedBy ?? null },
        };
      });
      // A field evaluated here whose profile the list no longer has (removed a moment ago) stays until the next round drops it.
      return [...views, ...mine.values()];
    },
  };
}
