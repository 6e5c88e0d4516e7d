/** MQTT topics of the public contract (DESIGN.md). */
export const TOPIC_ROOT = 'fieldhook/v1';

export const deviceReadingsTopic = (device: string) => `${TOPIC_ROOT}/devices/${device}/readings`;
export const deviceErrorsTopic = (device: string) => `${TOPIC_ROOT}/devices/${device}/errors`;
export const fieldReadingsTopic = (farm: string, field: string) => `${TOPIC_ROOT}/farms/${farm}/fields/${field}/readings`;

/** Subscription filter for every device's readings. */
export const ALL_DEVICE_READINGS = `${TOPIC_ROOT}/devices/+/readings`;
const DEVICE_READINGS = /^fieldhook\/v1\/devices\/([^/]+)\/readings$/;

/** The device id in a readings topic, or undefined for any other topic. */
export function deviceOfTopic(topic: string): string | undefined {
  return DEVICE_READINGS.exec(topic)?.[1];
}

/** A shared subscription so several instances split the load (MQTT 5, and Mosquitto for 3.1.1). */
export const sharedSubscription = (group: string, filter: string) => `$share/${group}/${filter}`;
