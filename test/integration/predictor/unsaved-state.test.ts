/**
 * A round's state save that fails or is refused, on a real PostgreSQL: what was decided stays in
 * memory and is saved with the next round (a failure), or is dropped from memory where the
 * fence refused it (another predictor holds the field now), decision state and learning alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionState } from '../../../services/predictor/decision.js';
import { INITIAL_FIELD_LEARNING, type FieldLearningState } from '../../../services/predictor/field-learning.js';
import { createPostgresPredictorStore } from '../../../services/predictor/postgres-predictor-store.js';
import type { FieldEntry } from '../../../services/predictor/predictor-store.js';
import { saveUnsaved, type RoundDeps } from '../../../services/predictor/round.js';
import type { PostgresPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';

const advised = (eventId: string, at = 1_750_000_000_000): DecisionState => ({
  advice: { eventId, issuedAt: at, validUntil: at + 86_400_000, startBy: at + 3_600_000, depthMm: 21.4 },
  lastChangeAt: at,
  stale: false,
});

describe('predictor state saves that fail or are refused (PostgreSQL)', () => {
  let fixture: PlaneFixture;
  let plane: PostgresPlane;

  beforeAll(async () => {
    fixture = await planeFixture('postgres', 'unsaved_state');
    // A statement waits at most this long for a lock: a locked table reads as a database that does not answer.
    plane = fixture.plane('pred-a', { statementTimeoutMs: 300 }) as PostgresPlane;
  });
  afterAll(() => fixture.close());

  const depsOf = (store: ReturnType<typeof createPostgresPredictorStore>) => ({
    states: new Map<string, DecisionState>(),
    learning: new Map<string, FieldLearningState>(),
    statesRepo: store.states,
    learningRepo: store.learning,
    unsaved: { states: new Map<string, FieldEntry<DecisionState>>(), learning: new Map<string, FieldEntry<FieldLearningState>>() },
    logger: silentLogger(),
  }) satisfies Partial<RoundDeps>;

  it('keeps a state whose save failed and saves it with the next round', async () => {
    const store = createPostgresPredictorStore(plane, 'pred-a');
    await store.open();
    const deps = depsOf(store);
    const sent = advised('ev-1');
    deps.states.set('farm/north', sent);
    const unlock = await fixture.lock('predictor_decision_state');
    try {
      await expect(saveUnsaved(deps, [{ farm: 'farm', field: 'north', state: sent }])).rejects.toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE' });
    } finally {
      await unlock();
    }
    // Memory still says the advice went out; PostgreSQL does not know yet.
    expect(deps.states.get('farm/north')).toBe(sent);
    expect([...deps.unsaved.states.keys()]).toEqual(['farm/north']);
    expect((await store.states.loadMany(['farm/north'])).size).toBe(0);
    // The next round saves it along with its own.
    await saveUnsaved(deps, [{ farm: 'farm', field: 'south', state: advised('ev-2') }]);
    expect(deps.unsaved.states.size).toBe(0);
    const saved = await store.states.loadMany(['farm/north', 'farm/south']);
    expect(saved.get('farm/north')).toEqual(sent);
    expect(saved.get('farm/south')?.advice?.eventId).toBe('ev-2');
  });

  it('drops from memory the state and learning the fence refused', async () => {
    // Fenced, and no lease held on any partition: every write is refused.
    const store = createPostgresPredictorStore(plane, 'pred-a', { partitionOf: () => 0, now: () => Date.now() });
    const deps = depsOf(store);
    const learnt: FieldLearningState = { ...INITIAL_FIELD_LEARNING };
    deps.states.set('farm/west', advised('ev-3'));
    deps.learning.set('farm/west', learnt);
    await saveUnsaved(deps, [{ farm: 'farm', field: 'west', state: advised('ev-3') }], [{ farm: 'farm', field: 'west', state: learnt }]);
    expect(deps.states.has('farm/west')).toBe(false);
    expect(deps.learning.has('farm/west')).toBe(false);
    expect(deps.unsaved.states.size + deps.unsaved.learning.size).toBe(0);
  });
});
