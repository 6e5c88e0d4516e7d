import { deviceErrorsTopic } from './bus/topics.js';
import { defineError, type ErrorFactory } from './errors.js';

/**
 * Every `FH_ERR_*` code fieldhook sends, defined once with its HTTP status, the message a client
 * sees by default and a one-line meaning. Codes and statuses are a public contract (clients branch
 * on them): add codes, never rename one or change its status. docs/errors.md is rendered from this
 * table (`npm run docs:errors`) and a unit test keeps the two, and the README, in step.
 *
 * Naming: the key is the code without `FH_ERR_`, in camelCase (`FH_ERR_READING_TS_MISSING` is
 * `Errors.readingTsMissing`). Code elsewhere refers to `Errors.x` or `Errors.x.code`, never to a
 * string literal, so a search for the key finds every place that sends the code.
 */
export const Errors = {
  // Authentication of devices (ingest) and of the admin API (dispatcher).
  authMissing: defineError(
    'FH_ERR_AUTH_MISSING',
    401,
    'Send Authorization: Bearer <device secret> or webhook-* signature headers',
    'The request carries no device credential, or a signed request lacks one of the three `webhook-*` headers.',
  ),
  authInvalid: defineError('FH_ERR_AUTH_INVALID', 401, 'Unknown credential', 'The bearer secret belongs to no device, or the MQTT password is wrong.'),
  authSignatureInvalid: defineError(
    'FH_ERR_AUTH_SIGNATURE_INVALID',
    401,
    'Signature does not match',
    'The `webhook-signature` HMAC does not match the request.',
  ),
  authSignatureStale: defineError(
    'FH_ERR_AUTH_SIGNATURE_STALE',
    401,
    'webhook-timestamp is more than 300 s from the server clock',
    'The `webhook-timestamp` of a signed request is more than 300 s from the server clock.',
  ),
  authReplayed: defineError(
    'FH_ERR_AUTH_REPLAYED',
    409,
    'This webhook-id was already accepted',
    'The `webhook-id` of a signed request was already accepted for this device.',
  ),
  authNetworkForbidden: defineError(
    'FH_ERR_AUTH_NETWORK_FORBIDDEN',
    403,
    'Source address is not in the allowed networks',
    "The source address is outside the device's or farm's allowed networks.",
  ),
  authDeviceForbidden: defineError(
    'FH_ERR_AUTH_DEVICE_FORBIDDEN',
    403,
    'This credential may not write for that device',
    'The credential may not write readings for the device named in the reading.',
  ),
  authMalformed: defineError(
    'FH_ERR_AUTH_MALFORMED',
    401,
    'Authorization must be `Bearer <device secret>`',
    'The `Authorization` header of an unsigned request is not `Bearer <device secret>` (another scheme, no secret, extra words).',
  ),
  authAmbiguous: defineError(
    'FH_ERR_AUTH_AMBIGUOUS',
    400,
    'Send either Authorization: Bearer or webhook-* signature headers, not both',
    'The request carries both a Bearer credential and `webhook-*` signature headers.',
  ),
  authSignedDeviceMissing: defineError(
    'FH_ERR_AUTH_SIGNED_DEVICE_MISSING',
    401,
    'A signed request must name its device in the fieldhook-device header',
    'A request with `webhook-*` signature headers has no `fieldhook-device` header (the device is checked before the body is read).',
  ),
  authUnauthorized: defineError(
    'FH_ERR_AUTH_UNAUTHORIZED',
    401,
    'A valid admin bearer token is required',
    'The dispatcher API was called without a valid admin bearer token.',
  ),

  // The device registry.
  deviceUnknown: defineError('FH_ERR_DEVICE_UNKNOWN', 401, 'Unknown device', 'A credential or reading names a device that is not registered.'),
  deviceDisabled: defineError('FH_ERR_DEVICE_DISABLED', 403, 'Device is disabled', 'The device is registered but disabled.'),
  deviceNotFound: defineError('FH_ERR_DEVICE_NOT_FOUND', 404, 'No such device', 'A device command names a device that is not registered.'),
  deviceNetworkInvalid: defineError('FH_ERR_DEVICE_NETWORK_INVALID', 400, 'Invalid network', 'An allowed network of a farm or device is neither a CIDR range nor an IP address (named in `field`).'),
  deviceInvalid: defineError('FH_ERR_DEVICE_INVALID', 400, 'Invalid device', 'A device id, farm, field or gateway does not match the id pattern, or its location is not on Earth (named in `field`).'),
  deviceExists: defineError(
    'FH_ERR_DEVICE_EXISTS',
    409,
    'The device already exists',
    'A device with this id, or with this secret, is already registered.',
  ),

  // The HTTP layer, shared by every fieldhook API.
  httpMalformedJson: defineError('FH_ERR_HTTP_MALFORMED_JSON', 400, 'Body is not valid JSON', 'The body (or MQTT payload) is not valid JSON, or is empty.'),
  httpBodyTooLarge: defineError('FH_ERR_HTTP_BODY_TOO_LARGE', 413, 'Request body is too large', 'The body is larger than the configured limit.'),
  httpUnsupportedMediaType: defineError(
    'FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
    415,
    'Unsupported Media Type',
    'The body is not of a media type the route accepts (`application/json`; `application/senml+json` on `/v1/readings`).',
  ),
  httpUnsupportedEncoding: defineError(
    'FH_ERR_HTTP_UNSUPPORTED_ENCODING',
    415,
    'Unsupported Content-Encoding',
    'The body is compressed (`Content-Encoding`) with a coding the route does not take: JSON routes take bodies as sent; the line protocol routes take `gzip`.',
  ),
  httpBadContentLength: defineError(
    'FH_ERR_HTTP_BAD_CONTENT_LENGTH',
    400,
    'Request body size did not match Content-Length',
    'The body size does not match its `Content-Length`.',
  ),
  httpInvalidRequest: defineError(
    'FH_ERR_HTTP_INVALID_REQUEST',
    400,
    'Invalid request',
    'Parameters, query or body fail the route schema (each problem listed in `errors`).',
  ),
  httpBadRequest: defineError(
    'FH_ERR_HTTP_BAD_REQUEST',
    400,
    'Bad request',
    'Any other request the HTTP layer refused; the response keeps the 4xx status it chose.',
  ),
  httpUriTooLong: defineError('FH_ERR_HTTP_URI_TOO_LONG', 414, 'Request URI is too long', 'The request target is longer than `HTTP_MAX_URL_LENGTH_BYTES`, or a path parameter longer than its limit.'),
  httpHeadersTooLarge: defineError(
    'FH_ERR_HTTP_HEADERS_TOO_LARGE',
    431,
    'Request headers are too large',
    'The request line and headers are larger than `HTTP_MAX_HEADER_SIZE_BYTES`; the connection is closed.',
  ),
  httpRequestTimeout: defineError(
    'FH_ERR_HTTP_REQUEST_TIMEOUT',
    408,
    'The request was not received in time',
    'The headers did not arrive within `HTTP_HEADERS_TIMEOUT_MS`, or the whole request within `HTTP_REQUEST_TIMEOUT_MS`; the connection is closed.',
  ),
  httpTooManyConnections: defineError(
    'FH_ERR_HTTP_TOO_MANY_CONNECTIONS',
    503,
    'Too many open connections: retry later',
    'The server holds `HTTP_MAX_CONNECTIONS` connections, or this source address `HTTP_MAX_CONNECTIONS_PER_ADDRESS`: retry after `Retry-After` seconds; the connection is closed.',
  ),
  httpNotFound: defineError('FH_ERR_HTTP_NOT_FOUND', 404, 'No such route', 'No route matches the method and path.'),
  httpMethodNotAllowed: defineError(
    'FH_ERR_HTTP_METHOD_NOT_ALLOWED',
    405,
    'Method not allowed on this path',
    'The path exists but not for this method; `Allow` (and `allowed`) lists the methods it takes.',
  ),
  internal: defineError('FH_ERR_INTERNAL', 500, 'Internal error', 'An unexpected failure; the details are in the server log, not the response.'),

  // Ingest of readings (HTTP, MQTT, LoRaWAN network servers).
  ingestBadEnvelope: defineError(
    'FH_ERR_INGEST_BAD_ENVELOPE',
    400,
    'The uplink envelope is not in the expected shape',
    "A network server's uplink or a SenML pack lacks a field or has the wrong shape (named in `field`).",
  ),
  ingestEmptyBatch: defineError(
    'FH_ERR_INGEST_EMPTY_BATCH',
    400,
    'Send one reading or a non-empty array of readings',
    'The body (or MQTT payload) is an empty array.',
  ),
  ingestBatchTooLarge: defineError(
    'FH_ERR_INGEST_BATCH_TOO_LARGE',
    413,
    'Too many readings in one request',
    'The body (or MQTT message) holds more than `INGEST_MAX_BATCH` readings.',
  ),
  ingestPayloadTooLarge: defineError(
    'FH_ERR_INGEST_PAYLOAD_TOO_LARGE',
    413,
    'MQTT payload is too large',
    'An MQTT message larger than `INGEST_BODY_LIMIT_BYTES`: acknowledged, refused on the device\'s errors topic, never parsed.',
  ),
  ingestTopicForbidden: defineError(
    'FH_ERR_INGEST_TOPIC_FORBIDDEN',
    403,
    'A device may publish only to its own topics',
    'An MQTT message a device published on the embedded broker to a topic not its own (another device\'s, the bus\'s): acknowledged, dropped (never forwarded) and refused on the device\'s errors topic.',
  ),
  ingestAllRefused: defineError(
    'FH_ERR_INGEST_ALL_REFUSED',
    400,
    'Every reading was refused',
    'Every reading of the request was refused (each listed in `refused`).',
  ),
  ingestBackpressure: defineError(
    'FH_ERR_INGEST_BACKPRESSURE',
    429,
    'Spool above its high-water mark: retry later',
    'The spool is above its high-water mark: retry after `Retry-After` seconds.',
  ),
  ingestSpoolFull: defineError(
    'FH_ERR_INGEST_SPOOL_FULL',
    503,
    'Spool disk budget is full: retry later',
    'The spool disk budget is spent during an InfluxDB outage: retry after `Retry-After` seconds.',
  ),
  ingestRateLimited: defineError(
    'FH_ERR_INGEST_RATE_LIMITED',
    429,
    'Too many requests for this device',
    "The device exceeded its request rate limit: retry after `Retry-After` seconds.",
  ),
  ingestPayloadTooDeep: defineError(
    'FH_ERR_INGEST_PAYLOAD_TOO_DEEP',
    400,
    'The decoded payload nests objects too deeply',
    "An uplink's decoded payload nests objects deeper than the adapter's limit (`maxDepth`, path prefix in `field`).",
  ),
  ingestNameTooLong: defineError(
    'FH_ERR_INGEST_NAME_TOO_LONG',
    400,
    'A quantity name is too long',
    'A SenML name or a flattened name of a decoded payload is longer than any quantity name can be (`maxLength`, prefix in `field`).',
  ),

  // One refused reading of a batch (see READING in AREAS below).
  readingNotObject: defineError('FH_ERR_READING_NOT_OBJECT', 400, 'A reading must be a JSON object', 'The reading is not a JSON object.'),
  readingDeviceInvalid: defineError(
    'FH_ERR_READING_DEVICE_INVALID',
    400,
    'device must match [A-Za-z0-9][A-Za-z0-9._:-]{0,63}',
    '`device` is not a valid device id.',
  ),
  readingDeviceMissing: defineError(
    'FH_ERR_READING_DEVICE_MISSING',
    400,
    'A gateway must name the device of each reading',
    'A gateway sent a reading without `device`.',
  ),
  readingIdInvalid: defineError(
    'FH_ERR_READING_ID_INVALID',
    400,
    'id must be a string of 1-128 characters or an integer',
    '`id` is neither a string of 1 to 128 characters nor a safe integer.',
  ),
  readingTsMissing: defineError('FH_ERR_READING_TS_MISSING', 400, 'ts is required', '`ts` is missing.'),
  readingTsInvalid: defineError(
    'FH_ERR_READING_TS_INVALID',
    400,
    'ts must be ISO 8601 with a zone, or epoch milliseconds',
    '`ts` is neither ISO 8601 with a zone nor whole epoch milliseconds (epoch seconds are refused).',
  ),
  readingTsFuture: defineError(
    'FH_ERR_READING_TS_FUTURE',
    400,
    'ts is ahead of the server clock',
    '`ts` is further ahead of the server clock than `INGEST_MAX_FUTURE_MS`.',
  ),
  readingTsTooOld: defineError(
    'FH_ERR_READING_TS_TOO_OLD',
    400,
    'ts is older than the accepted age',
    '`ts` is older than `INGEST_MAX_AGE_MS`.',
  ),
  readingValuesMissing: defineError(
    'FH_ERR_READING_VALUES_MISSING',
    400,
    'values must be an object of quantity: number',
    '`values` is not an object, or names no quantity.',
  ),
  readingUnknownQuantity: defineError(
    'FH_ERR_READING_UNKNOWN_QUANTITY',
    400,
    'Unknown quantity',
    'A key of `values` is not a known quantity.',
  ),
  readingValueType: defineError('FH_ERR_READING_VALUE_TYPE', 400, 'A value must be a number', 'A value is not a number.'),
  readingValueNotFinite: defineError('FH_ERR_READING_VALUE_NOT_FINITE', 400, 'A value must be finite', 'A value is infinite or NaN.'),
  readingValueOutOfRange: defineError(
    'FH_ERR_READING_VALUE_OUT_OF_RANGE',
    400,
    'A value is outside the range of its quantity',
    'A value is outside the physical range of its quantity.',
  ),

  // Webhook subscriptions (dispatcher API).
  subscriptionNotFound: defineError('FH_ERR_SUBSCRIPTION_NOT_FOUND', 404, 'Subscription not found', 'No subscription has this id.'),
  subscriptionInvalidUrl: defineError(
    'FH_ERR_SUBSCRIPTION_INVALID_URL',
    400,
    'Subscription URL is not allowed',
    'The URL is not absolute, not http(s), not https under `https_only`, or carries credentials.',
  ),
  subscriptionInvalidSecret: defineError(
    'FH_ERR_SUBSCRIPTION_INVALID_SECRET',
    400,
    'A secret is `whsec_` followed by 24 to 64 base64-encoded bytes',
    'The secret is not `whsec_` followed by 24 to 64 base64-encoded bytes.',
  ),
  subscriptionSecretInUse: defineError(
    'FH_ERR_SUBSCRIPTION_SECRET_IN_USE',
    409,
    'The subscription already signs with this secret',
    'A rotation names a secret the subscription signs with now (its current one, or one still in its overlap).',
  ),
  subscriptionInvalidFilter: defineError(
    'FH_ERR_SUBSCRIPTION_INVALID_FILTER',
    400,
    'Invalid event type filter',
    'An event type filter is not a valid type pattern.',
  ),
  subscriptionUnknownField: defineError(
    'FH_ERR_SUBSCRIPTION_UNKNOWN_FIELD',
    400,
    'The subscription has a field fieldhook does not know',
    'The body names a field the subscription API does not have (a typo such as `event` for `events`, or a setting another format takes); `field` names it.',
  ),
  subscriptionInvalidSettings: defineError(
    'FH_ERR_SUBSCRIPTION_INVALID_SETTINGS',
    400,
    'The settings do not fit the format',
    "A format's settings are missing or wrong (a `telegram` subscription without `settings.chat_id`, an `email` one whose URL is not `mailto:` with addresses); `field` names the setting.",
  ),
  subscriptionUnknownLocale: defineError(
    'FH_ERR_SUBSCRIPTION_UNKNOWN_LOCALE',
    400,
    'fieldhook has no messages in this locale',
    'The `locale` is not one of the message catalogs fieldhook ships (`en`, `he`).',
  ),
  subscriptionInvalidTimezone: defineError(
    'FH_ERR_SUBSCRIPTION_INVALID_TIMEZONE',
    400,
    'Unknown time zone',
    'The `timezone` is not an IANA time zone name such as `Asia/Jerusalem` or `UTC`.',
  ),
  subscriptionFormatUnavailable: defineError(
    'FH_ERR_SUBSCRIPTION_FORMAT_UNAVAILABLE',
    400,
    'This format is not configured on this server',
    'The format needs settings of the server that are not set: `email` needs `SMTP_URL`.',
  ),

  // Webhook deliveries (dispatcher).
  webhookDeliveryNotFound: defineError('FH_ERR_WEBHOOK_DELIVERY_NOT_FOUND', 404, 'Delivery not found', 'No delivery has this id.'),
  webhookExpired: defineError(
    'FH_ERR_WEBHOOK_EXPIRED',
    409,
    'The event is past its valid_until',
    'A retry was asked for an event past its `valid_until`: late advice is never re-sent.',
  ),
  webhookInvalidEvent: defineError('FH_ERR_WEBHOOK_INVALID_EVENT', 400, 'Invalid event', 'A published event does not have the event envelope shape (each problem listed in `errors`).'),
  webhookSsrfBlocked: defineError(
    'FH_ERR_WEBHOOK_SSRF_BLOCKED',
    400,
    'Destination address is not allowed',
    'The webhook URL is, or resolves to, an address outside the public ranges and the allow-list.',
  ),
  webhookTimeout: defineError('FH_ERR_WEBHOOK_TIMEOUT', 504, 'Webhook request timed out', 'The receiver did not answer within the delivery timeout.'),
  webhookStopped: defineError('FH_ERR_WEBHOOK_STOPPED', 503, 'The dispatcher is stopped', 'The dispatcher is stopping and accepts no more work.'),

  // FAO-56 agronomy requests.
  agronomyInvalidInput: defineError(
    'FH_ERR_AGRONOMY_INVALID_INPUT',
    400,
    'Invalid agronomy input',
    'A field is missing, has the wrong type or holds an impossible value (named in `field`).',
  ),
  agronomyConflictingInput: defineError(
    'FH_ERR_AGRONOMY_CONFLICTING_INPUT',
    400,
    'Conflicting agronomy input',
    'Two fields that exclude each other were both given (e.g. `tdew` and `rh_mean`).',
  ),
  agronomyUnknownPreset: defineError('FH_ERR_AGRONOMY_UNKNOWN_PRESET', 400, 'Unknown crop or soil preset', 'A crop or soil name has no preset.'),

  // The irrigation model.
  modelCardMismatch: defineError(
    'FH_ERR_MODEL_CARD_MISMATCH',
    500,
    'Model does not match its card',
    "The model file, its card and this version's features disagree: the model is not served.",
  ),
  modelChecksum: defineError(
    'FH_ERR_MODEL_CHECKSUM',
    500,
    'Model file checksum does not match its card',
    "The model file's sha256 differs from the one in its card.",
  ),
  modelInvalidInput: defineError('FH_ERR_MODEL_INVALID_INPUT', 400, 'Invalid model input', 'A feature row has the wrong length or a non-finite value.'),

  // Field profiles of the predictor.
  fieldNotFound: defineError('FH_ERR_FIELD_NOT_FOUND', 404, 'No such field', 'No field profile has this farm and field.'),
  fieldExists: defineError('FH_ERR_FIELD_EXISTS', 409, 'The field is already configured', 'A profile for this farm and field already exists.'),
  fieldInvalid: defineError(
    'FH_ERR_FIELD_INVALID',
    400,
    'Invalid field settings',
    'Field settings are invalid: unknown crop or soil, values out of range (each problem listed in `problems`).',
  ),

  // The predictor.
  predictModelInvalid: defineError(
    'FH_ERR_PREDICT_MODEL_INVALID',
    500,
    'The irrigation model could not be loaded',
    'The irrigation model or its card could not be loaded.',
  ),
  predictHistory: defineError(
    'FH_ERR_PREDICT_HISTORY',
    502,
    'Reading history could not be loaded from InfluxDB',
    'The InfluxDB query for reading history failed.',
  ),
  predictWrite: defineError(
    'FH_ERR_PREDICT_WRITE',
    502,
    'Recommendations could not be written to InfluxDB',
    'Writing recommendations to InfluxDB failed.',
  ),
  predictNotStarted: defineError('FH_ERR_PREDICT_NOT_STARTED', 503, 'The predictor has not started', 'The predictor was called before it started.'),
  predictPartitionTaken: defineError(
    'FH_ERR_PREDICT_PARTITION_TAKEN',
    409,
    'Another predictor runs this partition',
    'With `FIELDHOOK_DATABASE_URL` set and partitions set by hand (a number in `FIELDHOOK_PREDICT_PARTITIONS`; the default `auto` shares the fields among the live predictors instead), a predictor claims its partition (`FIELDHOOK_PREDICT_PARTITION` of `FIELDHOOK_PREDICT_PARTITIONS`) in PostgreSQL for as long as it runs (an instance whose ingestor runs the embedded broker claims every field: its broker carries only its own readings); a second predictor on the same partition, or one counting partitions differently, is refused at start (the holder is named), since both would advise the same fields. Claims and automatic partitions exclude each other on one database for the same reason: a claiming predictor is refused while predictors with `auto` are live (they are named), and a predictor with `auto` is refused at start while a claim is held (the claimer is named); one whose membership lapsed meanwhile takes no partition and is not ready, the reason in its readiness detail.',
  ),
  predictInvalidRange: defineError(
    'FH_ERR_PREDICT_INVALID_RANGE',
    400,
    'Invalid time range',
    'A replay range is not from < to, is longer than the replay limit, ends after now, or steps by less than a minute.',
  ),
  predictConfig: defineError('FH_ERR_PREDICT_CONFIG', 500, 'Invalid predictor settings', 'Predictor settings contradict each other (e.g. a partition number above the partition count).'),

  // Device profiles: vendors' decoded payloads mapped onto canonical quantities (docs/devices.md).
  profileInvalid: defineError(
    'FH_ERR_PROFILE_INVALID',
    500,
    'Invalid device profile',
    'A device profile file cannot be read or breaks the format; checked at start (file and path inside it listed in `problems`).',
  ),
  profileNotFound: defineError('FH_ERR_PROFILE_NOT_FOUND', 404, 'No such device profile', 'A command names a device profile that is neither shipped nor in `PROFILES_DIR`.'),
  profileNoValue: defineError(
    'FH_ERR_PROFILE_NO_VALUE',
    400,
    'A field has no value the profile can map',
    "A decoded field named by a profile's mapping is not a number, nor a string holding one (its path in `field`).",
  ),
  profileUnmappedField: defineError(
    'FH_ERR_PROFILE_UNMAPPED_FIELD',
    400,
    'A decoded field is not in the profile',
    'A top-level field of the decoded payload is neither mapped, kept nor ignored by the profile, whose `others` is `refuse`.',
  ),
  profileHistoryInvalid: defineError(
    'FH_ERR_PROFILE_HISTORY_INVALID',
    400,
    'Buffered readings cannot be read',
    "The field a profile's `history` names is not an array of at most 256 objects, or an entry's time is missing or not a time (its path in `field`).",
  ),

  // Weather forecasts (POST /v1/forecasts, the forecasts topic, the Open-Meteo pull).
  forecastInvalid: defineError(
    'FH_ERR_FORECAST_INVALID',
    400,
    'Invalid forecast',
    'A forecast breaks the rules (the property is named in `field`): a farm, hours on the hour each given once, at most 16 days of them, quantities within their bounds (rain 0–500 mm, probability 0–1, ET0 0–5 mm per hour, the canonical ranges for the rest).',
  ),
  forecastBeyondHorizon: defineError(
    'FH_ERR_FORECAST_BEYOND_HORIZON',
    400,
    'A forecast hour lies beyond the forecast horizon',
    "An hour of a forecast ends more than 16 days (Open-Meteo's longest forecast) ahead of fieldhook's clock: the hour is named in `field`, and nothing of the forecast is stored. Hours in the past are taken and removed with the rest after `FIELDHOOK_FORECAST_KEEP_MS`.",
  ),
  forecastForbidden: defineError(
    'FH_ERR_FORECAST_FORBIDDEN',
    403,
    'This credential may not send forecasts for that farm',
    "A gateway sends forecasts for its own farm only; the admin token for any.",
  ),
  forecastSource: defineError(
    'FH_ERR_FORECAST_SOURCE',
    502,
    'The forecast source answered with something unusable',
    'A pulled forecast (Open-Meteo) came back with an error status, a body that is not the documented hourly JSON, or hours a sent forecast would be refused for (a value out of bounds, an hour twice or beyond the horizon); the last stored forecast stays in use.',
  ),

  // Irrigation records (POST /v1/irrigations, the valve controllers' MQTT topic, chat answers).
  irrigationInvalid: defineError(
    'FH_ERR_IRRIGATION_INVALID',
    400,
    'Invalid irrigation record',
    'A value of an irrigation record breaks the rules (the property is named in `field`): ids, a depth of 0.01 to 500 mm, times as for readings, start before end and at most 366 days back, no end in the future.',
  ),
  irrigationForbidden: defineError(
    'FH_ERR_IRRIGATION_FORBIDDEN',
    403,
    'This credential may not record irrigations for that field',
    "A device records only for its own field, a gateway for its own and its devices' fields.",
  ),
  irrigationIdempotencyConflict: defineError(
    'FH_ERR_IRRIGATION_IDEMPOTENCY_CONFLICT',
    409,
    'This Idempotency-Key was used for another irrigation',
    'The `Idempotency-Key` was already used by this reporter with a different body (`id` names the record it recorded).',
  ),

  // Chat answers (Slack, Telegram): docs/answering-advice.md.
  chatNotConfigured: defineError(
    'FH_ERR_CHAT_NOT_CONFIGURED',
    401,
    'This chat platform is not configured',
    'A Slack or Telegram request arrived while its secret (`SLACK_SIGNING_SECRET`, `TELEGRAM_SECRET_TOKEN`) is unset: nothing can be verified.',
  ),
  chatSignatureMissing: defineError(
    'FH_ERR_CHAT_SIGNATURE_MISSING',
    401,
    'The request is not signed',
    'A Slack request lacks `X-Slack-Signature` or `X-Slack-Request-Timestamp`, or a Telegram update lacks `X-Telegram-Bot-Api-Secret-Token`.',
  ),
  chatSignatureInvalid: defineError(
    'FH_ERR_CHAT_SIGNATURE_INVALID',
    401,
    'The request signature does not match',
    "The `X-Slack-Signature` HMAC does not match the body, or the Telegram secret token is not the configured one.",
  ),
  chatSignatureStale: defineError(
    'FH_ERR_CHAT_SIGNATURE_STALE',
    401,
    'X-Slack-Request-Timestamp is more than 300 s from the server clock',
    'The `X-Slack-Request-Timestamp` of a Slack request is more than 5 minutes from the server clock (a replay).',
  ),
  chatPayloadInvalid: defineError(
    'FH_ERR_CHAT_PAYLOAD_INVALID',
    400,
    'The chat request cannot be read',
    'A verified Slack or Telegram request is not the documented shape (form fields, `payload` JSON, update JSON).',
  ),
  chatFarmForbidden: defineError(
    'FH_ERR_CHAT_FARM_FORBIDDEN',
    403,
    'This chat user may not see or record for that farm',
    'The chat user is mapped to no farm, or not to the farm of the field named (`fieldhook chat users add`); answered in the chat, nothing recorded.',
  ),
  chatUserInvalid: defineError('FH_ERR_CHAT_USER_INVALID', 400, 'Invalid chat user mapping', 'A chat user mapping names an unknown platform or an invalid user or farm id.'),

  // The status page (docs/status-page.md).
  statusLoginRequired: defineError(
    'FH_ERR_STATUS_LOGIN_REQUIRED',
    401,
    'Log in at /ui/login, or send Authorization: Bearer <admin token>',
    "The status page's data was asked for without a live session (none, logged out or expired) and without the admin bearer token.",
  ),
  statusCrossOrigin: defineError(
    'FH_ERR_STATUS_CROSS_ORIGIN',
    403,
    'This form is accepted from the status page only',
    "A login or logout form was posted from another site, or without the `Origin` and `Referer` a browser sends (CSRF protection).",
  ),
  statusLoginRefused: defineError(
    'FH_ERR_STATUS_LOGIN_REFUSED',
    401,
    'That is not the admin token',
    'The login form was sent without the admin token, with another token, or while no admin token is configured (the login page answers, with the code in `data-code`).',
  ),
  statusLoginThrottled: defineError(
    'FH_ERR_STATUS_LOGIN_THROTTLED',
    429,
    'Too many wrong tokens from this address; try again later',
    'Too many refused logins (the login form, or a wrong bearer token on `/ui/api/status`) came from this address within a minute; answered with `Retry-After`.',
  ),

  // Configuration, checked once at start-up.
  configFile: defineError('FH_ERR_CONFIG_FILE', 500, 'Cannot read the config file', 'The file named by `FIELDHOOK_CONFIG_FILE` cannot be read or is not JSON.'),
  configInvalid: defineError(
    'FH_ERR_CONFIG_INVALID',
    500,
    'Invalid configuration',
    'A setting is invalid (each problem, with its variable, listed in `problems`).',
  ),
  configPortUnavailable: defineError(
    'FH_ERR_CONFIG_PORT_UNAVAILABLE',
    500,
    'Cannot listen on the configured address',
    'At start, a port is taken by another program, needs privileges, or the listen host is not an address of this machine; the setting to change is in `setting`.',
  ),
  influxSetup: defineError(
    'FH_ERR_INFLUX_SETUP',
    500,
    'InfluxDB is not set up for fieldhook',
    'At start, InfluxDB refused an empty write or an InfluxQL read with the configured settings (wrong org, bucket or database, a token that cannot write and read): each problem, with the setting to change, listed in `problems` (docs/influxdb.md).',
  ),

  // The control-plane database (FIELDHOOK_DATABASE_URL) and this instance's data folder, checked at start.
  databaseUnavailable: defineError(
    'FH_ERR_DATABASE_UNAVAILABLE',
    503,
    'Cannot reach the control-plane database',
    'PostgreSQL named by `FIELDHOOK_DATABASE_URL` refused the connection, the login or a query while fieldhook started or applied its migrations, or while it served a request that reads or writes control-plane state (devices, subscriptions and deliveries, irrigation records, forecasts, chat users, field profiles): the database away or timing out, or a fault on the operator\'s side (a privilege revoked, a table dropped or renamed, a read-only standby); the cause is in the message, the server\'s SQLSTATE in `sqlState` when it answered. Retry the request (an irrigation report with its `Idempotency-Key`, so one whose write did commit is not recorded twice).',
  ),
  databaseValueRefused: defineError(
    'FH_ERR_DATABASE_VALUE_REFUSED',
    400,
    'The database refused a value of the request',
    'PostgreSQL refused to store a value the request carried (a NUL character, text that is not UTF-8, a number out of its column\'s range, a constraint): the request is at fault and fails the same way when retried unchanged; the cause is in the message.',
  ),
  databaseSchemaNewer: defineError(
    'FH_ERR_DATABASE_SCHEMA_NEWER',
    500,
    'The database was migrated by a newer fieldhook',
    'A store (in the control-plane database, or a SQLite file in the data folder) has migrations this version does not know: a newer fieldhook upgraded it; run that version (docs/operations.md, upgrades).',
  ),
  instanceLocked: defineError(
    'FH_ERR_INSTANCE_LOCKED',
    409,
    'Another fieldhook instance uses this data folder',
    'A running instance holds `DATA_DIR/instance.lock` (its pid, host and instance id are in the message): each instance needs a data folder of its own; a lock left by a process that died is taken over.',
  ),
  instanceLeaveIncomplete: defineError(
    'FH_ERR_INSTANCE_LEAVE_INCOMPLETE',
    503,
    'The instance did not hand everything on in time',
    '`fieldhook leave` stopped at its `--timeout-ms`: readings were still in the spool (InfluxDB or the broker unreachable or slow), or a broker session could not be emptied and ended. What is left is named in the message and kept (the spool in `DATA_DIR`, the session on the broker); run `fieldhook leave` again once the cause is fixed.',
  ),

  // The `fieldhook` command line.
  cli: defineError('FH_ERR_CLI', 500, 'The command failed', 'The command failed with an error that has no code of its own.'),
  cliInvalid: defineError('FH_ERR_CLI_INVALID', 400, 'Invalid command-line option', 'A command-line option or argument is invalid.'),
  cliUnreachable: defineError(
    'FH_ERR_CLI_UNREACHABLE',
    503,
    'Cannot reach the dispatcher',
    'The dispatcher API named by `--admin-url` cannot be reached, or what answers there is not fieldhook (no `x-correlation-id`, or not JSON).',
  ),
  cliRequest: defineError(
    'FH_ERR_CLI_REQUEST',
    502,
    'The dispatcher refused the request',
    'The dispatcher answered with an error but no code; the error keeps that HTTP status.',
  ),
} as const satisfies Record<string, ErrorFactory>;

