/** JSON schema of `GET /ui/api/status` (the snapshot of snapshot.ts), for the OpenAPI document and the serializer. */

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const obj = (properties: Record<string, unknown>, description?: string) => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
  ...(description ? { description } : {}),
});
const nullableObj = (properties: Record<string, unknown>, description?: string) => ({ ...obj(properties, description), type: ['object', 'null'] });

const device = obj({
  id: { type: 'string' },
  farm: { type: 'string' },
  field: { type: 'string' },
  kind: { type: 'string', enum: ['device', 'gateway'] },
  enabled: { type: 'boolean' },
  last_seen: { ...nullableTime, description: 'Time of its newest reading within the last 7 days; null when none.' },
  battery_v: { ...nullableNumber, description: 'Newest `battery_voltage`, V.' },
  rssi_dbm: { ...nullableNumber, description: 'Newest `rssi`, dBm.' },
  silent: { type: 'boolean', description: 'Enabled, and no reading for longer than `fleet.silent_after_ms`.' },
});

const field = obj({
  farm: { type: 'string' },
  field: { type: 'string' },
  configured: { type: 'boolean', description: 'False for a field devices report for that has no field profile: the predictor gives it no advice.' },
  crop: { type: ['string', 'null'] },
  soil: nullableObj(
    { theta_fc: { type: 'number' }, theta_wp: { type: 'number' }, theta_raw: nullableNumber },
    'Field capacity, wilting point and the RAW threshold as volumetric water content, m3/m3.',
  ),
  stale: { type: 'boolean', description: 'The predictor finds its readings too old to advise on.' },
  season: nullableObj(
    {
      in_season: { type: 'boolean', description: 'Sown, and neither harvested nor past its crop stages: off season no advice is given.' },
      reason: { type: ['string', 'null'], description: 'Why it is off season (`not sown yet (sowing …)`, `harvested …`, `season over (…)`); null in season.' },
      sowing_date: { type: 'string', format: 'date' },
      harvested_on: { type: ['string', 'null'], format: 'date' },
    },
    'The crop\'s season; null for a field without a profile.',
  ),
  devices: { type: 'array', items: { type: 'string' } },
  water: nullableObj(
    {
      at: time,
      depletion_mm: { type: 'number' },
      raw_mm: { type: 'number' },
      taw_mm: { type: 'number' },
      hours_to_raw: nullableNumber,
    },
    'Root-zone depletion of the newest evaluation against readily (RAW) and totally (TAW) available water, mm.',
  ),
  advice: nullableObj(
    { event_id: { type: 'string' }, issued_at: time, start_by: time, valid_until: time, expired: { type: 'boolean' } },
    'The `irrigation.recommended` advice subscribers currently hold.',
  ),
  learning: nullableObj(
    {
      dry_days: { type: 'integer' },
      ratio: { type: 'number', description: 'Soil moisture drawdown on dry days / computed ETc.' },
      spread: { type: 'number', description: 'Standard deviation of the dry days\' own ratios.' },
      applied: { type: 'boolean', description: 'False while the ratio is within 10 % of 1 and RAW has not moved (the factors are then 1).' },
      taw_factor: { type: 'number' },
      kc_factor: { type: 'number' },
      raw_factor: { type: 'number', description: 'RAW (and TAW) moved by this factor: dry days beyond RAW showed no stress.' },
      last_day: { type: ['string', 'null'] },
      last_outcome: { type: 'string' },
    },
    'What the field learnt from its dry days (docs/predictor.md); null before its first day or with PREDICT_LEARN_FIELD=false.',
  ),
  evaluation: nullableObj(
    {
      here: { type: 'boolean', description: 'This instance\'s predictor evaluates the field: its state is as of its last round. False: as the evaluating predictor saved it last.' },
      instance: { type: ['string', 'null'], description: 'The instance that evaluates it (FIELDHOOK_INSTANCE_ID); the live holder of its partition\'s lease, or the instance claiming it with partitions set by hand; null while nobody holds the partition (changing hands, its instance down).' },
      partition: { type: ['integer', 'null'], description: 'Its partition (of `pipeline.predictor.partitions.count`); null while one predictor evaluates every field.' },
      state_saved_at: { ...nullableTime, description: 'When its decision state was saved last; null when never, or with one predictor (not read).' },
      state_saved_by: { type: ['string', 'null'], description: 'The instance that saved it.' },
    },
    'Which predictor evaluates the field: where predictors share the fields (PostgreSQL), every instance lists every field; null for a field without a profile.',
  ),
  history: obj(
    {
      start: { ...time, description: 'Start of the first hour.' },
      step_ms: { type: 'integer', description: 'One hour: the i-th value is the hour `start + i·step_ms`.' },
      soil_moisture: { type: 'array', items: nullableNumber, description: 'Hourly mean, m3/m3; null for an hour without one.' },
      rainfall_mm: { type: 'array', items: nullableNumber, description: 'Hourly sum, mm; null for an hour without one.' },
    },
    'Hourly soil moisture and rain of the last 72 hours, oldest first.',
  ),
});

const subscription = obj({
  id: { type: 'string' },
  host: { type: 'string', description: "Host of the URL only (chat platforms carry tokens in the path); for e-mail, the recipients' mail domains." },
  format: { type: 'string', description: 'How events are delivered: `standard-webhooks` or a chat platform (`slack`, `telegram`, …).' },
  description: { type: 'string' },
  events: { type: 'array', items: { type: 'string' } },
  health: { type: 'string', enum: ['healthy', 'failing', 'disabled'] },
  disabled_reason: { type: ['string', 'null'] },
  disabled_at: nullableTime,
  failing_since: nullableTime,
  backlog: obj({ pending: { type: 'integer' }, oldest_created_at: nullableTime }),
  last_delivery: nullableObj({
    at: time,
    event_type: { type: 'string' },
    status: { type: 'string' },
    status_code: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
  }),
});

export const STATUS_SCHEMA = {
  $id: 'StatusSnapshot',
  ...obj({
    generated_at: time,
    fleet: obj({ silent_after_ms: { type: 'integer' }, devices: { type: 'array', items: device } }),
    fields: { type: 'array', items: field },
    subscriptions: { type: 'array', items: subscription },
    pipeline: obj({
      spool: nullableObj({
        pending_bytes: { type: 'integer' },
        dead_letters: { type: 'integer' },
        consumers: {
          type: 'array',
          items: obj({ name: { type: 'string' }, pending_readings: { type: 'integer' }, oldest_age_ms: { type: 'number' } }),
        },
      }),
      influxdb_writer: nullableObj({ healthy: { type: 'boolean' }, last_write_at: nullableTime }),
      predictor: obj({
        enabled: { type: 'boolean' },
        model: nullableObj({ name: { type: 'string' }, version: { type: 'string' }, sha256: { type: 'string' } }),
        partitions: nullableObj(
          { mode: { type: 'string', enum: ['single', 'manual', 'auto'] }, count: { type: 'integer' }, held: { type: 'array', items: { type: 'integer' } } },
          'How the fields are shared among predictors and the partitions this instance holds (`auto`: leased among the live predictors, docs/operations.md).',
        ),
      }),
    }),
    problems: {
      type: 'array',
      description: 'Sections that could not be read this time (e.g. InfluxDB unreachable), with the reason.',
      items: obj({ section: { type: 'string' }, message: { type: 'string' } }),
    },
  }, 'Everything the status page shows, as one snapshot.'),
};
