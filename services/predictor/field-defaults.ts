/**
 * Defaults for a new field from the device registry: a field's sensor nodes already know where
 * they are, the crop and soil they sit in and the anemometer height. Explicit settings win.
 */
import type { DeviceRepository } from '../registry/device.js';
import type { FieldSettings } from './field-profiles.js';

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
