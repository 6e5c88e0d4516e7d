import { Registry, collectDefaultMetrics } from 'prom-client';
import type { z } from 'zod';
import { buildDispatcher, type FieldhookDispatcher } from '../dispatcher/index.js';
import { buildChat } from '../chat/build-chat.js';
import { predictorFieldDirectory } from '../chat/predictor-fields.js';
import { buildIngestor, externalBus } from '../ingestor/build-ingestor.js';
import { buildIrrigations } from '../irrigations/build-irrigations.js';
import { buildForecasts, type Forecasts } from '../forecasts/build-forecasts.js';
import { knownFieldsOf } from '../predictor/known-fields.js';
import { buildPredictor, type Predictor } from '../predictor/build-predictor.js';
import { inSeason } from '../predictor/field-profiles.js';
import { createDeviceRepository } from '../registry/open-devices.js';
import { buildStatusPage } from '../status/build-status-page.js';
import type { BusConnection, BusPrincipal } from '../shared/bus/index.js';
import type { Component, LeaveOptions } from '../shared/component.js';
import type { SpoolUsage } from '../ingestor/spool/spool.js';
import { prepareDataDir } from '../shared/data-dir.js';
import { controlPlaneComponent, createControlPlane } from '../shared/database/control-plane.js';
import { instanceClientId, registerInstanceInfo, resolveInstanceId } from '../shared/instance.js';
import { acquireInstanceLock, type InstanceLock } from '../shared/instance-lock.js';
import type { InfluxTarget } from '../shared/influx.js';
import type { Logger } from '../shared/logger.js';
import type { PIPELINE_CONFIG } from './config.js';
import { createBusEvents } from './bus-events.js';
import { httpServerOptions } from './http-config.js';
import { createInfluxComponent } from './influxdb-component.js';
import { chooseLocalInfluxPort, localInfluxDir, stopOrphanInfluxd } from './local-influxdb.js';
import { logInfluxClientTo } from '../shared/influx.js';
import { createPartitionClaim } from './partition-claim.js';
import { checkTlsFiles } from './tls-files.js';
import { selectParts, type PartSelection } from './parts.js';
import { runHost, type RunningHost } from './run-host.js';

export type PipelineConfig = z.infer<z.ZodObject<typeof PIPELINE_CONFIG>>;

export interface RunningFieldhook extends RunningHost {
  /** Publish an event to webhook subscribers (resolves once durable). */
  publish: FieldhookDispatcher['publish'];
  /** The InfluxDB it writes to, and its MQTT broker (credentials removed): for the local CLI. */
  influxUrl: string;
  mqttUrl: string;
  /**
   * Scaling in (leave-instance.ts): the ingestor leaves the devices' group and resolves once its
   * spool handed every reading on (its usage then); undefined where no ingestor runs.
   */
  handOver(options?: LeaveOptions): Promise<SpoolUsage | undefined>;
}

/**
 * What `fieldhook start` runs: the parts `FIELDHOOK_PARTS` names (by default every one: InfluxDB,
 * the configured one or a local one, the ingestor with its broker, the dispatcher and the
 * predictor) in one host. Wiring only.
 */