export type ErrorName = keyof typeof Errors;

/** Every code of the catalog, in catalog order. */
export const ERROR_CODES: readonly string[] = Object.values(Errors).map((e) => e.code);

/** The sections of docs/errors.md, by the word after `FH_ERR_`, in the order they appear. */
const AREAS: readonly { prefix: string; title: string; note?: string }[] = [
  { prefix: 'AUTH', title: 'Authentication' },
  { prefix: 'DEVICE', title: 'Devices' },
  { prefix: 'HTTP', title: 'HTTP' },
  { prefix: 'INTERNAL', title: 'Unexpected failures' },
  { prefix: 'INGEST', title: 'Ingest' },
  {
    prefix: 'READING',
    title: 'Refused readings',
    note:
      'A refused reading does not fail its request: it is listed in `refused` of the 202 response ' +
      '(or of the 400 `FH_ERR_INGEST_ALL_REFUSED`) and, over MQTT, published to ' +
      `\`${deviceErrorsTopic('{device}')}\`. Their status, 400, is nominal: a refusal travels inside a ` +
      'response, not as its status. A gateway\'s reading may also be refused with `FH_ERR_AUTH_DEVICE_FORBIDDEN`, ' +
      '`FH_ERR_DEVICE_UNKNOWN` or `FH_ERR_DEVICE_DISABLED` for the device it names.',
  },
  { prefix: 'SUBSCRIPTION', title: 'Webhook subscriptions' },
  { prefix: 'WEBHOOK', title: 'Webhook deliveries' },
  { prefix: 'AGRONOMY', title: 'Agronomy' },
  { prefix: 'MODEL', title: 'Irrigation model' },
  { prefix: 'FIELD', title: 'Field profiles' },
  { prefix: 'PREDICT', title: 'Predictor' },
  {
    prefix: 'PROFILE',
    title: 'Device profiles',
    note:
      'A field refused by a profile (`FH_ERR_PROFILE_NO_VALUE`, `FH_ERR_PROFILE_UNMAPPED_FIELD`, or a `FH_ERR_READING_*` code) ' +
      'does not refuse the uplink while another field maps; when none does, the uplink is refused with `FH_ERR_INGEST_ALL_REFUSED` ' +
      'listing each field. See docs/devices.md.',
  },
  { prefix: 'FORECAST', title: 'Weather forecasts' },
  { prefix: 'IRRIGATION', title: 'Irrigation records' },
  { prefix: 'CHAT', title: 'Chat answers', note: 'A refusal of a verified chat user (`FH_ERR_CHAT_FARM_FORBIDDEN`) is answered in the chat, with HTTP 200, so the platform shows it to the person.' },
  { prefix: 'STATUS', title: 'Status page' },
  { prefix: 'CONFIG', title: 'Configuration' },
  { prefix: 'INFLUX', title: 'InfluxDB set-up', note: 'Checked when `fieldhook start` starts, before any other part: see docs/influxdb.md for the set-up of each InfluxDB version.' },
  { prefix: 'DATABASE', title: 'Control-plane database', note: 'Checked when `fieldhook start` starts, before any part opens its store: see docs/operations.md.' },
  { prefix: 'INSTANCE', title: 'Instances' },
  { prefix: 'CLI', title: 'Command line', note: 'The `fieldhook` command prints `{"error": {"code": …, "message": …}}` on stderr and exits with 1.' },
];

