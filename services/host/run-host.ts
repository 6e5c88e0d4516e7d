import type { FastifyInstance } from 'fastify';
import type { Component, LeaveOptions } from '../shared/component.js';
import type { Logger } from '../shared/logger.js';
import { isFieldhookError } from '../shared/errors.js';
import { listenError } from '../shared/listen-errors.js';
import { buildHostApp, type HostAppOptions } from './http-app.js';

export interface RunHostOptions extends HostAppOptions {
  /** Where the HTTP app listens (port 0: any free port). */
  http: { host: string; port: number };
  /** Stop on SIGINT/SIGTERM and exit (0 when stopped cleanly, 1 otherwise). Default true. */
  handleSignals?: boolean;
  /** How long the parts of a start that failed have to leave their groups, ms (`DEFAULT_FAILED_START_LEAVE_MS`). */
  failedStartLeaveMs?: number;
}

/**
 * 30 s for the parts of a failed start to hand on what their broker sessions held and end them;
 * past it they are stopped with their sessions kept (nothing they held is dropped).
 */
export const DEFAULT_FAILED_START_LEAVE_MS = 30_000;

export interface RunningHost {
  /** Base URL of the HTTP app. */
  url: string;
  app: FastifyInstance;
  /** Stop listening, then stop every component in reverse order of start (broker sessions kept). */
  stop(): Promise<void>;
  /**
   * Stop listening, then make every component leave for good in reverse order of start (those
   * without `leave` stop): their broker sessions end, so no shared group assigns them messages.
   * Rejects with the first part's failure once every part has been ended.
   */
  leave(options?: LeaveOptions): Promise<void>;
}

/**
 * Run components in one process: build the one HTTP app, start the components in order (a part
 * that fails to start stops the ones before it, and the error is thrown: no half-started
 * process), then listen. Stopping closes the app first, so no request reaches a stopped part.
 * A failed start also stops the parts it never reached: building one may already hold resources
 * (the spool's worker thread) that would keep the process alive after the error. And it makes
 * them leave rather than stop (the one whose start threw too): a process that never ran keeps no
 * broker session in a shared group, where the broker would go on assigning it a share of the
 * messages for as long as the session lasts.
 */
export async function runHost(components: readonly Component[], options: RunHostOptions): Promise<RunningHost> {
  const { logger } = options;
  const app = buildHostApp(components, options);
  const aborter = new AbortController();
  const started: Component[] = [];
  let stopping: Promise<void> | undefined;

  const end = (component: Component, leaving: LeaveOptions | undefined) =>
    leaving && component.leave ? component.leave(leaving) : component.stop();
  const endStarted = async (leaving?: LeaveOptions) => {
    let failure: unknown;
    for (const component of started.splice(0).reverse()) {
      try {
        await end(component, leaving);
      } catch (err) {
        logger.error({ err, component: component.name }, leaving ? 'component did not leave cleanly' : 'component did not stop cleanly');
        failure ??= err;
      }
    }
    if (failure) throw failure;
  };
  // One ending: a stop already under way is not turned into a leave, nor the other way round.
  const finish = (leaving?: LeaveOptions) =>
    (stopping ??= (async () => {
      aborter.abort();
      await app.close();
      await endStarted(leaving);
    })());
  const stop = () => finish();

  if (options.handleSignals !== false) stopOnSignals(stop, logger);
  try {
    for (const component of components) {
      if (aborter.signal.aborted) throw new Error('stopped while starting');
      await component.start({ logger, signal: aborter.signal });
      started.push(component);
    }
    const url = await app.listen({ host: options.http.host, port: options.http.port }).catch((err: unknown) => {
      throw listenError(err, options.http.host, options.http.port, { port: 'FIELDHOOK_HTTP_PORT', host: 'FIELDHOOK_HTTP_HOST' });
    });
    return { url, app, stop, leave: (leaving) => finish(leaving ?? {}) };
  } catch (err) {
    logger.error({ err }, 'fieldhook did not start');
    const notStarted = components.filter((c) => !started.includes(c));
    await app.close().catch(() => {});
    // A start refused because another instance holds what this one would run (409: a partition, the
    // data folder) will not succeed by retrying: its parts leave the sessions this start created, so
    // no share of a group waits in them. Any other failure (InfluxDB or the database away, a port
    // taken) is one a restart gets past: sessions are kept, as on a stop, so a group is never left
    // without members while the instance is down (a group without members drops what is published).
    // Sessions found at the first connect (an earlier run) are kept either way.
    const refused = isFieldhookError(err) && err.statusCode === 409;
    const leaving = refused ? { signal: AbortSignal.timeout(options.failedStartLeaveMs ?? DEFAULT_FAILED_START_LEAVE_MS), keepOlderSessions: true } : undefined;
    await endStarted(leaving).catch(() => {});
    for (const component of notStarted.reverse()) {
      await end(component, leaving).catch((endErr: unknown) => logger.debug({ err: endErr, component: component.name }, 'a part that never started did not leave cleanly'));
    }
    throw err;
  }
}

/**
 * Stop cleanly on SIGINT or SIGTERM (once, whatever arrives next), then exit: 0 when `stop`
 * resolved, 1 when it threw.
 */
function stopOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'fieldhook stopping');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'fieldhook did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