export async function startFieldhook(config: PipelineConfig, logger: Logger, options: { handleSignals?: boolean } = {}): Promise<RunningFieldhook> {
  // The parts this process runs (FIELDHOOK_PARTS), refused before anything is opened when they
  // cannot work together (FH_ERR_CONFIG_INVALID); apart, they meet on the external broker.
  const parts = selectParts(config);
  // TLS meant but not possible is refused before anything listens in clear text.
  checkTlsFiles(config);
  logInfluxClientTo(logger.child({ component: 'influxdb-client' }));
  // First, before any part opens a file there: DATA_DIR holds secrets (0700, files 0600; warns when looser).
  prepareDataDir(config.DATA_DIR, logger, config.DISPATCH_DB_PATH && config.DISPATCH_DB_PATH !== ':memory:' ? [config.DISPATCH_DB_PATH] : []);
  // One data folder, one instance (its spool, cursors and broker sessions): refused while another
  // process holds it (FH_ERR_INSTANCE_LOCKED), held until this one stops.
  const instanceId = resolveInstanceId(config.DATA_DIR, config.INSTANCE_ID);
  const lock = acquireInstanceLock(config.DATA_DIR, instanceId);
  try {
    return await startInstance(withInstance(config, instanceId), parts, logger.child({ instance: instanceId }), lock, options);
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

async function startInstance(config: PipelineConfig, parts: PartSelection, logger: Logger, lock: InstanceLock, options: { handleSignals?: boolean }): Promise<RunningFieldhook> {
  const instance: Component = { name: 'instance', start: async () => {}, stop: async () => lock.release() };
  // SQLite in DATA_DIR, or PostgreSQL shared by several instances (FIELDHOOK_DATABASE_URL).
  const plane = createControlPlane(config, logger);
  // An InfluxDB left behind by a killed fieldhook on this data folder is stopped first: its port is free again.
  if (!config.INFLUX_URL) await stopOrphanInfluxd(localInfluxDir(config.DATA_DIR), logger);
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
  const bus = (principal: BusPrincipal): BusConnection => (ingestor ? ingestor.busConnection(principal) : externalBus(config));
  // What the fields are, where a predictor runs here: records and forecasts for others are answered with a warning.
  const fields = knownFieldsOf(() => predictor?.fieldViews);
  // Irrigation records go with the ingestor: built before it, whose broker takes the valve controllers' reports.
  const irrigations = parts.ingestor ? buildIrrigations({ config, logger, plane, devices, influx, bus: () => bus('bus'), fields }) : undefined;
  // Forecasts go with the predictor, which reads them (gateways send them on their own topic); pulled for its
  // fields in season. With every part they run even with the predictor off, as they always did.
  const forecasts: Forecasts | undefined = parts.predictor || parts.all
    ? buildForecasts({
        config, logger, plane, devices, bus: () => bus('bus'), fields,
        sites: async () => (predictor?.fieldSettings() ?? [])
          .filter((s) => inSeason(s, Date.now()))
          .map((s) => ({ farm: s.farm, field: s.field, latitudeDeg: s.latitudeDeg, longitudeDeg: s.longitudeDeg })),
      })
    : undefined;
  const deviceTopics = [irrigations?.deviceTopic, forecasts?.deviceTopic].filter((t) => t !== undefined);
  // A predictor in this process takes its fields' readings straight from the spool's bus cursor;
  // the broker carries only what a predictor in another process evaluates.
  const ingestor = parts.ingestor ? buildIngestor({ config, logger, devices, influx, deviceTopics, localReadings: () => predictor?.localReadings }) : undefined;
  // Events reach the dispatcher in-process (publish) or on the bus, through the same broker; each
  // part logs in to the embedded broker as itself.
  const dispatcher = parts.dispatcher ? buildDispatcher({ config, logger, plane, bus: () => bus('dispatcher') }) : undefined;
  // Without a dispatcher here, the predictor's events go to the dispatchers on the bus.
  const events = parts.predictor && !dispatcher ? createBusEvents(() => bus('predictor'), instanceClientId('fieldhook-events', config.INSTANCE_ID!), logger) : undefined;
  const publish: RunningFieldhook['publish'] = async (event) => {
    if (!dispatcher) throw new Error('this instance runs no dispatcher (FIELDHOOK_PARTS); publish on the bus instead');
    return dispatcher.publish(event);
  };
  // Automatic partitions move fields between predictors that must each see every reading: only
  // through one broker they share. On the embedded broker (each instance its own) the predictor
  // takes the whole set of fields instead and claims it, so a second one on the same database is
  // refused rather than splitting the fields with each missing the other's readings.
  const predictConfig = parts.ingestor && !config.MQTT_URL && plane.kind === 'postgres' && config.PREDICT_PARTITIONS === 'auto'
    ? { ...config, PREDICT_PARTITIONS: 1, PREDICT_PARTITION: 0 }
    : config;
  const predictor: Predictor | undefined = parts.predictor
    ? buildPredictor({ config: predictConfig, logger, influx, plane, instanceId: config.INSTANCE_ID!, publish: (event) => (dispatcher ? dispatcher.publish(event) : events!.publish(event)), bus: () => bus('predictor'), ...(forecasts ? { forecasts: forecasts.reader } : {}) })
    : undefined;
  const components: Component[] = [instance, controlPlaneComponent(plane), ...(parts.influx ? [influxdb] : []), deviceRegistry];
  // On PostgreSQL with partitions set by hand, a predictor claims its partition before it starts: a
  // second one on it is refused. With `auto` (the default) it joins the others (partition-membership.ts).
  const claim = predictor && plane.kind === 'postgres' && predictConfig.PREDICT_PARTITIONS !== 'auto'
    ? createPartitionClaim(plane, { partitions: predictConfig.PREDICT_PARTITIONS, partition: predictConfig.PREDICT_PARTITION }, logger)
    : undefined;
  for (const part of [ingestor, irrigations, forecasts, dispatcher, events, claim, predictor]) if (part) components.push(part);
  // People answer advice in Slack and Telegram: their answers become irrigation records.
  if (irrigations) components.push(buildChat({ config, logger, plane, irrigations: irrigations.service, ...(predictor ? { fields: predictorFieldDirectory(predictor) } : {}) }));
  // Last: it only reads the others, through their read-only status contracts; so only where all run.
  if (parts.all && ingestor && dispatcher) {
    components.push(
      buildStatusPage({
        adminToken: config.ADMIN_TOKEN,
        tls: Boolean(config.TLS_CERT_FILE && config.TLS_KEY_FILE),
        influx,
        sources: { devices, ingestor, dispatcher, ...(predictor ? { predictor } : {}) },
        snapshot: { silentAfterMs: config.PREDICT_STALE_AFTER_MS },
      }),
    );
  }
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
  // The parts that run (FIELDHOOK_PREDICT_ENABLED=false leaves the predictor out of all of them).
  const running = (['ingestor', 'predictor', 'dispatcher'] as const).filter((p) => parts[p]);
  logger.info({ httpUrl: host.url, parts: running, influxUrl: influxdb.url, influxBucket: influx.bucket, mqtt: bus('bus').url, database: plane.kind }, 'fieldhook is running');
  const mqttUrl = new URL(bus('bus').url);
  mqttUrl.username = '';
  mqttUrl.password = '';
  const handOver = async (options?: LeaveOptions) => ingestor?.handOver(options);
  return { ...host, publish, handOver, influxUrl: influxdb.url, mqttUrl: mqttUrl.toString().replace(/\/$/, '') };
}
