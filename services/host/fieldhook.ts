import { Registry, collectDefaultMetrics } from 'prom-client';
import type { z } from 'zod';
import { buildDispatcher, type FieldhookDispatcher } from '../dispatcher/index.js';
import { buildChat } from '../chat/build-chat.js';
import { predictorFieldDirectory } from '../chat/predictor-fields.js';
import { buildIngestor } from '../ingestor/build-ingestor.js';
import { buildIrrigations } from '../irrigations/build-irrigations.js';
import { buildForecasts } from '../forecasts/build-forecasts.js';
import { buildPredictor } from '../predictor/build-predictor.js';
import { createDeviceRepository } from '../registry/open-devices.js';
import { buildStatusPage } from '../status/build-status-page.js';
import type { Component } from '../shared/component.js';
import { prepareDataDir } from '../shared/data-dir.js';
import { controlPlaneComponent, createControlPlane } from '../shared/database/control-plane.js';
import { instanceClientId, registerInstanceInfo, resolveInstanceId } from '../shared/instance.js';
import { acquireInstanceLock, type InstanceLock } from '../shared/instance-lock.js';
import type { InfluxTarget } from '../shared/influx.js';
import type { Logger } from '../shared/logger.js';
import type { PIPELINE_CONFIG } from './config.js';
import { httpServerOptions } from './http-config.js';
import { createInfluxComponent } from './influxdb-component.js';
import { chooseLocalInfluxPort } from './local-influxdb.js';
import { runHost, type RunningHost } from './run-host.js';

export type PipelineConfig = z.infer<z.ZodObject<typeof PIPELINE_CONFIG>>;

export interface RunningFieldhook extends RunningHost {
  /** Publish an event to webhook subscribers (resolves once durable). */
  publish: FieldhookDispatcher['publish'];
  /** The InfluxDB it writes to, and its MQTT broker (credentials removed): for the local CLI. */
  influxUrl: string;
  mqttUrl: string;
}

/**
 * Every part in one process, what `fieldhook start` runs: InfluxDB (the configured one or a local
 * one), the ingestor with its broker, the dispatcher and the predictor, in one host. Wiring only.
 */
