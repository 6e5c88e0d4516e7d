import { z } from 'zod';
import { envBoolean, mqttName } from '../shared/config.js';
import { DEFAULT_PREDICTOR_BUS_OPTIONS } from './bus-consumer.js';
import { DEFAULT_DECISION_OPTIONS } from './decision.js';
import { DEFAULT_EVALUATOR_OPTIONS } from './evaluator.js';
import { DEFAULT_MODEL_POLL_MS } from './model-holder.js';
import { DEFAULT_PARTITIONING } from './partition.js';
import { DEFAULT_MEMBERSHIP_OPTIONS } from './partition-membership.js';
import { DEFAULT_SCHEDULER_OPTIONS } from './scheduler.js';

const MINUTE_MS = 60_000;
const int = (min = 0) => z.coerce.number().int().min(min);
const decision = DEFAULT_DECISION_OPTIONS;

/**
 * Settings of the predictor: env `FIELDHOOK_<KEY>` or `<KEY>` in the config file. Units are in
 * the names. A default that is a module's option comes from that module's `DEFAULT_*` object; the
 * README's configuration table renders every default, so descriptions do not repeat them.
 */
export const PREDICT_CONFIG = {
  PREDICT_ENABLED: envBoolean().default(true).describe('Run the predictor in `fieldhook start`'),
  PREDICT_MODEL_PATH: z.string().default('models/irrigation/model.onnx').describe('ONNX irrigation model; reloaded when the file changes'),
  PREDICT_MODEL_CARD_PATH: z.string().default('models/irrigation/model.json').describe('Model card checked against the model and the feature code'),
  PREDICT_MODEL_POLL_MS: int(100).default(DEFAULT_MODEL_POLL_MS).describe('How often the model file is checked for changes'),
  PREDICT_HORIZON_H: z.coerce.number().positive().max(48).default(decision.horizonH).describe('Advise irrigation when depletion is predicted to reach RAW within this many hours'),
  PREDICT_CLEAR_FRACTION: z.coerce.number().min(0).max(1).default(decision.clearFraction).describe('Advice is cleared when depletion falls below this fraction of RAW (refilled)'),
  PREDICT_COOLDOWN_MS: int().default(decision.cooldownMs).describe('No new advice for a field this soon after its last advice or clearance'),
  PREDICT_ADVICE_VALIDITY_MS: int(MINUTE_MS).default(decision.validityMs).describe('`valid_until` of an advice, from its issue time'),
  PREDICT_RENEW_DEPTH_MM: z.coerce.number().min(0).default(decision.renewDepthMm).describe('An advice in force is sent again only if its net depth moved by more than this (and by more than PREDICT_RENEW_DEPTH_FRACTION); otherwise its validity is extended silently'),
  PREDICT_RENEW_DEPTH_FRACTION: z.coerce.number().min(0).max(1).default(decision.renewDepthFraction).describe('Fraction of the advised depth its change must also exceed to send the advice again'),
  PREDICT_RENEW_DEADLINE_MS: int().default(decision.renewDeadlineMs).describe('An advice in force is sent again if its start-by time moves earlier by more than this'),
  PREDICT_HOLD_RAIN_FRACTION: z.coerce.number().min(0).default(decision.holdRainFraction).describe('Advice is held (and one in force withdrawn) while the forecast expects at least this fraction of the advised depth as rain (amount × probability) before RAW + PREDICT_HOLD_GRACE_H'),
  PREDICT_HOLD_GRACE_H: z.coerce.number().min(0).max(48).default(decision.holdGraceH).describe('Rain expected this long after the field reaches RAW still holds its advice'),
  PREDICT_LEARN_FIELD: envBoolean().default(DEFAULT_EVALUATOR_OPTIONS.learnField ?? true).describe('Learn each field\'s root-zone capacity and crop factor from its soil moisture drawdown on dry days and use them in the thresholds and the 24 h forecast (docs/predictor.md)'),
  PREDICT_STALE_AFTER_MS: int(MINUTE_MS).default(DEFAULT_EVALUATOR_OPTIONS.staleAfterMs).describe('Soil moisture or weather older than this makes a field stale (no advice)'),
  PREDICT_INTERVAL_MS: int(1_000).default(DEFAULT_SCHEDULER_OPTIONS.intervalMs).describe('Every field is re-evaluated this often, even without new readings'),
  PREDICT_DEBOUNCE_MS: int().default(DEFAULT_SCHEDULER_OPTIONS.debounceMs).describe('Readings arriving within this delay are evaluated in one batch'),
  PREDICT_MQTT_GROUP: mqttName().default(DEFAULT_PREDICTOR_BUS_OPTIONS.group).describe('Shared-subscription group prefix of the predictor instances (one group per partition set by hand; with automatic partitions each instance takes every reading under its client id)'),
  PREDICT_PARTITIONS: z
    .union([z.literal('auto'), int(1).max(1024)])
    .default('auto')
    .describe('`auto`: with FIELDHOOK_DATABASE_URL, the live predictors share the fields among themselves (64 partitions by a hash of farm/field, leases in PostgreSQL; docs/operations.md), one instance evaluates all on SQLite; a number: partitions assigned by hand, each instance running PREDICT_PARTITION'),
  PREDICT_PARTITION: int(0).default(DEFAULT_PARTITIONING.partition).describe('This instance\'s partition, 0 … PREDICT_PARTITIONS − 1, when PREDICT_PARTITIONS is a number'),
  PREDICT_LEASE_MS: int(1_000).default(DEFAULT_MEMBERSHIP_OPTIONS.leaseMs).describe('With automatic partitions: a predictor\'s membership and partition leases last this long after its last heartbeat; a crashed predictor\'s fields move after at most this plus PREDICT_HEARTBEAT_MS'),
  PREDICT_HEARTBEAT_MS: int(100).default(DEFAULT_MEMBERSHIP_OPTIONS.heartbeatMs).describe('With automatic partitions: how often a predictor renews its leases and rebalances (a stopped one\'s fields move at the others\' next heartbeat); at most a third of PREDICT_LEASE_MS'),
  PREDICT_MQTT_CLIENT_ID: mqttName().default(DEFAULT_PREDICTOR_BUS_OPTIONS.clientId).describe('Stable client id of this predictor (persistent session); unique per instance'),
};

export type PredictConfig = z.infer<z.ZodObject<typeof PREDICT_CONFIG>>;
