/**
 * Ids of devices, farms and fields: they become MQTT topic levels and InfluxDB tag values, so
 * no `/`, `+`, `#`, spaces or control characters.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const ID_RULE = '[A-Za-z0-9][A-Za-z0-9._:-]{0,63}';

/**
 * Free text that becomes a key or a label (idempotency keys, report ids, forecast sources) may hold
 * anything printable but no control character: PostgreSQL cannot store NUL at all, and the rest
 * has no business in a key shown in logs and lists.
 */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
export const hasControlCharacter = (text: string): boolean => CONTROL_CHARACTER.test(text);
/** The same rule as a JSON Schema `pattern`: text without a control character. */
export const NO_CONTROL_CHARACTER_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
