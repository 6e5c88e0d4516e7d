/**
 * Weather forecasts as a component: the store (on the control plane), `POST /v1/forecasts`, the
 * gateways' MQTT topic, and the optional Open-Meteo pull. The predictor reads the store through
 * `reader`. Wiring only; built, not started. The store takes forecasts from build time on
 * (PostgreSQL opens on the first save), so the ingestor's broker, which starts first, can hand it
 * gateways' forecasts at once.
 */
import { Registry } from 'prom-client';
import { createAuthenticator } from '../ingestor/auth.js';
import type { DeviceTopicHandler } from '../ingestor/embedded-broker.js';
import type { DeviceRepository } from '../registry/device.js';
import { ALL_DEVICE_FORECASTS, connectSubscriber, deviceErrorsTopic, endSubscribers, deviceOfForecastsTopic, InvalidBusMessage, type BusConnection, type Subscriber } from '../shared/bus/index.js';
import { every, systemClock, type Clock } from '../shared/clock.js';
import type { Component, LeaveOptions } from '../shared/component.js';
import { createControlPlane, type ControlPlane } from '../shared/database/control-plane.js';
import { instanceClientId } from '../shared/instance.js';
import type { KnownFields } from '../shared/known-fields.js';
import type { Logger } from '../shared/logger.js';
import { DEFAULT_FORECAST_OPTIONS } from './config.js';
import { storeDeviceForecast } from './mqtt-forecasts.js';
import { createOpenMeteoPuller, type ForecastSite } from './open-meteo.js';
import { forecastRoutes } from './routes.js';
import { createForecastRepository } from './open-store.js';
import type { ForecastReader, ForecastRepository } from './store.js';

/** Delay of the first pull after start, ms. */
export const FIRST_PULL_DELAY_MS = 30_000;
/** How often hours older than `FORECAST_KEEP_MS` are removed, ms. */
export const PRUNE_INTERVAL_MS = 3_600_000;

export interface ForecastsDeps {
  config: {
    DATA_DIR: string;
    ADMIN_TOKEN?: string | undefined;
    MQTT_URL?: string | undefined;
    /** Makes the external-broker subscriber's client id this instance's own. */
    INSTANCE_ID?: string | undefined;
    FORECAST_OPEN_METEO_URL?: string | undefined;
    FORECAST_PULL_INTERVAL_MS?: number;
    FORECAST_KEEP_MS?: number;
  };
  logger: Logger;
  devices: DeviceRepository;
  /** The bus, read at start (an external broker's gateways' forecasts). */
  bus: () => BusConnection;
  /** Where to pull forecasts for (the fields with their coordinates), read at every pull. */
  sites?: () => Promise<ForecastSite[]>;
  clock?: Clock;
  /** Where the forecasts live; default: SQLite in `DATA_DIR`. */
  plane?: ControlPlane;
  /** Default: on `plane`. */
  store?: ForecastRepository;
  fetch?: typeof fetch;
  /** Which fields are evaluated, to warn about forecasts for others. */
  fields?: KnownFields;
}

export interface Forecasts extends Component {
  reader: ForecastReader;
  /** The gateways' topic, for the embedded broker. */
  deviceTopic: DeviceTopicHandler;
  /** Pull from Open-Meteo now (when configured); resolves with the forecasts stored. */
  pullOnce(): Promise<number>;
}

