import type { Logger } from './logger.js';

/**
 * Stop cleanly on SIGINT or SIGTERM (once, whatever arrives next), then exit: 0 when `stop`
 * resolved, 1 when it threw. For the few entry points that run a long-lived process.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, name: string): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${name} stopping`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, `${name} did not stop cleanly`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
