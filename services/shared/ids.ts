/**
 * Ids of devices, farms and fields: they become MQTT topic levels and InfluxDB tag values, so
 * no `/`, `+`, `#`, spaces or control characters.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const ID_RULE = '[A-Za-z0-9][A-Za-z0-9._:-]{0,63}';
