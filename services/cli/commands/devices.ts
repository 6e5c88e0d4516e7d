import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { exportMosquitto } from '../../registry/mosquitto-export.js';
import type { NewDevice } from '../../registry/device.js';
import { Errors } from '../../shared/error-catalog.js';
import { optionalNumber, printJson, withDevices, withFields } from '../context.js';
import { DEVICE_ID_PATTERN } from '../../ingestor/reading.js';
import { loadProfiles } from '../../ingestor/profiles/load.js';
import { adoptWindHeight } from '../../predictor/field-defaults.js';
import type { PipelineConfig } from '../../host/fieldhook.js';

interface AddOptions {
  farm: string;
  field?: string;
  gateway?: string;
  kind: string;
  lat?: string;
  lon?: string;
  elevation?: string;
  crop?: string;
  soil?: string;
  windHeight?: string;
  probeDepth?: string;
  allowNetwork?: string[];
  secret?: string;
  profile?: string;
}

function toNewDevice(id: string, o: AddOptions): NewDevice {
  if (!DEVICE_ID_PATTERN.test(id)) throw Errors.cliInvalid('device id must match [A-Za-z0-9][A-Za-z0-9._:-]{0,63}');
  if (o.kind !== 'device' && o.kind !== 'gateway') throw Errors.cliInvalid('--kind is device or gateway');
  // A gateway carries a farm's devices and has no field of its own: its id stands in for one.
  if (o.field === undefined && o.kind !== 'gateway') throw Errors.cliInvalid("required option '--field <field>' not specified (a gateway needs none)");
  const lat = optionalNumber('lat', o.lat);
  const lon = optionalNumber('lon', o.lon);
  if ((lat === undefined) !== (lon === undefined)) throw Errors.cliInvalid('--lat and --lon go together');
  if (o.elevation !== undefined && lat === undefined) throw Errors.cliInvalid('--elevation goes with --lat and --lon');
  const profile = {
    ...(o.crop !== undefined ? { crop: o.crop } : {}),
    ...(o.soil !== undefined ? { soil: o.soil } : {}),
    ...(o.windHeight !== undefined ? { windHeightM: optionalNumber('wind-height', o.windHeight)! } : {}),
    ...(o.probeDepth !== undefined ? { soilProbeDepthM: optionalNumber('probe-depth', o.probeDepth)! } : {}),
  };
  return {
    id,
    farm: o.farm,
    field: o.field ?? id,
    kind: o.kind,
    ...(o.gateway ? { gateway: o.gateway } : {}),
    ...(lat !== undefined && lon !== undefined ? { location: { latitude: lat, longitude: lon, elevation: optionalNumber('elevation', o.elevation) ?? 0 } } : {}),
    ...(Object.keys(profile).length ? { profile } : {}),
    ...(o.allowNetwork ? { allowedNetworks: o.allowNetwork } : {}),
    ...(o.secret ? { secret: o.secret } : {}),
    ...(o.profile ? { deviceProfile: o.profile } : {}),
  };
}

/** A device profile named on the command line must be one `fieldhook start` would load. */
function checkDeviceProfile(name: string | undefined, config: PipelineConfig): void {
  if (name === undefined) return;
  const set = loadProfiles(config.PROFILES_DIR ? { extraDir: config.PROFILES_DIR } : {});
  if (!set.byName(name)) throw Errors.profileNotFound(`No device profile ${name}; fieldhook profiles list shows them`, { profile: name });
}

/** A LoRaWAN DevEUI: 64 bits in hex. */
const DEV_EUI = /^[0-9A-Fa-f]{16}$/;

