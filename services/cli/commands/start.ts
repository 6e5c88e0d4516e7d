import type { Command } from 'commander';
import { startFieldhook } from '../../host/fieldhook.js';
import { selectParts } from '../../host/parts.js';
import { createLogger } from '../../shared/logger.js';
import { cliConfig } from '../context.js';
import { ensureAdminToken, removePipelineRecord, writePipelineRecord } from '../local-pipeline.js';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the pipeline: HTTP and MQTT ingest, InfluxDB writer, bus (local InfluxDB and embedded broker when none is configured)')
    .option('--parts <list>', 'parts this process runs, comma-separated: ingestor, predictor, dispatcher (default all; same as FIELDHOOK_PARTS)')
    .action(async (opts: { parts?: string }) => {
      // One way in for the selection, validated with the other settings (an unknown part is named).
      if (opts.parts !== undefined) process.env.FIELDHOOK_PARTS = opts.parts;
      let config = cliConfig();
      // A selection that cannot work is refused before the data folder is touched (the host checks it too).
      selectParts(config);
      const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, base: { app: 'fieldhook' } });
      if (!config.ADMIN_TOKEN) {
        // The subscriptions API and the status page need a token: one per data folder, made once,
        // read by the local CLI from the same folder. On stderr, so stdout stays log lines.
        const admin = ensureAdminToken(config.DATA_DIR);
        config = { ...config, ADMIN_TOKEN: admin.token };
        if (admin.created) {
          process.stderr.write(`fieldhook: no FIELDHOOK_ADMIN_TOKEN set; generated one for ${config.DATA_DIR}: ${admin.token}\n`);
          process.stderr.write(`fieldhook: it is kept in ${admin.path} (0600); the fieldhook commands of this folder use it\n`);
        } else {
          logger.info({ file: admin.path }, 'admin token: the one generated for this data folder');
        }
      }
      // The host stops every part on SIGINT/SIGTERM, then exits: the record goes with the process.
      const running = await startFieldhook(config, logger);
      writePipelineRecord(config.DATA_DIR, {
        httpUrl: running.url,
        influxUrl: running.influxUrl,
        mqttUrl: running.mqttUrl,
        pid: process.pid,
        startedAt: new Date().toISOString(),
      });
      process.once('exit', () => removePipelineRecord(config.DATA_DIR));
    });
}
