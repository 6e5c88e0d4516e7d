import { afterEach, describe, expect, it } from 'vitest';
import { abortable } from '../../../services/shared/abortable.js';

describe('abortable', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    unhandled.length = 0;
  });

  /** Lets the process report unhandled rejections (it does so after the microtask queue drains). */
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('rejects at once on an aborted signal and leaves the abandoned promise handled when it rejects later', async () => {
    process.on('unhandledRejection', onUnhandled);
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    let fail!: (err: Error) => void;
    const pending = new Promise<void>((_, reject) => (fail = reject));
    await expect(abortable(pending, controller.signal)).rejects.toThrow('stopped');
    fail(new Error('client disconnecting'));
    await settle();
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('rejects when the signal aborts while waiting, and settles with the promise otherwise', async () => {
    process.on('unhandledRejection', onUnhandled);
    const controller = new AbortController();
    let fail!: (err: Error) => void;
    const waiting = abortable(new Promise<void>((_, reject) => (fail = reject)), controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    fail(new Error('late'));
    await settle();
    expect(unhandled).toEqual([]);
    await expect(abortable(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
  });
});
