import type { Command } from 'commander';
import { DEFAULT_LEAVE_TIMEOUT_MS, describeLeave, leaveFieldhook } from '../../host/leave-instance.js';
import { Errors } from '../../shared/error-catalog.js';
import { createLogger } from '../../shared/logger.js';
import { cliConfig } from '../context.js';

/**
 * `fieldhook leave`: scale an instance in for good (services/host/leave-instance.ts). Run it with
 * the instance's configuration and data folder once the instance is stopped; it exits 0 once
 * everything is handed on and every group left, 1 with `FH_ERR_INSTANCE_LEAVE_INCOMPLETE` otherwise.
 */
export function registerLeaveCommand(program: Command): void {
  program
    .command('leave')
    .description('Scale this instance in for good: take what its broker sessions hold, hand its spool on, leave every shared group, release its predictor partitions (the instance must be stopped)')
    .option('--parts <list>', 'parts this instance ran, comma-separated (default all; same as FIELDHOOK_PARTS)')
    .option('--timeout-ms <ms>', 'longest wait for the spool to be handed on and the sessions to end', String(DEFAULT_LEAVE_TIMEOUT_MS))
    .action(async (opts: { parts?: string; timeoutMs: string }) => {
      const timeoutMs = Number(opts.timeoutMs);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw Errors.cliInvalid('--timeout-ms must be a positive whole number of milliseconds');
      if (opts.parts !== undefined) process.env.FIELDHOOK_PARTS = opts.parts;
      const config = cliConfig();
      const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, base: { app: 'fieldhook' } });
      const report = await leaveFieldhook(config, logger, { timeoutMs });
      process.stdout.write(describeLeave(report, timeoutMs));
    });
}
