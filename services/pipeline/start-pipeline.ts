import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { RunningInfluxDB } from '../../infra/harness/influxdb.js';
import { buildDispatcher, registerOpenApi, type FieldhookDispatcher } from '../dispatcher/index.js';
import { buildIngestor } from '../ingestor/build-ingestor.js';
import { healthRoutes, type ReadinessCheck } from '../ingestor/http/health-routes.js';
import { buildPredictor, type Predictor } from '../predictor/build-predictor.js';
import { createSqliteDeviceRepository } from '../registry/sqlite-devices.js';
import { databaseOf } from '../shared/influx.js';
import type { Logger } from '../shared/logger.js';
import type { PIPELINE_CONFIG } from './config.js';
import { buildHttpApp } from './http-app.js';
import { ensureInfluxDatabase, startLocalInfluxDB } from './local-influxdb.js';
import type { z } from 'zod';

export type PipelineConfig = z.infer<z.ZodObject<typeof PIPELINE_CONFIG>>;

export interface RunningPipeline {
  httpUrl: string;
  /** Publish an event to webhook subscribers (resolves once durable). */
  publish: FieldhookDispatcher['publish'];
  stop(): Promise<void>;
}

/** Start every part in one process: what `fieldhook start` runs. */
export async function startPipeline(config: PipelineConfig, logger: Logger): Promise<RunningPipeline> {
  let localInflux: RunningInfluxDB | undefined;
  const influxUrl = config.INFLUX_URL ?? (localInflux = await startLocalInfluxDB(config.DATA_DIR, logger)).url;
  if (config.INFLUX_CREATE_DATABASE) {
    await ensureInfluxDatabase(influxUrl, config.INFLUX_TOKEN, databaseOf(config.INFLUX_BUCKET), logger);
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const devices = createSqliteDeviceRepository(join(config.DATA_DIR, 'registry.db'));
  const ingestor = buildIngestor({
    config,
    logger,
    registry,
    devices,
    influx: {
      url: influxUrl,
      token: config.INFLUX_TOKEN,
      org: config.INFLUX_ORG,
      bucket: config.INFLUX_BUCKET,
      timeoutMs: config.INFLUX_TIMEOUT_MS,
    },
  });
  await ingestor.start();
  // Events reach the dispatcher in-process (publish) or on the bus, through the same broker.
  const dispatcher = buildDispatcher({ config, logger, registry, serveMetrics: false, bus: ingestor.busConnection() });
  await dispatcher.start();
  let predictor: Predictor | undefined;
  if (config.PREDICT_ENABLED) {
    const bus = ingestor.busConnection();
    predictor = buildPredictor({
      config,
      logger,
      registry,
      influx: { url: influxUrl, token: config.INFLUX_TOKEN, org: config.INFLUX_ORG, bucket: config.INFLUX_BUCKET, timeoutMs: config.INFLUX_TIMEOUT_MS },
      publish: (event) => dispatcher.publish(event),
      // The embedded broker speaks 3.1.1 without shared subscriptions; one predictor runs there.
      bus: config.MQTT_URL
        ? { ...bus, group: config.PREDICT_MQTT_GROUP, protocolVersion: config.MQTT_PROTOCOL_VERSION }
        : { ...bus, group: null, protocolVersion: 4 },
    });
    await predictor.start();
  }
  const checks: ReadinessCheck[] = [...ingestor.readinessChecks];
  if (predictor) {
    const { modelHolder } = predictor;
    checks.push({ name: 'predictor', check: async () => ({ ok: true, detail: { model: modelHolder.current().identity } }) });
  }
  const app = buildHttpApp({
    logger,
    setup: registerOpenApi,
    plugins: [ingestor.routes, async (scope) => void (await scope.register(healthRoutes, { registry, checks })), dispatcher.routes],
    ...(config.TLS_CERT_FILE && config.TLS_KEY_FILE ? { tls: { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE } } : {}),
  });
  const httpUrl = await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  logger.info({ httpUrl, influxUrl, mqtt: ingestor.busConnection().url }, 'fieldhook is running');

  return {
    httpUrl,
    publish: (event) => dispatcher.publish(event),
    async stop() {
      await app.close();
      await predictor?.stop();
      await dispatcher.stop();
      await ingestor.stop();
      devices.close();
      await localInflux?.stop();
    },
  };
}
