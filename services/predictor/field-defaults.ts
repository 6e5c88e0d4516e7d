/**
 * Defaults for a new field from the device registry: a field's sensor nodes already know where
 * they are, the crop and soil they sit in and the anemometer height. Explicit settings win.
 */
import type { DeviceRepository, NewDevice } from '../registry/device.js';
import type { FieldProfileRepository, FieldSettings } from './field-profiles.js';

export async function fieldDefaultsFromDevices(devices: DeviceRepository, farm: string, field: string): Promise<Partial<FieldSettings>> {
  const list = await devices.list({ farm, field });
  const located = list.find((d) => d.location);
  // Each setting from the first device that gives it: one node may know the crop, another the
  // anemometer's height.
  const crop = list.find((d) => d.profile?.crop)?.profile?.crop;
  const soil = list.find((d) => d.profile?.soil)?.profile?.soil;
  const windHeightM = list.find((d) => d.profile?.windHeightM)?.profile?.windHeightM;
  return {
    ...(located?.location
      ? { latitudeDeg: located.location.latitude, longitudeDeg: located.location.longitude, elevationM: located.location.elevation }
      : {}),
    ...(crop ? { crop } : {}),
    ...(soil ? { soil } : {}),
    ...(windHeightM ? { windHeightM } : {}),
  };
}

/**
 * The defaults above are read when a field is added. A weather station registered later (the
 * probe first, the station next season) gives its anemometer height to its field when the field
 * has none of its own, instead of leaving its wind read as 2 m wind; a height the field was given
 * stays. Returns the height the field took, if it took one.
 */
export async function adoptWindHeight(fields: FieldProfileRepository, device: Pick<NewDevice, 'farm' | 'field' | 'profile'>): Promise<number | undefined> {
  const windHeightM = device.profile?.windHeightM;
  if (windHeightM === undefined) return undefined;
  const current = await fields.get(device.farm, device.field);
  if (!current || current.windHeightM !== undefined) return undefined;
  await fields.update(device.farm, device.field, { windHeightM });
  return windHeightM;
}
