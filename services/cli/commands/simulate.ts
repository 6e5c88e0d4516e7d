import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createLogger } from '../../shared/logger.js';
// Types only: the simulator and the training code are loaded by the action (dynamic import), never by `fieldhook start`.
import type { FieldSpec } from '../../simulator/fields.js';
import { Errors } from '../../shared/error-catalog.js';
import { localPipeline, wholeNumber, withDevices, withFields } from '../context.js';

/** Farm of the devices and fields `--register` adds. */
const SIMULATED_FARM = 'sim';

/** Each simulated device's own secret from the registry, registering missing devices when asked. */
async function fleetSecrets(specs: readonly FieldSpec[], register: boolean): Promise<(device: string) => string> {
  const { profileFromSpec } = await import('../../training/dataset.js');
  const secrets = await withDevices(async (devices) => {
    const found = new Map<string, string>();
    for (const spec of specs) {
      let device = await devices.get(spec.deviceId);
      if (!device && register) {
        const p = profileFromSpec(spec);
        device = await devices.add({
          id: spec.deviceId,
          farm: SIMULATED_FARM,
          field: spec.id,
          kind: 'device',
          location: { latitude: p.latitudeDeg, longitude: p.longitudeDeg, elevation: p.elevationM },
          profile: { crop: spec.crop, soil: spec.soil, windHeightM: p.windHeightM },
        });
      }
      if (!device) {
        throw Errors.deviceNotFound(`Device ${spec.deviceId} is not registered: add --register or --secret`);
      }
      found.set(spec.deviceId, device.secret);
    }
    return found;
  });
  if (register) await registerFieldProfiles(specs);
  return (device) => secrets.get(device)!;
}

/** The simulated fields' profiles (crop, soil, site, sowing date), so the predictor advises on them. */
async function registerFieldProfiles(specs: readonly FieldSpec[]): Promise<void> {
  const { fieldSettingsOfSpec } = await import('../../demo/seed.js');
  await withFields(async (repo) => {
    for (const spec of specs) {
      if (!(await repo.get(SIMULATED_FARM, spec.id))) await repo.add(fieldSettingsOfSpec(SIMULATED_FARM, spec));
    }
  });
}

function positive(name: string) {
  return (value: string) => {
    const n = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(n) || n <= 0) throw Errors.cliInvalid(`--${name} must be a positive number (got ${value})`);
    return n;
  };
}

/** Each simulated device is a field simulated in this process: a bound keeps a typo from eating the memory. */
const MAX_DEVICES = 10_000;

/** `fieldhook simulate`: a live fleet of simulated fields pushing readings to the ingestor. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Push readings of simulated fields to the ingestor over HTTP or MQTT')
    .option('--devices <n>', `number of devices (one field each, at most ${MAX_DEVICES.toLocaleString('en-US')})`, (v: string) => wholeNumber('--devices', v, 1, MAX_DEVICES), 10)
    .option('--interval <seconds>', 'wall-clock seconds between pushes (default: 5)', positive('interval'))
    .option('--speedup <x>', 'with --start: simulated seconds per wall-clock second (the clock never passes the present)', positive('speedup'), 1)
    .option('--transport <kind>', 'http or mqtt', 'http')
    .option('--url <url>', 'ingestor base URL (http) or broker URL (mqtt) (default: those of the fieldhook running on this DATA_DIR)')
    .option('--secret <secret>', 'one secret for every device (default: each device’s own, from the registry)')
    .option('--register', 'add the simulated devices and their fields’ profiles to this DATA_DIR first (farm "sim", one field each), so advice comes')
    .option('--seed <seed>', 'seed of the simulated fleet', '42')
    .option('--start <iso>', 'simulated time at start, replayed at --speedup (default: the last 3 days sent at once as a backfill, then the present)')
    .option('--duration <seconds>', 'stop after this many wall-clock seconds (default: until interrupted)', positive('duration'))
    .option('--device-prefix <prefix>', 'device ids are <prefix>-0001, … (default: sim)')
    .option('--profiles <file>', 'write the fields (device, soil, crop, site, sowing date) as JSON')
    .action(async (opts: {
      devices: number; interval?: number; speedup: number; transport: string; url?: string; secret?: string;
      seed: string; start?: string; duration?: number; devicePrefix?: string; profiles?: string; register?: boolean;
    }) => {
      const [{ createFleet }, { createHttpTransport, createMqttTransport }] = await Promise.all([
        import('../../simulator/fleet.js'),
        import('../../simulator/transports.js'),
      ]);
      // Secrets are looked up when sending, so the fleet's own field specs can name the devices first.
      const shared = opts.secret ?? process.env.FIELDHOOK_DEVICE_SECRET;
      let own: (device: string) => string = () => '';
      const secret = shared ?? ((device: string) => own(device));
      const startMs = opts.start === undefined ? undefined : Date.parse(opts.start);
      if (startMs !== undefined && Number.isNaN(startMs)) throw Errors.cliInvalid(`--start is not a date: ${opts.start}`);
      let transport;
      // Without --url: the pipeline running on this data folder, else the default ports.
      const running = opts.url ? undefined : localPipeline();
      if (opts.transport === 'http') transport = createHttpTransport({ url: opts.url ?? running?.httpUrl ?? 'http://127.0.0.1:8080', secret });
      else if (opts.transport === 'mqtt') transport = createMqttTransport({ url: opts.url ?? running?.mqttUrl ?? 'mqtt://127.0.0.1:1883', secret });
      else throw Errors.cliInvalid(`--transport must be http or mqtt (got ${opts.transport})`);

      const logger = createLogger({ base: { service: 'simulator' } });
      const fleet = createFleet({
        devices: Math.round(opts.devices),
        seed: opts.seed,
        speedup: opts.speedup,
        // Unset options fall back to the fleet's defaults (DEFAULT_FLEET_OPTIONS).
        ...(opts.interval !== undefined ? { intervalMs: opts.interval * 1000 } : {}),
        ...(opts.devicePrefix !== undefined ? { devicePrefix: opts.devicePrefix } : {}),
        transport,
        logger,
        ...(startMs !== undefined ? { startMs } : {}),
      });
      if (!shared) own = await fleetSecrets(fleet.specs, opts.register === true);
      if (opts.profiles) {
        const { profileFromSpec } = await import('../../training/dataset.js');
        const fields = fleet.specs.map((s) => ({
          field: s.id, device: s.deviceId, climate: s.climate, soil: s.soil, crop: s.crop, profile: profileFromSpec(s),
        }));
        writeFileSync(opts.profiles, `${JSON.stringify(fields, null, 2)}\n`);
      }
      fleet.start();
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (opts.duration) setTimeout(stop, opts.duration * 1000).unref();
      });
      await fleet.stop();
    });
}
