import type { FastifyInstance } from 'fastify';
import type { Component } from '../shared/component.js';
import type { Logger } from '../shared/logger.js';
import { buildHostApp, type HostAppOptions } from './http-app.js';

export interface RunHostOptions extends HostAppOptions {
  /** Where the HTTP app listens (port 0: any free port). */
  http: { host: string; port: number };
  /** Stop on SIGINT/SIGTERM and exit (0 when stopped cleanly, 1 otherwise). Default true. */
  handleSignals?: boolean;
}

export interface RunningHost {
  /** Base URL of the HTTP app. */
  url: string;
  app: FastifyInstance;
  /** Stop listening, then stop every component in reverse order of start. */
  stop(): Promise<void>;
}

/**
 * Run components in one process: build the one HTTP app, start the components in order (a part
 * that fails to start stops the ones before it, and the error is thrown: no half-started
 * process), then listen. Stopping closes the app first, so no request reaches a stopped part.
 * A failed start also stops the parts it never reached: building one may already hold resources
 * (the spool's worker thread) that would keep the process alive after the error.
 */
export async function runHost(components: readonly Component[], options: RunHostOptions): Promise<RunningHost> {
  const { logger } = options;
  const app = buildHostApp(components, options);
  const aborter = new AbortController();
  const started: Component[] = [];
  let stopping: Promise<void> | undefined;

  const stopStarted = async () => {
    let failure: unknown;
    for (const component of started.splice(0).reverse()) {
      try {
        await component.stop();
      } catch (err) {
        logger.error({ err, component: component.name }, 'component did not stop cleanly');
        failure ??= err;
      }
    }
    if (failure) throw failure;
  };
  const stop = () =>
    (stopping ??= (async () => {
      aborter.abort();
      await app.close();
      await stopStarted();
    })());

  if (options.handleSignals !== false) stopOnSignals(stop, logger);
  try {
    for (const component of components) {
      if (aborter.signal.aborted) throw new Error('stopped while starting');
      await component.start({ logger, signal: aborter.signal });
      started.push(component);
    }
    const url = await app.listen({ host: options.http.host, port: options.http.port });
    return { url, app, stop };
  } catch (err) {
    logger.error({ err }, 'fieldhook did not start');
    const notStarted = components.filter((c) => !started.includes(c));
    await app.close().catch(() => {});
    await stopStarted().catch(() => {});
    for (const component of notStarted.reverse()) {
      await component.stop().catch((stopErr: unknown) => logger.debug({ err: stopErr, component: component.name }, 'a part that never started did not stop cleanly'));
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
