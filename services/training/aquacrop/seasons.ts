/**
 * AquaCrop-OS seasons as recorded by models/aquacrop/generate.py: a manifest (sites, soils,
 * seasons) and one CSV of daily states per site. Read-only; no Python needed here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_AQUACROP_DATA_DIR = 'models/aquacrop/data';

export interface AquaSite {
  name: string;
  /** The climate file aquacrop ships for the site. */
  file: string;
  lat: number;
  lon: number;
  elevation: number;
  /** Central meridian of the local standard time, degrees east. */
  tz_lon: number;
  years: number[];
}

/** Compartments of a soil profile: thickness (m) and water retention (m3/m3), top down. */
export interface AquaSoilProfile {
  dz: number[];
  th_fc: number[];
  th_wp: number[];
}

export interface AquaSeasonMeta {
  id: string;
  site: string;
  year: number;
  crop: string;
  /** The fieldhook crop preset of the same crop. */
  fieldhook_crop: string;
  soil: string;
  /** FAO-56 depletion fraction p of the crop: RAW = p · TAW of AquaCrop's root zone. */
  p: number;
  /** AquaCrop's irrigation trigger: root-zone water below this % of TAW. */
  smt_pct_taw: number;
  /** Local date of sowing (day 0 of the season) and of the last day of the crop's season. */
  sowing: string;
  last_day: string;
  days: number;
}

/** One day of a season, the state at its end (units as named: mm, m, m3/m3, °C, 0–1). */
export interface AquaDay {
  date: string;
  dap: number;
  tmin: number;
  tmax: number;
  rain: number;
  et0: number;
  irrigation: number;
  infiltration: number;
  runoff: number;
  deep_percolation: number;
  es: number;
  tr: number;
  z_root: number;
  canopy_cover: number;
  /** Root-zone depletion and TAW of AquaCrop's root zone (compartments the roots reach). */
  dr: number;
  taw: number;
  /** Water content per compartment, top down. */
  theta: number[];
}

export interface AquaSeason {
  meta: AquaSeasonMeta;
  site: AquaSite;
  soil: AquaSoilProfile;
  days: AquaDay[];
}

interface Manifest {
  sites: Record<string, AquaSite>;
  soils: Record<string, AquaSoilProfile>;
  seasons: AquaSeasonMeta[];
}

/** All recorded seasons, in the manifest's order (deterministic). */
export function loadAquaSeasons(dir: string = DEFAULT_AQUACROP_DATA_DIR): AquaSeason[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'seasons.json'), 'utf8')) as Manifest;
  const daysBySeason = new Map<string, AquaDay[]>();
  for (const siteId of Object.keys(manifest.sites)) {
    const [header, ...lines] = readFileSync(join(dir, `${siteId}.csv`), 'utf8').trimEnd().split('\n');
    const cols = header!.split(',');
    const at = (name: string) => {
      const i = cols.indexOf(name);
      if (i < 0) throw new Error(`${siteId}.csv has no column ${name}: regenerate with models/aquacrop/generate.sh`);
      return i;
    };
    const thetaCols = cols.map((c, i) => (/^th\d+$/.test(c) ? i : -1)).filter((i) => i >= 0);
    const num = ['dap', 'tmin', 'tmax', 'rain', 'et0', 'irrigation', 'infiltration', 'runoff', 'deep_percolation', 'es', 'tr', 'z_root', 'canopy_cover', 'dr', 'taw'] as const;
    const idx = Object.fromEntries(num.map((n) => [n, at(n)])) as Record<(typeof num)[number], number>;
    const iSeason = at('season');
    const iDate = at('date');
    for (const line of lines) {
      const v = line.split(',');
      const day = { date: v[iDate]!, theta: thetaCols.map((i) => Number(v[i])) } as AquaDay;
      for (const n of num) day[n] = Number(v[idx[n]]);
      const id = v[iSeason]!;
      const list = daysBySeason.get(id);
      if (list) list.push(day);
      else daysBySeason.set(id, [day]);
    }
  }
  return manifest.seasons.map((meta) => {
    const days = daysBySeason.get(meta.id);
    const site = manifest.sites[meta.site];
    const soil = manifest.soils[meta.soil];
    if (!days || !site || !soil) throw new Error(`season ${meta.id} is incomplete in ${dir}: regenerate with models/aquacrop/generate.sh`);
    return { meta, site, soil, days };
  });
}
