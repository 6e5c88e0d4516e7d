import { describe, expect, it } from 'vitest';
import { createScheduler, type RoundTrigger } from '../../../services/predictor/scheduler.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createManualClock } from '../../helpers/manual-clock.js';
import { expectStopToWaitFor } from '../../helpers/stop-waits.js';

const HOUR = 3_600_000;

function setup(options = { intervalMs: HOUR, debounceMs: 20 }) {
  const clock = createManualClock(0);
  const rounds: (readonly string[] | undefined)[] = [];
  const triggers: RoundTrigger[] = [];
  let running = 0;
  let overlapped = false;
  let release: (() => void) | undefined;
  let hold = false;
  let reloads = 0;
  const scheduler = createScheduler(
    {
      async run(keys, trigger) {
        triggers.push(trigger);
        running++;
        if (running > 1) overlapped = true;
        rounds.push(keys);
        if (hold) await new Promise<void>((r) => (release = r));
        running--;
        return keys?.length ?? -1;
      },
      beforeScheduledRound: async () => void reloads++,
    },
    { clock, logger: silentLogger() },
    options,
  );
  return {
    clock,
    scheduler,
    rounds,
    triggers,
    overlapped: () => overlapped,
    reloads: () => reloads,
    hold: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

describe('predictor scheduler', () => {
  it('batches the fields touched within the debounce delay into one round', async () => {
    const t = setup();
    t.scheduler.touch('f/a');
    t.scheduler.touch('f/b');
    t.scheduler.touch('f/a');
    expect(t.rounds).toEqual([]);
    await t.clock.advance(19);
    expect(t.rounds).toEqual([]);
    await t.clock.advance(1);
    await t.scheduler.idle();
    expect(t.rounds).toEqual([['f/a', 'f/b']]);
    t.scheduler.touch('f/c');
    await t.clock.advance(20);
    await t.scheduler.idle();
    expect(t.rounds).toEqual([['f/a', 'f/b'], ['f/c']]);
  });

  it('evaluates every field each interval, after re-reading the fields, and stops doing so when stopped', async () => {
    const t = setup();
    t.scheduler.start();
    await t.clock.advance(HOUR - 1);
    expect(t.rounds).toEqual([]);
    await t.clock.advance(1);
    await t.scheduler.idle();
    expect(t.rounds).toEqual([undefined]);
    expect(t.reloads()).toBe(1);
    await t.clock.advance(2 * HOUR);
    await t.scheduler.idle();
    expect(t.rounds).toEqual([undefined, undefined, undefined]);
    await t.scheduler.stop();
    await t.clock.advance(5 * HOUR);
    expect(t.rounds).toHaveLength(3);
    expect(t.clock.pending()).toBe(0);
  });

  it('stopped while re-reading the fields for a scheduled round: the stop waits for the re-read, and no round follows', async () => {
    const clock = createManualClock(0);
    const rounds: (readonly string[] | undefined)[] = [];
    let reading!: () => void;
    let reread!: () => void;
    const reached = new Promise<void>((resolve) => (reading = resolve));
    const done = new Promise<void>((resolve) => (reread = resolve));
    const scheduler = createScheduler(
      { run: async (keys) => void rounds.push(keys), beforeScheduledRound: async () => (reading(), await done) },
      { clock, logger: silentLogger() },
      { intervalMs: HOUR, debounceMs: 20 },
    );
    scheduler.start();
    await clock.advance(HOUR);
    await reached;
    // The stop waits for the re-read.
    await expectStopToWaitFor(() => scheduler.stop(), reread);
    await scheduler.idle();
    expect(rounds).toEqual([]);
  });

  it('skips an interval tick while the last scheduled round is still being prepared: one for the stop to wait for', async () => {
    const clock = createManualClock(0);
    const rounds: (readonly string[] | undefined)[] = [];
    let rereads = 0;
    let reread!: () => void;
    const done = new Promise<void>((resolve) => (reread = resolve));
    const scheduler = createScheduler(
      { run: async (keys) => void rounds.push(keys), beforeScheduledRound: async () => (rereads++, await done) },
      { clock, logger: silentLogger() },
      { intervalMs: HOUR, debounceMs: 20 },
    );
    scheduler.start();
    await clock.advance(HOUR);
    await clock.advance(HOUR);
    // The second tick came while the first re-read was under way: it started none of its own.
    expect(rereads).toBe(1);
    reread();
    await scheduler.stop();
    expect(rounds).toEqual([]);
  });

  it('never runs two rounds at once: a round asked for during another waits for it', async () => {
    const t = setup();
    t.hold();
    const first = t.scheduler.enqueue(['f/a']);
    const second = t.scheduler.enqueue(undefined);
    await new Promise((r) => setImmediate(r));
    expect(t.rounds).toEqual([['f/a']]);
    t.release();
    await expect(first).resolves.toBe(1);
    await expect(second).resolves.toBe(-1);
    expect(t.rounds).toEqual([['f/a'], undefined]);
    expect(t.overlapped()).toBe(false);
  });

  it('idle() runs a pending debounced round at once and waits for it', async () => {
    const t = setup({ intervalMs: HOUR, debounceMs: 10 * HOUR });
    t.scheduler.touch('f/a');
    await t.scheduler.idle();
    expect(t.rounds).toEqual([['f/a']]);
    expect(t.clock.pending()).toBe(0);
  });

  it('tells the runner why a round runs: readings for the debounced one, scheduled for the interval, explicit for enqueue', async () => {
    const t = setup();
    t.scheduler.start();
    t.scheduler.touch('f/a');
    await t.clock.advance(20);
    await t.scheduler.idle();
    await t.clock.advance(HOUR - 20);
    await t.scheduler.idle();
    await t.scheduler.enqueue(['f/b']);
    // A debounce cut short by idle() is still the readings' round.
    t.scheduler.touch('f/c');
    await t.scheduler.idle();
    await t.scheduler.stop();
    expect(t.rounds).toEqual([['f/a'], undefined, ['f/b'], ['f/c']]);
    expect(t.triggers).toEqual(['readings', 'scheduled', 'explicit', 'readings']);
  });
});