/** The area of a code: the word after `FH_ERR_` (`FH_ERR_READING_TS_MISSING` is `READING`). */
export function areaOf(code: string): string {
  return code.slice('FH_ERR_'.length).split('_')[0] ?? '';
}

/** A Markdown table cell: a pipe would end the cell. */
const cell = (text: string) => text.replaceAll('|', '\\|');

/**
 * docs/errors.md, rendered from the catalog (`npm run docs:errors` writes it). Throws when a code
 * has no section, so a new area cannot drop out of the document unnoticed.
 */
export function renderErrorDocs(): string {
  const entries: readonly ErrorFactory[] = Object.values(Errors);
  const orphan = entries.find((e) => !AREAS.some((a) => a.prefix === areaOf(e.code)));
  if (orphan) throw new Error(`${orphan.code} has no section in AREAS of error-catalog.ts`);
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from services/shared/error-catalog.ts by `npm run docs:errors`: edit the catalog, not this file. -->',
    '',
    'Every error fieldhook sends carries a stable `code` and an HTTP status. Over HTTP it is an',
    '`application/problem+json` body: `{type, title, status, code, …details}`, where `title` is a',
    'sentence for people and may change; branch on `code`. Codes are never renamed and keep their',
    'status; new ones may be added.',
  ];
  for (const area of AREAS) {
    const rows = entries.filter((e) => areaOf(e.code) === area.prefix);
    if (rows.length === 0) continue;
    lines.push('', `## ${area.title}`, '');
    if (area.note) lines.push(area.note, '');
    lines.push('| code | status | meaning |', '|---|---|---|');
    for (const e of rows) lines.push(`| \`${e.code}\` | ${e.statusCode} | ${cell(e.meaning)} |`);
  }
  return `${lines.join('\n')}\n`;
}
