"""
AquaCrop-OS seasons for fieldhook's independent evaluation.

Runs the FAO crop-water model (PyPI `aquacrop`, pinned in requirements.txt) under the real daily
climate records it ships, for fixed sites, years, soils and crops, irrigated by AquaCrop's own
soil-moisture-target schedule, and writes each season's daily state as CSV:

    data/seasons.json   one entry per season: site, crop, soil, dates, soil hydraulics per compartment
    data/<site>.csv     one row per season day: weather, water balance, root depth, canopy cover,
                        water content of every compartment, root-zone depletion and TAW

Usage: python models/aquacrop/generate.py --out models/aquacrop/data
Everything is fixed below; the output is deterministic for a given aquacrop version.
"""
import argparse
import json
import os
from datetime import date, timedelta
from importlib.metadata import version

from aquacrop import AquaCropModel, Crop, InitialWaterContent, IrrigationManagement, Soil
from aquacrop.utils import get_filepath, prepare_weather

# Sites whose climate files aquacrop bundles (Day Month Year Tmin Tmax Prcp ET0, daily).
# Coordinates, elevation and the time zone's central meridian are the site's; years are fixed
# picks spread over each record. Sowing dates are the usual local spring sowings.
SITES = {
    'champion': {
        'file': 'champion_climate.txt', 'name': 'Champion, Nebraska, USA',
        'lat': 40.47, 'lon': -101.72, 'elevation': 1100, 'tz_lon': -90,
        'years': [1990, 2002, 2012],
        'sowing': {'maize': '05-01', 'tomato': '05-20', 'potato': '04-25'},
    },
    'tunis': {
        'file': 'tunis_climate.txt', 'name': 'Tunis, Tunisia',
        'lat': 36.83, 'lon': 10.23, 'elevation': 4, 'tz_lon': 15,
        'years': [1988, 1995, 2000],
        'sowing': {'maize': '04-01', 'tomato': '03-20', 'potato': '02-01'},
    },
    'brussels': {
        'file': 'brussels_climate.txt', 'name': 'Brussels, Belgium',
        'lat': 50.80, 'lon': 4.35, 'elevation': 100, 'tz_lon': 15,
        'years': [1985, 1995, 2003],
        'sowing': {'maize': '05-01', 'tomato': '05-15', 'potato': '04-15'},
    },
}

# AquaCrop's calendar-day crop files, and fieldhook's crop preset of the same crop.
CROPS = {
    'maize': {'aquacrop': 'Maize', 'fieldhook': 'maize-field', 'p': 0.55},
    'tomato': {'aquacrop': 'Tomato', 'fieldhook': 'tomato', 'p': 0.40},
    'potato': {'aquacrop': 'Potato', 'fieldhook': 'potato', 'p': 0.35},
}
SOILS = {'sandy-loam': 'SandyLoam', 'loam': 'Loam', 'clay-loam': 'ClayLoam'}

# 2.7 m of soil (AquaCrop's maize roots reach 2.3 m): 12 compartments of 0.1 m, then 6 of 0.25 m.
DZ = [0.1] * 12 + [0.25] * 6
# The schedule irrigates when root-zone water falls below SMT % of TAW, i.e. depletion above
# (1 - SMT/100) TAW. Ten points of TAW beyond the crop's p (FAO-56 Table 22, fieldhook's RAW):
# the root zone crosses RAW, so water needs arise, before the farmer's schedule acts.
TRIGGER_BEYOND_RAW = 0.10
MAX_IRRIGATION_MM = 40
SEASON_DAYS_MAX = 200


def root_zone(profile, theta, z_root):
    """Depletion and TAW (mm) of the compartments the roots reach (the last one pro rata)."""
    dr = taw = 0.0
    for i, row in enumerate(profile.itertuples()):
        if row.z_top >= z_root:
            break
        f = min(1.0, (z_root - row.z_top) / row.dz)
        dr += f * row.dz * 1000 * (row.th_fc - theta[i])
        taw += f * row.dz * 1000 * (row.th_fc - row.th_wp)
    return dr, taw


