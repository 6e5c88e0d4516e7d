import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Errors } from '../../shared/error-catalog.js';
import { packageRoot } from '../../shared/package-root.js';
import { FieldhookError } from '../../shared/errors.js';
import { compileProfile, type Profile } from './profile.js';

/**
 * Device profiles read from folders at start: the shipped ones (`profiles/` of the package) and a
 * farm's own (`PROFILES_DIR`), one `<name>.json` per profile. Every problem of every file is
 * collected and thrown once (`FH_ERR_PROFILE_INVALID`, each line `file: path: what`), so a bad
 * file stops `fieldhook start` instead of refusing uplinks later.
 */

/** Largest profile file read. */
const MAX_FILE_BYTES = 256 * 1024;

/** The shipped profiles' folder: `profiles/` next to package.json (the repository, the container's /app, an installed package). */
export function shippedProfilesDir(): string {
  const root = packageRoot();
  return root ? join(root, 'profiles') : 'profiles';
}

/** The profiles loaded, found by name and by what an uplink names. Lookups go through Maps. */
export class ProfileSet {
  readonly #byName = new Map<string, Profile>();
  readonly #byChirpstack = new Map<string, Profile>();
  readonly #byTtn = new Map<string, Profile>();

  constructor(profiles: readonly Profile[]) {
    const problems: string[] = [];
    for (const p of profiles) {
      if (this.#byName.has(p.name)) problems.push(`profile ${p.name} is defined twice`);
      this.#byName.set(p.name, p);
      for (const name of p.chirpstack) {
        const other = this.#byChirpstack.get(name);
        if (other && other !== p) problems.push(`${p.name}: match.chirpstack: ${JSON.stringify(name)} is also matched by ${other.name}`);
        this.#byChirpstack.set(name, p);
      }
      for (const { brand, model } of p.ttn) {
        const key = `${brand}/${model}`;
        const other = this.#byTtn.get(key);
        if (other && other !== p) problems.push(`${p.name}: match.ttn: ${key} is also matched by ${other.name}`);
        this.#byTtn.set(key, p);
      }
    }
    if (problems.length > 0) throw Errors.profileInvalid(problems.join('\n'), { problems });
  }

  get size(): number {
    return this.#byName.size;
  }

  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  byName(name: string): Profile | undefined {
    return this.#byName.get(name);
  }

  /** The profile of a ChirpStack device-profile name. */
  forChirpStack(deviceProfileName: string): Profile | undefined {
    return this.#byChirpstack.get(deviceProfileName);
  }

  /** The profile of The Things Stack's `version_ids` brand and model. */
  forTheThingsStack(brand: string, model: string): Profile | undefined {
    return this.#byTtn.get(`${brand}/${model}`);
  }
}

/** An empty set: uplinks are read as canonical names. */
export const NO_PROFILES = new ProfileSet([]);

/** Every `*.json` of a folder, compiled; problems are appended, named by the file's path as given. */
function loadFolder(dir: string, shownDir: string, problems: string[]): Profile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    problems.push(`${shownDir}: cannot read the folder (${(err as Error).message})`);
    return [];
  }
  const out: Profile[] = [];
  for (const n of names) {
    const path = join(dir, n);
    const shown = `${shownDir}/${n}`;
    try {
      if (statSync(path).size > MAX_FILE_BYTES) {
        problems.push(`${shown}: larger than ${MAX_FILE_BYTES} bytes`);
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        problems.push(`${shown}: not JSON (${(err as Error).message})`);
        continue;
      }
      const profile = compileProfile(json, shown);
      if (profile.name !== basename(n, '.json')) {
        problems.push(`${shown}: name: ${JSON.stringify(profile.name)} differs from the file name`);
        continue;
      }
      out.push(profile);
    } catch (err) {
      if (err instanceof FieldhookError && Array.isArray(err.details?.problems)) problems.push(...(err.details.problems as string[]));
      else problems.push(`${shown}: ${(err as Error).message}`);
    }
  }
  return out;
}

/**
 * The shipped profiles and those of `extraDir` (a farm's own, `PROFILES_DIR`). A farm's profile
 * may not reuse a shipped name: it would silently change how a shipped node is read.
 */
export function loadProfiles(options: { shippedDir?: string; extraDir?: string } = {}): ProfileSet {
  const problems: string[] = [];
  const shippedDir = options.shippedDir ?? shippedProfilesDir();
  const profiles = loadFolder(shippedDir, 'profiles', problems);
  if (options.extraDir) profiles.push(...loadFolder(options.extraDir, options.extraDir, problems));
  if (problems.length > 0) throw Errors.profileInvalid(`Invalid device profiles:\n  ${problems.join('\n  ')}`, { problems });
  return new ProfileSet(profiles);
}