export function buildForecasts(deps: ForecastsDeps): Forecasts {
  const { config, devices } = deps;
  const logger = deps.logger.child({ service: 'forecasts' });
  const clock = deps.clock ?? systemClock;
  // Read by the predictor alone, which names the fields it evaluates: nothing else is kept in memory.
  const store = deps.store ?? createForecastRepository(deps.plane ?? createControlPlane({ DATA_DIR: config.DATA_DIR }, logger), logger, { following: 'declared' });
  const keepMs = config.FORECAST_KEEP_MS ?? DEFAULT_FORECAST_OPTIONS.keepMs;
  const puller =
    config.FORECAST_OPEN_METEO_URL && deps.sites
      ? createOpenMeteoPuller({ sites: deps.sites, save: (f) => store.save(f), clock, logger, ...(deps.fetch ? { fetch: deps.fetch } : {}) }, { baseUrl: config.FORECAST_OPEN_METEO_URL })
      : undefined;
  const deviceTopic: DeviceTopicHandler = {
    deviceOf: deviceOfForecastsTopic,
    handle: (device, payload) => storeDeviceForecast(store, device, payload, clock.now()),
  };
  let subscriber: Subscriber | undefined;
  // Per instance: two instances on one broker under one client id would take each other's session.
  const clientId = instanceClientId('fieldhook-forecasts', config.INSTANCE_ID);
  let stopPulling: (() => void) | undefined;
  let stopPruning: (() => void) | undefined;
  let pulling: Promise<unknown> = Promise.resolve();

  async function pullOnce(): Promise<number> {
    return puller ? puller.pullOnce() : 0;
  }

  // On its own timer: forecasts from gateways and the API pile up whether or not Open-Meteo is pulled.
  let pruning: Promise<void> = Promise.resolve();
  function prune(): void {
    pruning = store.prune(clock.now() - keepMs).then(
      (removed) => void (removed > 0 && logger.debug({ removed }, 'old forecast hours removed')),
      // The next round tries again: old hours only take room meanwhile.
      (err: unknown) => logger.warn({ err }, 'old forecast hours not removed'),
    );
  }

  return {
    name: 'forecasts',
    metrics: new Registry(),
    reader: store,
    deviceTopic,
    pullOnce,
    // Only the external broker's subscriber can be down; the embedded broker hands forecasts over in-process.
    readiness: config.MQTT_URL ? [{ name: 'forecasts', check: async () => ({ ok: subscriber?.connected() === true, detail: { client_id: clientId } }) }] : [],
    routes: async (app) => app.register(forecastRoutes, { store, auth: createAuthenticator(devices), adminToken: config.ADMIN_TOKEN, clock, ...(deps.fields ? { fields: deps.fields } : {}) }),
    async start() {
      await store.open();
      prune();
      stopPruning = every(clock, PRUNE_INTERVAL_MS, prune);
      // On an external broker the gateways' forecasts are consumed here (its ACL pins each device
      // to its topics); the embedded broker hands them over through `deviceTopic`.
      if (config.MQTT_URL) {
        const s: Subscriber = connectSubscriber(
          deps.bus(),
          { clientId, filter: ALL_DEVICE_FORECASTS, group: 'fieldhook-forecasts' },
          async (packet) => {
            const id = deviceOfForecastsTopic(packet.topic);
            const device = id ? await devices.get(id) : undefined;
            if (!device || !device.enabled) throw new InvalidBusMessage(`device ${id} cannot send forecasts`);
            const refused = await storeDeviceForecast(store, device, packet.payload as Buffer, clock.now());
            if (refused.length > 0) s.client.publish(deviceErrorsTopic(device.id), JSON.stringify({ refused }), { qos: 0 });
          },
          logger,
        );
        subscriber = s;
        await s.start();
      }
      if (puller) {
        // In the background, so a slow forecast service never holds up start; the first pull once
        // the predictor, which starts later, has loaded the fields to pull for.
        // One pull at a time; a failed one (the fields could not be read) is logged, never left
        // as an unhandled rejection, and the next interval tries again.
        const pull = () => {
          pulling = pulling.then(pullOnce).catch((err: unknown) => logger.warn({ err }, 'forecast pull failed'));
        };
        const first = clock.setTimeout(pull, FIRST_PULL_DELAY_MS);
        const stopEvery = every(clock, config.FORECAST_PULL_INTERVAL_MS ?? DEFAULT_FORECAST_OPTIONS.pullIntervalMs, pull);
        stopPulling = () => {
          clock.clearTimeout(first);
          stopEvery();
        };
      }
    },
    stop: () => close(),
    leave: (options) => close(options ?? {}),
  };

  /** Stops, or with `leaving` leaves the gateways' forecasts group for good; the rest closes either way. */
  async function close(leaving?: LeaveOptions): Promise<void> {
    stopPruning?.();
    stopPulling?.();
    await pulling.catch(() => {});
    try {
      await endSubscribers([subscriber], leaving);
    } finally {
      await pruning;
      await store.close();
    }
  }
}
