/**
 * Defaults for a new field from the device registry: a field's sensor nodes already know where
 * they are, the crop and soil they sit in and the anemometer height. Explicit settings win.
 */
import type { DeviceRepository } from '../registry/device.js';
import type { FieldSettings } from './field-profiles.js';

export async function fieldDefaultsFromDevices(devices: DeviceRepository, farm: string, field: string): Promise<Partial<FieldSettings>> {
  const list = await devices.list({ farm, field });
  const located = list.find((d) => d.location);
  const profiled = list.find((d) => d.profile?.crop || d.profile?.soil || d.profile?.windHeightM);
  return {
    ...(located?.location
      ? { latitudeDeg: located.location.latitude, longitudeDeg: located.location.longitude, elevationM: located.location.elevation }
      : {}),
    ...(profiled?.profile?.crop ? { crop: profiled.profile.crop } : {}),
    ...(profiled?.profile?.soil ? { soil: profiled.profile.soil } : {}),
    ...(profiled?.profile?.windHeightM ? { windHeightM: profiled.profile.windHeightM } : {}),
  };
}