def run_season(site_id, site, weather_df, weather, year, crop_id, soil_id):
    crop = CROPS[crop_id]
    sowing = date.fromisoformat(f"{year}-{site['sowing'][crop_id]}")
    end = sowing + timedelta(days=SEASON_DAYS_MAX)
    smt = round(100 * (1 - crop['p'] - TRIGGER_BEYOND_RAW))
    soil = Soil(SOILS[soil_id], dz=DZ)
    model = AquaCropModel(
        sowing.strftime('%Y/%m/%d'), end.strftime('%Y/%m/%d'), weather_df, soil,
        Crop(crop['aquacrop'], planting_date=sowing.strftime('%m/%d')),
        InitialWaterContent(value=['FC']),
        irrigation_management=IrrigationManagement(irrigation_method=1, SMT=[smt] * 4, MaxIrr=MAX_IRRIGATION_MM),
    )
    model.run_model(till_termination=True)
    out = model._outputs
    profile = soil.profile
    rows = []
    for k in range(len(out.water_flux)):
        flux, store, growth = out.water_flux.iloc[k], out.water_storage.iloc[k], out.crop_growth.iloc[k]
        if growth.season_counter < 0 or store.growing_season != 1:
            continue
        day = sowing + timedelta(days=int(flux.time_step_counter))
        w = weather[day.isoformat()]
        theta = [float(store[f'th{i + 1}']) for i in range(len(DZ))]
        dr, taw = root_zone(profile, theta, float(growth.z_root))
        rows.append({
            'date': day.isoformat(), 'dap': int(growth.dap),
            'tmin': w.MinTemp, 'tmax': w.MaxTemp, 'rain': w.Precipitation, 'et0': w.ReferenceET,
            'irrigation': flux.IrrDay, 'infiltration': flux.Infl, 'runoff': flux.Runoff, 'deep_percolation': flux.DeepPerc,
            'es': flux.Es, 'tr': flux.Tr, 'tr_pot': flux.TrPot,
            'z_root': growth.z_root, 'canopy_cover': growth.canopy_cover,
            'dr': dr, 'taw': taw, **{f'th{i + 1}': t for i, t in enumerate(theta)},
        })
    return {
        'id': f'{site_id}-{year}-{crop_id}-{soil_id}',
        'site': site_id, 'year': year, 'crop': crop_id, 'fieldhook_crop': crop['fieldhook'], 'soil': soil_id,
        'aquacrop_crop': crop['aquacrop'], 'aquacrop_soil': SOILS[soil_id], 'p': crop['p'], 'smt_pct_taw': smt,
        'sowing': sowing.isoformat(), 'last_day': rows[-1]['date'], 'days': len(rows),
        'irrigation_mm': round(sum(r['irrigation'] for r in rows), 1),
        'rain_mm': round(sum(r['rain'] for r in rows), 1),
    }, rows


def fmt(x):
    return str(x) if isinstance(x, (int, str)) else f'{x:.4f}'.rstrip('0').rstrip('.') if abs(x) > 0 else '0'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='models/aquacrop/data')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    profiles = {}
    seasons = []
    for site_id, site in SITES.items():
        weather = prepare_weather(get_filepath(site['file']))
        by_day = {d.date().isoformat(): row for d, row in zip(weather.Date, weather.itertuples())}
        lines = None
        for year in site['years']:
            for crop_id in CROPS:
                for soil_id in SOILS:
                    meta, rows = run_season(site_id, site, weather, by_day, year, crop_id, soil_id)
                    seasons.append(meta)
                    if lines is None:
                        lines = ['season,' + ','.join(rows[0].keys())]
                    lines += [meta['id'] + ',' + ','.join(fmt(v) for v in r.values()) for r in rows]
                    print(f"{meta['id']}: {meta['days']} days, irrigation {meta['irrigation_mm']} mm, rain {meta['rain_mm']} mm", flush=True)
        with open(os.path.join(args.out, f'{site_id}.csv'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    for soil_id, name in SOILS.items():
        p = Soil(name, dz=DZ).profile
        profiles[soil_id] = {'dz': [float(x) for x in p.dz], 'th_fc': [float(x) for x in p.th_fc], 'th_wp': [float(x) for x in p.th_wp]}
    manifest = {
        'generator': 'models/aquacrop/generate.py', 'aquacrop': version('aquacrop'),
        'trigger_beyond_raw': TRIGGER_BEYOND_RAW, 'max_irrigation_mm': MAX_IRRIGATION_MM,
        'sites': {k: {x: v[x] for x in ('name', 'file', 'lat', 'lon', 'elevation', 'tz_lon', 'years')} for k, v in SITES.items()},
        'soils': profiles, 'seasons': seasons,
    }
    with open(os.path.join(args.out, 'seasons.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
