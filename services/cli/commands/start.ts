import type { Command } from 'commander';
import { startFieldhook } from '../../host/fieldhook.js';
import { createLogger } from '../../shared/logger.js';
import { cliConfig } from '../context.js';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the pipeline: HTTP and MQTT ingest, InfluxDB writer, bus (local InfluxDB and embedded broker when none is configured)')
    .action(async () => {
      const config = cliConfig();
      const logger = createLogger({ level: config.LOG_LEVEL, base: { app: 'fieldhook' } });
      // The host stops every part on SIGINT/SIGTERM.
      await startFieldhook(config, logger);
    });
}
