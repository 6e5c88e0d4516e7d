/**
 * Every MQTT topic of fieldhook's public contract, and nothing else anywhere names one. Devices
 * publish to their own readings topic; the ingestor republishes durable readings per field; events
 * for the dispatcher travel on one topic. See docs/ARCHITECTURE.md, "The bus".
 */
export const TOPIC_ROOT = 'fieldhook/v1';

/** Where a device publishes its readings (QoS 1). */
export const deviceReadingsTopic = (device: string) => `${TOPIC_ROOT}/devices/${device}/readings`;
/** Where refusals of a device's MQTT readings go: there is no negative PUBACK it would see. */
export const deviceErrorsTopic = (device: string) => `${TOPIC_ROOT}/devices/${device}/errors`;
/** Durable readings of one field, republished by the ingestor for a predictor in another process. */
export const fieldReadingsTopic = (farm: string, field: string) => `${TOPIC_ROOT}/farms/${farm}/fields/${field}/readings`;
/** Where a valve controller reports water it applied (QoS 1): one irrigation report or an array. */
export const deviceIrrigationsTopic = (device: string) => `${TOPIC_ROOT}/devices/${device}/irrigations`;
/** Irrigation records of one field, once stored durably, for the predictor (`BusIrrigation` JSON). */
export const fieldIrrigationsTopic = (farm: string, field: string) => `${TOPIC_ROOT}/farms/${farm}/fields/${field}/irrigations`;
/** Where a gateway sends a weather forecast for its farm or one of its fields (QoS 1): the JSON of `POST /v1/forecasts`. */
export const deviceForecastsTopic = (device: string) => `${TOPIC_ROOT}/devices/${device}/forecasts`;
/** Events (`PublishInput` JSON) for the dispatcher. */
export const EVENTS_TOPIC = `${TOPIC_ROOT}/events`;
/**
 * A leaving subscriber's own marker (`leave` of subscriber.ts and of the ingestor's consumer): published by it to itself after it
 * unsubscribed, so the broker queues it behind every message already assigned to the session; its
 * arrival means the session holds nothing more. Topic characters of the client id are replaced.
 */
export const sessionDrainedTopic = (clientId: string) => `${TOPIC_ROOT}/sessions/${clientId.replace(/[/+#]/g, '_')}/drained`;

/** Subscription filter for every device's readings (the ingestor). */
export const ALL_DEVICE_READINGS = deviceReadingsTopic('+');
/** Subscription filter for every field's readings (the predictor). */
export const ALL_FIELD_READINGS = fieldReadingsTopic('+', '+');
/** Subscription filter for every valve controller's irrigation reports (an external broker). */
export const ALL_DEVICE_IRRIGATIONS = deviceIrrigationsTopic('+');
/** Subscription filter for every field's irrigation records (the predictor). */
export const ALL_FIELD_IRRIGATIONS = fieldIrrigationsTopic('+', '+');
/** Subscription filter for every gateway's forecasts (an external broker). */
export const ALL_DEVICE_FORECASTS = deviceForecastsTopic('+');
/** Everything fieldhook publishes or consumes, in every version of the contract (the ingestor's ACL). */
export const ALL_TOPICS = 'fieldhook/#';

const DEVICE_READINGS = new RegExp(`^${TOPIC_ROOT}/devices/([^/]+)/readings$`);

/** The device id in a readings topic, or undefined for any other topic. */
export function deviceOfTopic(topic: string): string | undefined {
  return DEVICE_READINGS.exec(topic)?.[1];
}

const FIELD_READINGS = new RegExp(`^${TOPIC_ROOT}/farms/([^/]+)/fields/([^/]+)/readings$`);

/** The field key (`farm/field`) of a field readings topic, or undefined for any other topic. */
export function fieldKeyOfReadingsTopic(topic: string): string | undefined {
  const match = FIELD_READINGS.exec(topic);
  return match ? `${match[1]}/${match[2]}` : undefined;
}

const DEVICE_IRRIGATIONS = new RegExp(`^${TOPIC_ROOT}/devices/([^/]+)/irrigations$`);

/** The device id in an irrigations topic, or undefined for any other topic. */
export function deviceOfIrrigationsTopic(topic: string): string | undefined {
  return DEVICE_IRRIGATIONS.exec(topic)?.[1];
}

const DEVICE_FORECASTS = new RegExp(`^${TOPIC_ROOT}/devices/([^/]+)/forecasts$`);

/** The device id in a forecasts topic, or undefined for any other topic. */
export function deviceOfForecastsTopic(topic: string): string | undefined {
  return DEVICE_FORECASTS.exec(topic)?.[1];
}

/** A shared subscription so several instances split the load (MQTT 5, and Mosquitto for 3.1.1). */
export const sharedSubscription = (group: string, filter: string) => `$share/${group}/${filter}`;

/**
 * Mosquitto ACL lines pinning every device login to its own topics (`%u` = username = device id).
 * The ingestor's own login gets `ALL_TOPICS`.
 */
export const DEVICE_ACL_PATTERNS = [
  `pattern write ${deviceReadingsTopic('%u')}`,
  `pattern write ${deviceIrrigationsTopic('%u')}`,
  `pattern write ${deviceForecastsTopic('%u')}`,
  `pattern read ${deviceErrorsTopic('%u')}`,
] as const;
