import { dirname } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { httpServerOptions } from '../host/http-config.js';
import { runHost } from '../host/run-host.js';
import { prepareDataDir } from '../shared/data-dir.js';
import { createLogger } from '../shared/logger.js';
import { buildDispatcher } from './build-dispatcher.js';
import { dispatchDbPath, loadDispatchConfig } from './config.js';

// Standalone dispatcher: the one place that reads the environment; the host listens and handles signals.
const config = loadDispatchConfig();
const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, base: { app: 'fieldhook' } });
// The store holds webhook signing secrets: its folder private, loose modes warned about.
const dbPath = dispatchDbPath(config);
if (dbPath !== ':memory:') prepareDataDir(dirname(dbPath), logger, [dbPath]);
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const host = await runHost([buildDispatcher({ config, logger })], {
  logger,
  registry,
  http: { host: config.DISPATCH_LISTEN_HOST, port: config.DISPATCH_LISTEN_PORT },
  server: httpServerOptions(config),
});
logger.info({ address: host.url }, 'dispatcher listening');
// A parent process (tests, supervisors) can read the bound address from this line.
process.stdout.write(`${JSON.stringify({ listening: host.url })}\n`);
