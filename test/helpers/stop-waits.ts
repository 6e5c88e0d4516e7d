import { expect } from 'vitest';

/**
 * A part's `stop()` waits for the work under way: called while that work is held, it has not
 * resolved one turn of the event loop later (a stop that did not wait would be over by then), and
 * it resolves once `release()` lets the work finish.
 */
export async function expectStopToWaitFor(stop: () => Promise<unknown>, release: () => void): Promise<void> {
  let stopped = false;
  const stopping = stop().then(() => (stopped = true));
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(stopped).toBe(false);
  release();
  await stopping;
}