export async function startFieldhook(config: PipelineConfig, logger: Logger, options: { handleSignals?: boolean } = {}): Promise<RunningFieldhook> {
  // First, before any part opens a file there: DATA_DIR holds secrets (0700, files 0600; warns when looser).
  prepareDataDir(config.DATA_DIR, logger, config.DISPATCH_DB_PATH && config.DISPATCH_DB_PATH !== ':memory:' ? [config.DISPATCH_DB_PATH] : []);
  // One data folder, one instance (its spool, cursors and broker sessions): refused while another
  // process holds it (FH_ERR_INSTANCE_LOCKED), held until this one stops.
  const instanceId = resolveInstanceId(config.DATA_DIR, config.INSTANCE_ID);
  const lock = acquireInstanceLock(config.DATA_DIR, instanceId);
  try {
    return await startInstance(withInstance(config, instanceId), logger.child({ instance: instanceId }), lock, options);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * The settings of this instance: its id, and the client ids of its internal MQTT parts made
 * unique per instance (`fieldhook-ingest-<instance>`, `fieldhook-predict-<instance>`), so two
 * instances on one broker never take each other's session.
 */
function withInstance(config: PipelineConfig, instanceId: string): PipelineConfig {
  return {
    ...config,
    INSTANCE_ID: instanceId,
    MQTT_CLIENT_ID_PREFIX: instanceClientId(config.MQTT_CLIENT_ID_PREFIX, instanceId),
    PREDICT_MQTT_CLIENT_ID: instanceClientId(config.PREDICT_MQTT_CLIENT_ID, instanceId),
  };
}

async function startInstance(config: PipelineConfig, logger: Logger, lock: InstanceLock, options: { handleSignals?: boolean }): Promise<RunningFieldhook> {
  const instance: Component = { name: 'instance', start: async () => {}, stop: async () => lock.release() };
  // SQLite in DATA_DIR, or PostgreSQL shared by several instances (FIELDHOOK_DATABASE_URL).
  const plane = createControlPlane(config, logger);
  const influxdb = createInfluxComponent(
    {
      url: config.INFLUX_URL,
      token: config.INFLUX_TOKEN,
      org: config.INFLUX_ORG,
      bucket: config.INFLUX_BUCKET,
      createDatabase: config.INFLUX_CREATE_DATABASE,
      dataDir: config.DATA_DIR,
      timeoutMs: config.INFLUX_TIMEOUT_MS,
      // 8086 unless something else listens there (a farm's own InfluxDB is never written into).
      ...(config.INFLUX_URL ? {} : { localPort: await chooseLocalInfluxPort(logger) }),
    },
    logger,
  );
  const influx: InfluxTarget = { url: influxdb.url, token: config.INFLUX_TOKEN, org: config.INFLUX_ORG, bucket: config.INFLUX_BUCKET, timeoutMs: config.INFLUX_TIMEOUT_MS };
  const devices = createDeviceRepository(plane);
  // The registry is shared state of the process, not of one part: opened (migrated) before any
  // part starts, closed after every part stopped.
  const deviceRegistry: Component = { name: 'devices', start: () => devices.open(), stop: async () => devices.close() };
  // Irrigation records: built before the ingestor, whose broker takes the valve controllers' reports.
  const irrigations = buildIrrigations({ config, logger, devices, influx, bus: () => ingestor.busConnection('bus') });
  // Forecasts likewise (gateways send them on their own topic); pulled for the predictor's fields.
  const forecasts = buildForecasts({
    config, logger, devices, bus: () => ingestor.busConnection('bus'),
    sites: async () => (predictor?.fieldSettings() ?? []).map((s) => ({ farm: s.farm, field: s.field, latitudeDeg: s.latitudeDeg, longitudeDeg: s.longitudeDeg })),
  });
  const ingestor = buildIngestor({ config, logger, devices, influx, deviceTopics: [irrigations.deviceTopic, forecasts.deviceTopic] });
  // Events reach the dispatcher in-process (publish) or on the bus, through the same broker; each
  // part logs in to the embedded broker as itself.
  const dispatcher = buildDispatcher({ config, logger, bus: () => ingestor.busConnection('dispatcher') });
  const components: Component[] = [instance, controlPlaneComponent(plane), influxdb, deviceRegistry, ingestor, irrigations, forecasts, dispatcher];
  const predictor = config.PREDICT_ENABLED
    ? buildPredictor({ config, logger, influx, publish: (event) => dispatcher.publish(event), bus: () => ingestor.busConnection('predictor'), forecasts: forecasts.reader })
    : undefined;
  if (predictor) components.push(predictor);
  // People answer advice in Slack and Telegram: their answers become irrigation records.
  components.push(buildChat({ config, logger, irrigations: irrigations.service, ...(predictor ? { fields: predictorFieldDirectory(predictor) } : {}) }));
  // Last: it only reads the others, through their read-only status contracts.
  components.push(
    buildStatusPage({
      adminToken: config.ADMIN_TOKEN,
      tls: Boolean(config.TLS_CERT_FILE && config.TLS_KEY_FILE),
      influx,
      sources: { devices, ingestor, dispatcher, ...(predictor ? { predictor } : {}) },
      snapshot: { silentAfterMs: config.PREDICT_STALE_AFTER_MS },
    }),
  );
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerInstanceInfo(registry, config.INSTANCE_ID!);
  const host = await runHost(components, {
    logger,
    registry,
    http: { host: config.HTTP_HOST, port: config.HTTP_PORT },
    server: httpServerOptions(config),
    ...(config.TLS_CERT_FILE && config.TLS_KEY_FILE ? { tls: { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE } } : {}),
    ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }),
  });
  logger.info({ httpUrl: host.url, influxUrl: influxdb.url, mqtt: ingestor.busConnection('bus').url, database: plane.kind }, 'fieldhook is running');
  const mqttUrl = new URL(ingestor.busConnection('bus').url);
  mqttUrl.username = '';
  mqttUrl.password = '';
  return { ...host, publish: (event) => dispatcher.publish(event), influxUrl: influxdb.url, mqttUrl: mqttUrl.toString().replace(/\/$/, '') };
}
