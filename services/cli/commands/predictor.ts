import type { Command } from 'commander';
import { CROP_NAMES } from '../../agronomy/index.js';
import { Errors } from '../../shared/error-catalog.js';
import { parseIsoTimestamp } from '../../shared/timestamps.js';
import { createLogger } from '../../shared/logger.js';
import { buildPredictor, evaluatorOptionsOf } from '../../predictor/build-predictor.js';
import { fieldDefaultsFromDevices } from '../../predictor/field-defaults.js';
import { fieldKey, profileOf, type FieldSettings } from '../../predictor/field-profiles.js';
import { createHistoryLoader } from '../../predictor/history-loader.js';
import { createAppliedWaterLoader } from '../../predictor/applied-water-source.js';
import { createForecastRepository } from '../../forecasts/open-store.js';
import { createModelHolder, identityOf } from '../../predictor/model-holder.js';
import { resolveModelPath } from '../../predictor/model-path.js';
import { createRecommendationWriter, REPLAY_MEASUREMENT } from '../../predictor/outputs.js';
import { replay, type ReplaySummary } from '../../predictor/replay.js';
import type { PublishInput } from '../../shared/bus/payloads.js';
import { closeControlPlane, createControlPlane } from '../../shared/database/control-plane.js';
import { createInfluxClient, type InfluxTarget } from '../../shared/influx.js';
import { requireInfluxSetup } from '../../shared/influx-server.js';
import type { PipelineConfig } from '../../host/fieldhook.js';
import { cliConfig, influxTargetOf, optionalNumber, printJson, wholeNumber, withDevices, withFields } from '../context.js';
import { adminOptions, clientOf } from './subscriptions.js';

/** Fields replayed together between two progress lines. */
const REPLAY_FIELDS_PER_STEP = 4;

const invalid = (message: string) => Errors.cliInvalid(message);

function time(name: string, v: string): number {
  // As every API time: with its zone, so a replay's range does not shift with the machine's.
  const t = parseIsoTimestamp(v);
  if (t === undefined) throw invalid(`--${name} must be an ISO 8601 time with a zone (2026-06-01T00:00:00Z)`);
  return t;
}

/** `--field farm/field`, or `--field field` with `--farm`. */
function parseField(field: string, farm: string | undefined): { farm: string; field: string } {
  const slash = field.indexOf('/');
  if (slash > 0) return { farm: field.slice(0, slash), field: field.slice(slash + 1) };
  if (!farm) throw invalid('give --field farm/field, or --farm with --field');
  return { farm, field };
}

interface FieldOptions {
  crop?: string;
  sowingDate?: string;
  soil?: string;
  fc?: string;
  wp?: string;
  rootDepth?: string;
  rootMinDepth?: string;
  stageDays?: string;
  kc?: string;
  harvested?: string | true;
  p?: string;
  efficiency?: string;
  lat?: string;
  lon?: string;
  elevation?: string;
  tzLongitude?: string;
  windHeight?: string;
}

/** `a,b,c`: exactly `count` numbers. */
function numbers(name: string, v: string | undefined, count: number): number[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((x) => Number(x.trim()));
  if (list.length !== count || !list.every(Number.isFinite)) throw invalid(`--${name} takes ${count} comma-separated numbers`);
  return list;
}

/** `--kc ini,mid,end` and `--stage-days ini,dev,mid,late` onto the field's Kc curve override. */
function kcPatch(o: FieldOptions): FieldSettings['kc'] | undefined {
  const kc = numbers('kc', o.kc, 3);
  const days = numbers('stage-days', o.stageDays, 4);
  if (!kc && !days) return undefined;
  return {
    ...(kc ? { kcIni: kc[0]!, kcMid: kc[1]!, kcEnd: kc[2]! } : {}),
    ...(days ? { stageDays: days as [number, number, number, number] } : {}),
  };
}


/**
 * A sowing date more than a year ahead is a slip of the keyboard (2126 for 2026): the field would
 * wait a century for its season, quietly off season. Checked where it is typed, against today.
 */
function checkSowingAhead(sowingDate: string | undefined): void {
  if (sowingDate === undefined || !(Date.parse(sowingDate) > Date.now() + 366 * 86_400_000)) return;
  throw Errors.fieldInvalid(`sowingDate ${sowingDate} is more than a year ahead`, { field: 'sowingDate' });
}

