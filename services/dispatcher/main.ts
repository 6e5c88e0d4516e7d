import { createLogger } from '../shared/logger.js';
import { stopOnSignals } from '../shared/shutdown.js';
import { buildDispatcher } from './build-dispatcher.js';
import { loadDispatchConfig } from './config.js';

// Standalone dispatcher: the one place that reads the environment, listens and handles signals.
const config = loadDispatchConfig();
const logger = createLogger({ level: config.LOG_LEVEL });
const dispatcher = buildDispatcher({ config, logger });

await dispatcher.start();
const address = await dispatcher.app.listen({ host: config.DISPATCH_LISTEN_HOST, port: config.DISPATCH_LISTEN_PORT });
logger.info({ address }, 'dispatcher listening');
// A parent process (tests, supervisors) can read the bound address from this line.
process.stdout.write(`${JSON.stringify({ listening: address })}\n`);

stopOnSignals(() => dispatcher.stop(), logger, 'dispatcher');
