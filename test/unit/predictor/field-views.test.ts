import { describe, expect, it } from 'vitest';
import type { DecisionState } from '../../../services/predictor/decision.js';
import { INITIAL_FIELD_LEARNING, type FieldLearningState } from '../../../services/predictor/field-learning.js';
import type { FieldSettings } from '../../../services/predictor/field-profiles.js';
import { createFieldViews, type FieldViewsDeps } from '../../../services/predictor/field-views.js';
import type { SavedField, SharedFieldState } from '../../../services/predictor/postgres-field-views.js';

const NOW = Date.parse('2026-07-06T12:00:00Z');
const settings = (field: string): FieldSettings => ({ farm: 'f', field, crop: 'tomato', soil: 'loam', sowingDate: '2026-05-01', efficiency: 0.8, latitudeDeg: 45, longitudeDeg: 0, elevationM: 50 });
const advised = (eventId: string): DecisionState => ({ advice: { eventId, issuedAt: NOW - 3_600_000, validUntil: NOW + 3_600_000, startBy: NOW }, lastChangeAt: NOW - 3_600_000, stale: false });
const PARTITION: Record<string, number> = { 'f/a': 1, 'f/b': 2, 'f/c': 3 };
const learnt: FieldLearningState = { ...INITIAL_FIELD_LEARNING, sxx: 400, sxy: 300, sqq: 240, dryDays: 9, lastDayEnd: NOW - 12 * 3_600_000, lastOutcome: 'dry' };

/** b is evaluated by instance y (partition 2), c's partition is between holders; x evaluates a. */
function setup(over: Partial<FieldViewsDeps> = {}, saved: Partial<Record<string, SavedField>> = {}) {
  const calls = { profiles: 0, state: 0 };
  let version = 1;
  const state: SharedFieldState = {
    fields: new Map(
      Object.entries({
        'f/a': { state: advised('evt_old_a'), learning: null, savedAt: NOW - 60_000, savedBy: 'x' },
        'f/b': { state: advised('evt_b'), learning: learnt, savedAt: NOW - 120_000, savedBy: 'y' },
        ...saved,
      }).flatMap(([k, v]) => (v ? [[k, v] as const] : [])),
    ),
    holders: new Map([[1, 'x'], [2, 'y']]),
  };
  const views = createFieldViews({
    instance: 'x',
    local: () => [{ settings: settings('a'), state: advised('evt_a'), learning: null }],
    mode: 'auto',
    partitionOf: (key) => PARTITION[key]!,
    shared: {
      profiles: { list: async () => (calls.profiles++, ['a', 'b', 'c'].map(settings)), changeVersion: () => version },
      state: { read: async (now) => (expect(now).toBe(NOW), calls.state++, state) },
      now: () => NOW,
      learnField: true,
    },
    ...over,
  });
  return { views, calls, bump: () => version++ };
}

describe('field views', () => {
  it('shows the fields evaluated here as of the last round, the others as their predictor saved them, with who evaluates each', async () => {
    const { views } = setup();
    const [a, b, c] = await views.read();
    expect(a).toMatchObject({ state: { advice: { eventId: 'evt_a' } }, evaluation: { here: true, instance: 'x', partition: 1, savedAt: NOW - 60_000, savedBy: 'x' } });
    expect(b).toMatchObject({ state: { advice: { eventId: 'evt_b' } }, evaluation: { here: false, instance: 'y', partition: 2, savedAt: NOW - 120_000, savedBy: 'y' } });
    // What b learnt, as factors the way its own predictor reports them.
    expect(b!.learning).toMatchObject({ dry_days: 9, last_outcome: 'dry' });
    // c: nobody holds its partition right now, and nothing was ever saved.
    expect(c).toEqual({ settings: settings('c'), state: null, learning: null, evaluation: { here: false, instance: null, partition: 3, savedAt: null, savedBy: null } });
  });

  it('reads the shared state once per read and the profiles only when they changed', async () => {
    const { views, calls, bump } = setup();
    await views.read();
    await views.read();
    expect(calls).toEqual({ profiles: 1, state: 2 });
    bump();
    await views.read();
    expect(calls).toEqual({ profiles: 2, state: 3 });
  });

  it('with one predictor evaluating every field reads nothing but its own view', async () => {
    const { views, calls } = setup({ mode: 'single' });
    expect(await views.read()).toEqual([
      { settings: settings('a'), state: advised('evt_a'), learning: null, evaluation: { here: true, instance: 'x', partition: null, savedAt: null, savedBy: null } },
    ]);
    expect(calls).toEqual({ profiles: 0, state: 0 });
  });

  it('with one predictor, lists a field added since its last round (not yet evaluated), reading the profiles only when they changed', async () => {
    let listed = 0;
    let version = 1;
    const profiles = { list: async () => (listed++, ['a', 'b'].map(settings)), changeVersion: () => version };
    const { views, calls } = setup({ mode: 'single', profiles });
    expect(await views.read()).toEqual([
      { settings: settings('a'), state: advised('evt_a'), learning: null, evaluation: { here: true, instance: 'x', partition: null, savedAt: null, savedBy: null } },
      { settings: settings('b'), state: null, learning: null, evaluation: { here: true, instance: 'x', partition: null, savedAt: null, savedBy: null } },
    ]);
    await views.read();
    expect(listed).toBe(1);
    version++;
    await views.read();
    expect(listed).toBe(2);
    // Nothing shared is read with one predictor.
    expect(calls).toEqual({ profiles: 0, state: 0 });
  });

  it('names the holder with partitions set by hand too (their claims), and leaves learning out when fields do not learn', async () => {
    const { views } = setup({ mode: 'manual' });
    const b = (await views.read())[1]!;
    expect(b.evaluation).toMatchObject({ here: false, instance: 'y', partition: 2 });
    expect(b.learning).not.toBeNull();
    const noLearning = setup({
      shared: {
        profiles: { list: async () => ['a', 'b'].map(settings) },
        state: { read: async () => ({ fields: new Map([['f/b', { state: null, learning: learnt, savedAt: null, savedBy: null }]]), holders: new Map() }) },
        now: () => NOW,
        learnField: false,
      },
    });
    expect((await noLearning.views.read())[1]!.learning).toBeNull();
  });

  it('keeps a field evaluated here whose profile is gone from the list until the predictor drops it', async () => {
    const { views } = setup({
      shared: { profiles: { list: async () => [settings('b')] }, state: { read: async () => ({ fields: new Map(), holders: new Map() }) }, now: () => NOW, learnField: true },
    });
    expect((await views.read()).map((v) => [v.settings.field, v.evaluation.here])).toEqual([['b', false], ['a', true]]);
  });

  it('local() is this instance\'s fields only, without reading anything', () => {
    const { views, calls } = setup();
    expect(views.local().map((v) => v.settings.field)).toEqual(['a']);
    expect(calls).toEqual({ profiles: 0, state: 0 });
  });
});
