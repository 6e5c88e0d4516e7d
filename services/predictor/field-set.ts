import { FEATURE_WINDOW_HOURS } from '../model/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { EvaluatedField } from './evaluator.js';
import { fieldKey, profileOf, type FieldProfileRepository, type FieldSettings } from './field-profiles.js';
import type { HistoryLoader } from './history-loader.js';
import type { WindowStore } from './window-store.js';

const HOUR_MS = 3_600_000;

export interface FieldSet {
  get(key: string): EvaluatedField | undefined;
  all(): EvaluatedField[];
  readonly size: number;
  /**
   * Re-read the profiles of the fields this instance evaluates. With `withHistory`, fields that
   * were not known before get their window from InfluxDB, not only what arrives from now on.
   * `prepare` runs with the keys that come in before they enter the set (their saved state is
   * read there): if it or the history load fails, the set is left as it was and the error thrown,
   * so no field is ever evaluated without what it saved last. Returns the keys that came and went,
   * and of those gone, the fields no longer configured at all (not moved to another instance).
   */
  reload(withHistory: boolean, prepare?: (added: string[], settings: FieldSettings[]) => Promise<void>): Promise<{ added: string[]; removed: string[]; deleted: FieldSettings[] }>;
  /** Fill the windows of every field from InfluxDB (start-up); returns how many had history. */
  loadHistory(): Promise<number>;
}

/** The fields this predictor instance evaluates, and the history their windows start from. */
export function createFieldSet(deps: {
  repo: FieldProfileRepository;
  history: HistoryLoader;
  windows: WindowStore;
  /** Whether this instance evaluates a field (its partition's, field-ownership.ts). */
  evaluates(key: string): boolean;
  clock: Clock;
  logger: Logger;
}): FieldSet {
  const { repo, history, windows, evaluates, clock, logger } = deps;
  let fields = new Map<string, EvaluatedField>();

  async function load(wanted: readonly EvaluatedField[]): Promise<number> {
    const now = clock.now();
    const loaded = await history.load(now - (FEATURE_WINDOW_HOURS + 1) * HOUR_MS, now, wanted.map((f) => f.settings));
    for (const [key, readings] of loaded) windows.apply(key, readings);
    return loaded.size;
  }

  return {
    get: (key) => fields.get(key),
    all: () => [...fields.values()],
    get size() {
      return fields.size;
    },
    async reload(withHistory, prepare) {
      const next = new Map<string, EvaluatedField>();
      const listed = new Set<string>();
      for (const settings of await repo.list()) {
        const key = fieldKey(settings.farm, settings.field);
        listed.add(key);
        if (!evaluates(key)) continue;
        const previous = fields.get(key);
        // Unchanged settings keep their profile object, and with it the feature cache.
        if (previous && JSON.stringify(previous.settings) === JSON.stringify(settings)) {
          next.set(key, previous);
          continue;
        }
        try {
          next.set(key, { key, settings, profile: profileOf(settings) });
        } catch (err) {
          logger.error({ err, key }, 'field profile is unusable; field skipped');
        }
      }
      const added = [...next.values()].filter((f) => !fields.has(f.key));
      const removed = [...fields.keys()].filter((k) => !next.has(k));
      const deleted = removed.filter((k) => !listed.has(k)).map((k) => fields.get(k)!.settings);
      const keys = added.map((f) => f.key);
      if (added.length > 0) await prepare?.(keys, added.map((f) => f.settings));
      if (withHistory && added.length > 0) {
        await load(added);
        logger.info({ fields: keys }, 'fields added; windows loaded from InfluxDB');
      }
      fields = next;
      return { added: keys, removed, deleted };
    },
    loadHistory: () => load([...fields.values()]),
  };
}