function settingsPatch(o: FieldOptions): Partial<FieldSettings> {
  checkSowingAhead(o.sowingDate);
  const entries: [keyof FieldSettings, unknown][] = [
    ['crop', o.crop],
    ['sowingDate', o.sowingDate],
    ['soil', o.soil],
    ['thetaFc', optionalNumber('fc', o.fc)],
    ['thetaWp', optionalNumber('wp', o.wp)],
    ['rootDepthM', optionalNumber('root-depth', o.rootDepth)],
    ['rootDepthMinM', optionalNumber('root-min-depth', o.rootMinDepth)],
    ['kc', kcPatch(o)],
    ['harvestedOn', typeof o.harvested === 'string' ? o.harvested : undefined],
    ['p', optionalNumber('p', o.p)],
    ['efficiency', optionalNumber('efficiency', o.efficiency)],
    ['latitudeDeg', optionalNumber('lat', o.lat)],
    ['longitudeDeg', optionalNumber('lon', o.lon)],
    ['elevationM', optionalNumber('elevation', o.elevation)],
    ['tzLongitudeDeg', optionalNumber('tz-longitude', o.tzLongitude)],
    ['windHeightM', optionalNumber('wind-height', o.windHeight)],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as Partial<FieldSettings>;
}

function fieldOptions(cmd: Command): Command {
  return cmd
    .option('--crop <crop>', `crop preset: ${CROP_NAMES.join(', ')}`)
    .option('--sowing-date <date>', 'local sowing date, YYYY-MM-DD (required to add a field)')
    .option('--soil <soil>', 'soil preset')
    .option('--fc <m3/m3>', 'measured field capacity (overrides the soil preset)')
    .option('--wp <m3/m3>', 'measured wilting point (overrides the soil preset)')
    .option('--root-depth <m>', 'maximum root depth, reached at the end of the development stage (default: the crop preset)')
    .option('--root-min-depth <m>', 'root depth over the initial stage; equal to --root-depth for a fixed depth (default: the crop preset)')
    .option('--stage-days <ini,dev,mid,late>', 'lengths of the four crop stages in days: Kc curve, root growth and season length (default: the crop preset)')
    .option('--kc <ini,mid,end>', 'crop coefficients Kc ini, mid and end (default: the crop preset)')
    .option('--p <fraction>', 'depletion fraction p (default: the crop preset)')
    .option('--efficiency <fraction>', 'irrigation system application efficiency, 0–1')
    .option('--lat <deg>', 'latitude (default: from the field\'s devices)')
    .option('--lon <deg>', 'longitude (default: from the field\'s devices)')
    .option('--elevation <m>', 'elevation (default: from the field\'s devices)')
    .option('--tz-longitude <deg>', 'central meridian of local standard time (default: round(lon/15)·15)')
    .option('--wind-height <m>', 'anemometer height (default: from the devices, or 2)');
}

/**
 * FIELDHOOK_INFLUX_URL, or the InfluxDB of the pipeline running on this data folder, checked as
 * `fieldhook start` checks it: a token that may not read fails here (FH_ERR_INFLUX_SETUP) instead
 * of reading as a field without history.
 */
async function influxOf(config: PipelineConfig): Promise<InfluxTarget> {
  const influx = influxTargetOf(config);
  await requireInfluxSetup(influx, { timeoutMs: influx.timeoutMs });
  return influx;
}

export function registerPredictorCommands(program: Command): void {
  const fields = program.command('fields').description('Field profiles the predictor uses (crop, soil, site, irrigation system)');

  fieldOptions(fields.command('add <farm> <field>').description('Configure a field; site, crop and soil default to its devices\' registry entries'))
    .action((farm: string, field: string, o: FieldOptions) =>
      withFields(async (repo) => {
        // The registry `fieldhook start` uses: DATA_DIR's, or FIELDHOOK_DATABASE_URL's.
        const defaults: Partial<FieldSettings> = await withDevices((devices) => fieldDefaultsFromDevices(devices, farm, field));
        const settings = { efficiency: 0.85, elevationM: 0, ...defaults, ...settingsPatch(o), farm, field } as FieldSettings;
        printJson(await repo.add(settings));
      }),
    );

  fields
    .command('list')
    .option('--farm <farm>')
    .action((o: { farm?: string }) => withFields(async (repo) => printJson(await repo.list(o.farm))));

  fields
    .command('show <farm> <field>')
    .description('A field\'s settings and the profile the model sees')
    .action((farm: string, field: string) =>
      withFields(async (repo) => {
        const settings = await repo.get(farm, field);
        if (!settings) throw Errors.fieldNotFound(`No field ${farm}/${field}`);
        printJson({ settings, profile: profileOf(settings) });
      }),
    );

  fieldOptions(fields.command('update <farm> <field>').description('Change some settings of a field'))
    .option('--harvested [date]', 'the crop was harvested (local date YYYY-MM-DD, default today): its season ends, no advice follows')
    .action((farm: string, field: string, o: FieldOptions) =>
      withFields(async (repo) => {
        const current = await repo.get(farm, field);
        if (!current) throw Errors.fieldNotFound(`No field ${farm}/${field}`);
        const patch = settingsPatch(o);
        // --kc and --stage-days each change their part of the curve, not the other's.
        if (patch.kc) patch.kc = { ...current.kc, ...patch.kc };
        // `--harvested` alone: today at the field's local standard time.
        if (o.harvested === true) patch.harvestedOn = new Date(Date.now() + (profileOf(current).tzLongitudeDeg / 15) * 3_600_000).toISOString().slice(0, 10);
        // A new sowing date starts a new season: the last one's harvest no longer applies.
        if (o.sowingDate !== undefined && o.harvested === undefined) patch.harvestedOn = undefined;
        printJson(await repo.update(farm, field, patch));
      }),
    );

  fields
    .command('remove <farm> <field>')
    .action((farm: string, field: string) =>
      withFields(async (repo) => {
        // As `subscriptions remove` and `devices show` do: a name that matches nothing is an error, not a quiet no-op.
        if (!(await repo.remove(farm, field))) throw Errors.fieldNotFound(`No field ${farm}/${field}`);
        printJson({ removed: true });
      }),
    );

  const predict = program
    .command('predict')
    .description('The current irrigation assessment of a field (reads InfluxDB; publishes nothing)')
    .option('--field <farm/field>', 'the field')
    .option('--farm <farm>')
    .action(async (o: { field?: string; farm?: string }) => {
      if (!o.field) throw invalid('--field is required');
      const { farm, field } = parseField(o.field, o.farm);
      const config = cliConfig();
      const logger = createLogger({ level: 'warn' });
      const influx = await influxOf(config);
      const loader = createHistoryLoader(influx);
      const water = createAppliedWaterLoader(influx);
      // The fields and their advice in force where `fieldhook start` keeps them (FIELDHOOK_DATABASE_URL or DATA_DIR),
      // and the weather ahead the running pipeline reads, so the assessment is the pipeline's.
      const plane = createControlPlane(config, logger);
      const forecasts = createForecastRepository(plane, logger, { following: 'declared' });
      await forecasts.open();
      const predictor = buildPredictor({
        config,
        logger,
        influx,
        plane,
        // Only this field's history: the command must stay quick on a farm of thousands.
        history: { load: (fromTs, toTs) => loader.load(fromTs, toTs, [{ farm, field }]) },
        appliedHistory: { load: (fromTs, toTs) => water.load(fromTs, toTs, [{ farm, field }]) },
        forecasts,
        mode: 'passive',
        publish: () => Promise.reject(new Error('predict publishes nothing')),
      });
      await predictor.start();
      try {
        const e = await predictor.assess(farm, field);
        if (!e) throw Errors.fieldNotFound(`No field ${farm}/${field}; add it with fieldhook fields add`);
        printJson({
          field: fieldKey(farm, field),
          evaluated_at: new Date(e.at).toISOString(),
          assessment: e.assessment,
          prediction: e.prediction,
          net_depth_mm: e.netDepthMm,
          gross_depth_mm: e.grossDepthMm,
          would_emit: e.decision.event,
          reason: e.decision.reason,
          advice_in_force: e.decision.state.advice,
          provenance: e.provenance,
        });
      } finally {
        await predictor.stop();
        await forecasts.close();
        await closeControlPlane(plane);
      }
    });

  predict
    .command('quality')
    .description('Decision quality over simulated seasons (held-out climates, soils and crops)')
    .option('--fields <n>', 'simulated fields (default: 24)')
    .option('--seed <seed>', 'simulation seed (default: quality)')
    .option('--json', 'the report as JSON instead of a table')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ fields?: string; seed?: string; json?: boolean }>();
      // Training code (and the simulator behind it) is loaded only by this command, never by `fieldhook start`.
      const { formatQualityReport, runQualityReport } = await import('../../training/quality-report.js');
      const config = cliConfig();
      const holder = createModelHolder(
        { modelPath: resolveModelPath(config.PREDICT_MODEL_PATH), cardPath: resolveModelPath(config.PREDICT_MODEL_CARD_PATH), pollMs: config.PREDICT_MODEL_POLL_MS },
        createLogger({ level: 'warn' }),
      );
      await holder.start();
      try {
        const { model, identity } = holder.current();
        const report = await runQualityReport(model, identity, evaluatorOptionsOf(config), {
          ...(o.fields !== undefined ? { fields: wholeNumber('--fields', o.fields, 1, 1_000) } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
        });
        if (o.json) printJson(report);
        else process.stdout.write(`${formatQualityReport(report, identityOf(model))}\n`);
      } finally {
        await holder.stop();
      }
    });

  adminOptions(
    program
      .command('replay')
      .description('Re-run predictions over history in InfluxDB and write them; webhooks only with --send')
      .requiredOption('--from <time>', 'start, ISO 8601')
      .requiredOption('--to <time>', 'end, ISO 8601')
      .option('--field <farm/field>', 'one field (default: all configured)')
      .option('--farm <farm>')
      .option('--step-minutes <n>', 'minutes between evaluations', '60')
      .option('--send', 'also publish the events through the dispatcher API (re-sends webhooks)'),
  ).action(async (o: { from: string; to: string; field?: string; farm?: string; stepMinutes: string; send?: boolean }, cmd: Command) => {
    const config = cliConfig();
    const influx = await influxOf(config);
    const admin = o.send ? clientOf(cmd) : undefined;
    const holder = createModelHolder(
      { modelPath: resolveModelPath(config.PREDICT_MODEL_PATH), cardPath: resolveModelPath(config.PREDICT_MODEL_CARD_PATH), pollMs: config.PREDICT_MODEL_POLL_MS },
      createLogger({ level: 'warn' }),
    );
    // Apart from the live points: a replay over a period the pipeline ran must not interleave with them.
    const writer = createRecommendationWriter(createInfluxClient(influx), influx.org, influx.bucket, REPLAY_MEASUREMENT);
    try {
      let list = await withFields((repo) => repo.list(o.farm), config);
      if (o.field) {
        const { farm, field } = parseField(o.field, o.farm);
        list = list.filter((f) => f.farm === farm && f.field === field);
        if (list.length === 0) throw Errors.fieldNotFound(`No field ${farm}/${field}`);
      }
      await holder.start();
      const options = { fromTs: time('from', o.from), toTs: time('to', o.to), stepMs: optionalNumber('step-minutes', o.stepMinutes)! * 60_000, send: o.send === true };
      // History only: after now there are no readings, and what it wrote (or sent) would be stamped ahead.
      if (options.toTs > Date.now()) throw Errors.predictInvalidRange(`--to ${o.to} lies ahead of now: a replay re-runs history`);
      const deps = {
        history: createHistoryLoader(influx),
        appliedHistory: createAppliedWaterLoader(influx),
        model: holder,
        writer,
        evaluator: evaluatorOptionsOf(config),
        ...(admin ? { publish: (event: PublishInput) => admin.call('POST', '/v1/events', event) } : {}),
      };
      // A season of a whole farm takes a while: a few fields at a time, with a progress line on stderr after each.
      const summary: ReplaySummary = { fields: 0, evaluations: 0, events: {}, published: 0 };
      const started = Date.now();
      for (let i = 0; i < list.length; i += REPLAY_FIELDS_PER_STEP) {
        const part = list.slice(i, i + REPLAY_FIELDS_PER_STEP);
        const done = await replay(part.map((s) => ({ key: fieldKey(s.farm, s.field), settings: s, profile: profileOf(s) })), options, deps);
        summary.fields += done.fields;
        summary.evaluations += done.evaluations;
        summary.published += done.published;
        for (const [type, n] of Object.entries(done.events)) summary.events[type] = (summary.events[type] ?? 0) + n;
        process.stderr.write(`replay: ${Math.min(list.length, i + part.length)}/${list.length} fields, ${summary.evaluations} evaluations (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      }
      printJson(summary);
    } finally {
      await writer.close();
      await holder.stop();
    }
  });
}
