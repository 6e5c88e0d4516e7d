/**
 * Irrigation records as a component: the store (on the control plane), the API routes, the valve
 * controllers' MQTT topic, and the forwarder to InfluxDB and the predictor. Wiring only; built,
 * not started. The store takes records from build time on (PostgreSQL migrates on the first
 * call), so that the ingestor's broker, which starts first, can hand it reports at once.
 */
import { Registry } from 'prom-client';
import { createAuthenticator } from '../ingestor/auth.js';
import type { DeviceTopicHandler } from '../ingestor/embedded-broker.js';
import type { DeviceRepository } from '../registry/device.js';
import {
  ALL_DEVICE_IRRIGATIONS,
  connectPublisher,
  connectSubscriber,
  deviceErrorsTopic,
  deviceOfIrrigationsTopic,
  endSubscribers,
  fieldIrrigationsTopic,
  groupByTopic,
  InvalidBusMessage,
  type BusConnection,
  type BusIrrigation,
  type Publisher,
  type Subscriber,
} from '../shared/bus/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Component, LeaveOptions } from '../shared/component.js';
import { createControlPlane, type ControlPlane } from '../shared/database/control-plane.js';
import { createInfluxClient, type InfluxTarget } from '../shared/influx.js';
import type { Logger } from '../shared/logger.js';
import { createForwarder, type ForwarderOptions } from './forwarder.js';
import { createIrrigationInfluxWriter } from './influx-point.js';
import { createIrrigationMetrics } from './metrics.js';
import { recordDeviceReports } from './mqtt-reports.js';
import type { IrrigationRecord } from './record.js';
import { irrigationRoutes } from './routes.js';
import { createIrrigationService, type IrrigationService } from './service.js';
import { createIrrigationRepository } from './open-store.js';
import type { IrrigationRepository } from './store.js';
import { instanceClientId } from '../shared/instance.js';
import type { KnownFields } from '../shared/known-fields.js';

export interface IrrigationsDeps {
  config: { DATA_DIR: string; ADMIN_TOKEN?: string | undefined; MQTT_URL?: string | undefined; INSTANCE_ID?: string | undefined };
  logger: Logger;
  devices: DeviceRepository;
  influx: InfluxTarget;
  /** The bus, read at start: on the embedded broker the `bus` login, else the configured broker. */
  bus: () => BusConnection;
  clock?: Clock;
  /** Where the records live; default: SQLite in `DATA_DIR`. */
  plane?: ControlPlane;
  /** Default: on `plane`. */
  store?: IrrigationRepository;
  forwarder?: Partial<ForwarderOptions>;
  /** Which fields are evaluated, to warn about records for others. */
  fields?: KnownFields;
}

export interface Irrigations extends Component {
  service: IrrigationService;
  /** The valve controllers' topic, for the embedded broker. */
  deviceTopic: DeviceTopicHandler;
}

export function buildIrrigations(deps: IrrigationsDeps): Irrigations {
  const { config, devices } = deps;
  const logger = deps.logger.child({ service: 'irrigations' });
  const clock = deps.clock ?? systemClock;
  const store = deps.store ?? createIrrigationRepository(deps.plane ?? createControlPlane({ DATA_DIR: config.DATA_DIR }, logger));
  const writer = createIrrigationInfluxWriter(createInfluxClient(deps.influx), deps.influx.org, deps.influx.bucket);
  let publisher: Publisher | undefined;
  let reports: Subscriber | undefined;

  async function publish(records: readonly IrrigationRecord[]): Promise<void> {
    if (!publisher) throw new Error('bus not connected');
    const items = records.map((r): BusIrrigation => ({ id: r.id, farm: r.farm, field: r.field, depth_mm: r.depth_mm, start: r.start, end: r.end, source: r.source, who: r.who }));
    for (const [topic, payload] of groupByTopic(items.map((r) => fieldIrrigationsTopic(r.farm, r.field)), items.map((r) => JSON.stringify(r)))) {
      await publisher.publish(topic, payload);
    }
  }
  const forwarder = createForwarder({ store, send: { influx: (r) => writer.write(r), bus: publish }, clock, logger }, deps.forwarder);
  const registry = new Registry();
  const metrics = createIrrigationMetrics(registry, { backlog: () => forwarder.backlog() });
  const service = createIrrigationService({
    store,
    devices,
    clock,
    onRecorded: (record) => {
      metrics.recorded(record.source);
      forwarder.wake();
    },
  });
  const deviceTopic: DeviceTopicHandler = {
    deviceOf: deviceOfIrrigationsTopic,
    handle: (device, payload) => recordDeviceReports(service, device, payload),
  };
  const auth = createAuthenticator(devices);

  return {
    name: 'irrigations',
    metrics: registry,
    service,
    deviceTopic,
    readiness: [{ name: 'irrigations', check: async () => ({ ok: publisher?.connected() === true, detail: { backlog: await forwarder.backlog() } }) }],
    routes: async (app) => app.register(irrigationRoutes, { service, auth, adminToken: config.ADMIN_TOKEN, now: () => clock.now(), ...(deps.fields ? { fields: deps.fields } : {}) }),
    async start() {
      await store.open();
      const connection = deps.bus();
      publisher = connectPublisher(
        connection,
        config.INSTANCE_ID ? instanceClientId('fieldhook-irrigations-publisher', config.INSTANCE_ID) : `fieldhook-irrigations-${process.pid}`,
        logger,
      );
      // On an external broker the valve controllers' reports are consumed here (the broker's ACL
      // pins each device to its topic); the embedded broker hands them over through `deviceTopic`.
      if (config.MQTT_URL) {
        const subscriber: Subscriber = connectSubscriber(
          connection,
          { clientId: instanceClientId('fieldhook-irrigations', config.INSTANCE_ID), filter: ALL_DEVICE_IRRIGATIONS, group: 'fieldhook-irrigations' },
          async (packet) => {
            const id = deviceOfIrrigationsTopic(packet.topic);
            const device = id ? await devices.get(id) : undefined;
            if (!device || !device.enabled) throw new InvalidBusMessage(`device ${id} cannot record irrigations`);
            const refused = await recordDeviceReports(service, device, packet.payload as Buffer);
            if (refused.length > 0) subscriber.client.publish(deviceErrorsTopic(device.id), JSON.stringify({ refused }), { qos: 0 });
          },
          logger,
        );
        reports = subscriber;
        await subscriber.start();
      }
      forwarder.start();
    },
    stop: () => close(),
    leave: (options) => close(options ?? {}),
  };

  /** Stops, or with `leaving` leaves the reports' group for good; the rest closes either way. */
  async function close(leaving?: LeaveOptions): Promise<void> {
    try {
      await endSubscribers([reports], leaving);
    } finally {
      // Ending the bus client first releases a send waiting on an unreachable broker (the record
      // stays behind its cursor and goes out after the next start).
      const forwarding = forwarder.stop();
      await publisher?.stop();
      await forwarding;
      await writer.close();
      store.close();
    }
  }
}
