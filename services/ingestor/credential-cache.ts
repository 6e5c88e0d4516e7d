import type { DeviceRepository, DeviceWithSecret } from '../registry/device.js';

/**
 * The device registry as the ingest path reads it: from memory. Every request and MQTT message
 * needs its credential (and perhaps its farm's networks); reading SQLite for each was a
 * synchronous query per message on the thread that answers devices.
 *
 * Kept current by the repository's change version ({@link DeviceRepository.changeVersion}),
 * which moves on every change, made by this process or another one (`fieldhook devices add`,
 * `rotate-secret`, `disable` run next to `fieldhook start`): it is looked at once per event-loop
 * turn, and when it moved everything cached is forgotten, so a rotated secret or a disabled device
 * stops working on the next turn after the change is committed. A repository without a change
 * version is not cached.
 *
 * While the registry cannot be read (PostgreSQL away: an error of status 500 or above), a device
 * it answered for before is answered from what it said last: ingest needs only the spool, and a
 * control-plane outage should not refuse the fleet. What changed meanwhile (a rotation, a
 * disable) takes effect once the registry answers again.
 */
export interface CredentialCache extends DeviceRepository {
  /** The device from memory without waiting: `null` when known not to exist, `undefined` when not loaded yet. */
  peek(id: string): DeviceWithSecret | null | undefined;
}

/** Most entries of each map; past it the map starts over (unknown secrets must not grow it without bound). */
export const CREDENTIAL_CACHE_MAX_ENTRIES = 100_000;

export function createCredentialCache(repository: DeviceRepository): CredentialCache {
  const version = repository.changeVersion?.bind(repository);
  const byId = new Map<string, DeviceWithSecret | null>();
  const bySecret = new Map<string, DeviceWithSecret | null>();
  const farmNetworks = new Map<string, string[]>();
  const loading = new Map<string, Promise<DeviceWithSecret | undefined>>();
  /** The registry's last answers, kept across changes: what an outage is answered from. */
  const lastById = new Map<string, DeviceWithSecret | null>();
  const lastBySecret = new Map<string, DeviceWithSecret | null>();
  const lastNetworks = new Map<string, string[]>();
  let seen = version?.();
  let checked = false;

  /** Forget everything when the registry changed since the last look (at most one look per turn). */
  function current(): boolean {
    if (version === undefined) return false;
    if (!checked) {
      checked = true;
      setImmediate(() => (checked = false));
      const now = version();
      if (now !== seen) {
        seen = now;
        byId.clear();
        bySecret.clear();
        farmNetworks.clear();
        loading.clear();
      }
    }
    return true;
  }

  function remember<V>(map: Map<string, V>, key: string, value: V): V {
    if (map.size >= CREDENTIAL_CACHE_MAX_ENTRIES) map.clear();
    map.set(key, value);
    return value;
  }

  /** The registry's answer, remembered for an outage; during one, the last answer it gave. */
  async function answered<V>(last: Map<string, V>, key: string, read: () => Promise<V>): Promise<V> {
    try {
      return remember(last, key, await read());
    } catch (err) {
      const unavailable = ((err as { statusCode?: number }).statusCode ?? 500) >= 500;
      if (unavailable && last.has(key)) return last.get(key)!;
      throw err;
    }
  }

  /** A change made through this cache is seen at once, not on the next turn. */
  const thenLook = async <T>(change: Promise<T>): Promise<T> => {
    const result = await change;
    checked = false;
    return result;
  };

  return {
    ...bindAll(repository),
    add: (device) => thenLook(repository.add(device)),
    rotateSecret: (id) => thenLook(repository.rotateSecret(id)),
    setEnabled: (id, enabled) => thenLook(repository.setEnabled(id, enabled)),
    setFarmNetworks: (farm, cidrs) => thenLook(repository.setFarmNetworks(farm, cidrs)),
    peek(id) {
      return current() ? byId.get(id) : undefined;
    },
    async get(id) {
      if (!current()) return repository.get(id);
      const hit = byId.get(id);
      if (hit !== undefined) return hit ?? undefined;
      // Many messages of a device arrive before its first read returns: they share that read.
      let pending = loading.get(id);
      if (!pending) {
        const version = seen;
        pending = answered(lastById, id, async () => (await repository.get(id)) ?? null).then((found) => {
          const device = found ?? undefined;
          loading.delete(id);
          // A change seen meanwhile may have made this read stale: it is not kept then.
          if (version === seen) remember(byId, id, device ?? null);
          return device;
        }, (err: unknown) => {
          loading.delete(id);
          throw err;
        });
        loading.set(id, pending);
      }
      return pending;
    },
    async findBySecret(secret) {
      if (!current()) return repository.findBySecret(secret);
      const hit = bySecret.get(secret);
      if (hit !== undefined) return hit ?? undefined;
      return remember(bySecret, secret, await answered(lastBySecret, secret, async () => (await repository.findBySecret(secret)) ?? null)) ?? undefined;
    },
    async getFarmNetworks(farm) {
      if (!current()) return repository.getFarmNetworks(farm);
      return farmNetworks.get(farm) ?? remember(farmNetworks, farm, await answered(lastNetworks, farm, () => repository.getFarmNetworks(farm)));
    },
  };
}

/** The repository's methods, bound, for those the cache passes through (writes, lists). */
function bindAll(repository: DeviceRepository): DeviceRepository {
  return {
    add: (d) => repository.add(d),
    get: (id) => repository.get(id),
    findBySecret: (s) => repository.findBySecret(s),
    list: (f) => repository.list(f),
    rotateSecret: (id) => repository.rotateSecret(id),
    setEnabled: (id, e) => repository.setEnabled(id, e),
    getFarmNetworks: (f) => repository.getFarmNetworks(f),
    setFarmNetworks: (f, c) => repository.setFarmNetworks(f, c),
    close: () => repository.close(),
    ...(repository.changeVersion ? { changeVersion: () => repository.changeVersion!() } : {}),
  };
}