export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').description('The device registry (sensor nodes and gateways)');

  devices
    .command('add <id>')
    .description('Register a device; prints it with its secret (shown once)')
    .requiredOption('--farm <farm>')
    .option('--field <field>', 'the field it measures (a gateway needs none)')
    .option('--kind <kind>', 'device or gateway', 'device')
    .option('--gateway <id>', 'gateway allowed to write for this device')
    .option('--lat <deg>', 'latitude, decimal degrees north')
    .option('--lon <deg>', 'longitude, decimal degrees east')
    .option('--elevation <m>', 'elevation above sea level, m')
    .option('--crop <crop>')
    .option('--soil <soil>')
    .option('--wind-height <m>', 'anemometer height above ground, m')
    .option('--probe-depth <m>', 'soil moisture probe depth, m')
    .option('--allow-network <cidr...>', 'source networks allowed for this device')
    .option('--secret <secret>', 'use this secret instead of a generated one')
    .option('--profile <name>', 'device profile its LoRaWAN uplinks are read with (docs/devices.md); wins over the uplink\'s')
    .action((id: string, options: AddOptions) =>
      withDevices(async (repo, config) => {
        checkDeviceProfile(options.profile, config);
        // A device carried by a gateway that is not one would be refused at every reading it sends.
        if (options.gateway !== undefined && (await repo.get(options.gateway))?.kind !== 'gateway') {
          throw Errors.deviceInvalid(`--gateway ${options.gateway} is not a registered gateway (devices add ${options.gateway} --kind gateway …)`, { field: 'gateway' });
        }
        // A node under a network server is named by its DevEUI, which uplinks carry in lower case
        // (The Things Stack shows and sends it in upper case): registered as typed, it would never match.
        const named = options.gateway !== undefined && DEV_EUI.test(id) ? id.toLowerCase() : id;
        const device = toNewDevice(named, options);
        printJson(await repo.add(device));
        // The device is registered (its secret shown once): a field that could not take its
        // anemometer height is a warning, not a failure a script would retry.
        await withFields((fields) => adoptWindHeight(fields, device)).then(
          (height) => height !== undefined && process.stderr.write(`field ${device.farm}/${device.field}: anemometer height ${height} m, from ${device.id}\n`),
          (err: Error) => process.stderr.write(`warning: field ${device.farm}/${device.field} did not take the anemometer height: ${err.message}\n`),
        );
      }),
    );

  devices
    .command('list')
    .option('--farm <farm>')
    .option('--field <field>')
    .action((o: { farm?: string; field?: string }) => withDevices(async (repo) => printJson(await repo.list(o))));

  devices.command('show <id>').action((id: string) =>
    withDevices(async (repo) => {
      const device = await repo.get(id);
      if (!device) throw Errors.deviceNotFound(`No device ${id}`);
      const { secret: _secret, ...shown } = device;
      printJson(shown);
    }),
  );

  devices
    .command('rotate-secret <id>')
    .description('Issue a new secret; the old one stops working at once')
    .action((id: string) => withDevices(async (repo) => printJson({ id, secret: await repo.rotateSecret(id) })));

  devices.command('disable <id>').action((id: string) => withDevices(async (repo) => printJson({ id, enabled: (await repo.setEnabled(id, false), false) })));
  devices.command('enable <id>').action((id: string) => withDevices(async (repo) => printJson({ id, enabled: (await repo.setEnabled(id, true), true) })));

  devices
    .command('export-mosquitto')
    .description('Write a Mosquitto password file and ACL that pin each device to its own topic')
    .requiredOption('--passwords <file>')
    .requiredOption('--acl <file>')
    .requiredOption('--ingestor-user <name>', 'login the ingestor uses (FIELDHOOK_MQTT_USERNAME)')
    .requiredOption('--ingestor-password <password>')
    .action((o: { passwords: string; acl: string; ingestorUser: string; ingestorPassword: string }) =>
      withDevices(async (repo) => {
        const all = await Promise.all((await repo.list()).map((d) => repo.get(d.id)));
        const out = exportMosquitto(all.filter((d) => d !== undefined), { username: o.ingestorUser, password: o.ingestorPassword });
        writeFileSync(o.passwords, out.passwordFile, { mode: 0o600 });
        writeFileSync(o.acl, out.aclFile);
        printJson({ devices: out.exported.length, passwords: o.passwords, acl: o.acl, ...(out.skipped.length > 0 ? { skipped: out.skipped } : {}) });
      }),
    );

  program
    .command('farms')
    .description('Farm-wide settings')
    .command('allow-networks <farm> [cidr...]')
    .description('Source networks allowed for every device of the farm (none = anywhere)')
    .action((farm: string, cidrs: string[]) =>
      withDevices(async (repo) => {
        await repo.setFarmNetworks(farm, cidrs);
        // How many devices the rule covers: a misspelt farm shows as 0, not as a quiet success.
        printJson({ farm, allowedNetworks: cidrs, devices: (await repo.list({ farm })).length });
      }),
    );
}
