import { describe, expect, it } from 'vitest';
import {
  atmosphericPressure,
  clearSkyRadiation,
  computeDailyEt0,
  computeHourlyEt0,
  dayOfYear,
  daylightHours,
  extraterrestrialRadiationDaily,
  meanSaturationVapourPressure,
  actualVapourPressureFromRhMaxMin,
  netLongwaveRadiationDaily,
  psychrometricConstant,
  solarRadiationFromSunshine,
  solarRadiationFromTemperature,
  windSpeedAt2m,
} from '../../../services/agronomy/index.js';

// Published values: Allen, Pereira, Raes & Smith (1998), "Crop evapotranspiration — Guidelines
// for computing crop water requirements", FAO Irrigation and Drainage Paper 56 ("FAO-56").
// FAO-56 prints rounded intermediates, so the tolerances follow the printed precision.

describe('FAO-56 chapter 3 worked examples', () => {
  it('pressure and gamma at 1800 m (FAO-56, Example 2: P = 81.8 kPa, γ = 0.054 kPa/°C)', () => {
    const p = atmosphericPressure(1800);
    expect(p).toBeCloseTo(81.8, 1);
    expect(psychrometricConstant(p)).toBeCloseTo(0.054, 3);
  });

  it('mean saturation vapour pressure (FAO-56, Example 3: Tmax 24.5, Tmin 15 °C → es = 2.39 kPa)', () => {
    expect(meanSaturationVapourPressure(24.5, 15)).toBeCloseTo(2.39, 2);
  });

  it('ea from RHmax/RHmin (FAO-56, Example 5: 25/18 °C, 82/54 % → ea = 1.70 kPa)', () => {
    expect(actualVapourPressureFromRhMaxMin(25, 18, 82, 54)).toBeCloseTo(1.7, 2);
  });

  it('extraterrestrial radiation (FAO-56, Example 8: 3 September, 20°S → Ra = 32.2 MJ m-2 day-1)', () => {
    const doy = dayOfYear('2023-09-03');
    expect(doy).toBe(246);
    expect(extraterrestrialRadiationDaily(-20, doy)).toBeCloseTo(32.2, 1);
  });

  it('daylight hours (FAO-56, Example 9: 3 September, 20°S → N = 11.7 h)', () => {
    expect(daylightHours(-20, 246)).toBeCloseTo(11.7, 1);
  });

  it('solar radiation from sunshine (FAO-56, Example 10: Rio de Janeiro, May, n = 220 h/month → Rs = 14.5)', () => {
    // J = 135 (15 May), latitude 22°54'S; FAO-56 gets Ra = 25.1 and N = 10.9 h.
    const ra = extraterrestrialRadiationDaily(-22.9, 135);
    const n = daylightHours(-22.9, 135);
    expect(ra).toBeCloseTo(25.1, 1);
    expect(n).toBeCloseTo(10.9, 1);
    expect(solarRadiationFromSunshine(220 / 31, n, ra)).toBeCloseTo(14.5, 1);
  });

  it('net longwave radiation (FAO-56, Example 11: Rio, May, Tmax 25.1, Tmin 19.1, ea 2.1 → Rnl = 3.5)', () => {
    const ra = extraterrestrialRadiationDaily(-22.9, 135);
    const rso = clearSkyRadiation(ra, 0);
    expect(rso).toBeCloseTo(18.8, 1);
    expect(netLongwaveRadiationDaily(25.1, 19.1, 2.1, 14.5 / rso)).toBeCloseTo(3.5, 1);
  });

  it('wind at 2 m from 10 m (FAO-56, Example 14: 3.2 m/s at 10 m → 2.4 m/s)', () => {
    expect(windSpeedAt2m(3.2, 10)).toBeCloseTo(2.4, 1);
    expect(windSpeedAt2m(3.2, 2)).toBe(3.2);
  });

  it('Hargreaves radiation (FAO-56, Example 15: Lyon, July, 45°43\'N, Tmax 26.6, Tmin 14.8, Ra 40.6 → Rs = 22.3)', () => {
    expect(solarRadiationFromTemperature(26.6, 14.8, 40.6, 0.16)).toBeCloseTo(22.3, 1);
  });
});

describe('FAO-56 daily ET0 (Eq. 6)', () => {
  it('Brussels, 6 July (FAO-56, Example 17: ET0 = 3.9 mm/day)', () => {
    const r = computeDailyEt0({
      doy: dayOfYear('2023-07-06'),
      latitudeDeg: 50.8,
      elevationM: 100,
      tmaxC: 21.5,
      tminC: 12.3,
      humidity: { kind: 'rh-max-min', rhMaxPct: 84, rhMinPct: 63 },
      windSpeedMs: 10 / 3.6, // 10 km/h measured at 10 m
      windHeightM: 10,
      radiation: { kind: 'sunshine', sunshineHours: 9.25 },
    });
    // Intermediates as printed in Example 17.
    expect(r.pressure).toBeCloseTo(100.1, 1);
    expect(r.gamma).toBeCloseTo(0.0666, 4);
    expect(r.delta).toBeCloseTo(0.122, 3);
    expect(r.es).toBeCloseTo(1.997, 3);
    expect(r.ea).toBeCloseTo(1.409, 3);
    expect(r.u2).toBeCloseTo(2.078, 3);
    expect(r.ra).toBeCloseTo(41.09, 2);
    expect(r.daylightHours).toBeCloseTo(16.1, 1);
    expect(r.rs).toBeCloseTo(22.07, 2);
    expect(r.rso).toBeCloseTo(30.9, 1);
    expect(r.rns).toBeCloseTo(17.0, 1);
    expect(r.rnl).toBeCloseTo(3.71, 2);
    expect(r.rn).toBeCloseTo(13.28, 2);
    expect(r.et0).toBeCloseTo(3.9, 1);
  });

  it('Bangkok, April, monthly means (FAO-56, Example 18: ET0 = 5.72 mm/day with G = 0.14)', () => {
    const r = computeDailyEt0({
      doy: 105,
      latitudeDeg: 13 + 44 / 60,
      elevationM: 2,
      tmaxC: 34.8,
      tminC: 25.6,
      humidity: { kind: 'vapour-pressure', eaKpa: 2.85 },
      windSpeedMs: 2,
      radiation: { kind: 'sunshine', sunshineHours: 8.5 },
      soilHeatFluxMj: 0.14,
    });
    expect(r.ra).toBeCloseTo(38.06, 1);
    expect(r.daylightHours).toBeCloseTo(12.31, 1);
    expect(r.rs).toBeCloseTo(22.65, 1);
    expect(r.rso).toBeCloseTo(28.54, 1);
    expect(r.rns).toBeCloseTo(17.44, 1);
    expect(r.rnl).toBeCloseTo(3.11, 2);
    expect(r.rn).toBeCloseTo(14.33, 1);
    expect(r.es).toBeCloseTo(4.42, 2);
    expect(r.delta).toBeCloseTo(0.246, 3);
    expect(r.gamma).toBeCloseTo(0.0674, 3);
    expect(r.et0).toBeCloseTo(5.72, 2);
  });

  it('missing data: humidity from Tmin, radiation from Hargreaves, wind 2 m/s assumed', () => {
    const full = computeDailyEt0({
      doy: 187,
      latitudeDeg: 50.8,
      elevationM: 100,
      tmaxC: 21.5,
      tminC: 12.3,
      humidity: { kind: 'tmin' },
      radiation: { kind: 'temperature', coastal: false },
    });
    expect(full.u2).toBe(2);
    expect(full.ea).toBeCloseTo(1.431, 3); // e°(12.3 °C)
    expect(full.rs).toBeCloseTo(0.16 * Math.sqrt(9.2) * full.ra, 6);
    const coastal = computeDailyEt0({ ...full, doy: 187, latitudeDeg: 50.8, elevationM: 100, tmaxC: 21.5, tminC: 12.3, humidity: { kind: 'tmin' }, radiation: { kind: 'temperature', coastal: true } });
    expect(coastal.rs).toBeGreaterThan(full.rs);
    // Estimated without humidity, radiation or wind, still within 15 % of the full estimate.
    expect(full.et0).toBeGreaterThan(3.9 * 0.85);
    expect(full.et0).toBeLessThan(3.9 * 1.15);
  });

  it('caps Hargreaves radiation at the clear-sky value', () => {
    const r = computeDailyEt0({
      doy: 180,
      latitudeDeg: 30,
      elevationM: 0,
      tmaxC: 45,
      tminC: 5,
      humidity: { kind: 'tmin' },
      radiation: { kind: 'temperature', coastal: true },
    });
    expect(r.rs).toBeCloseTo(r.rso, 9);
  });
});

describe('FAO-56 hourly ET0 (Eq. 53)', () => {
  // N'Diaye, Senegal: 16°13'N, 16°15'W, 8 m, 1 October; time-zone meridian 15°W.
  const site = { doy: 274, latitudeDeg: 16 + 13 / 60, longitudeDeg: -16.25, tzLongitudeDeg: -15, elevationM: 8 };

  it('daytime hour 14–15 h (FAO-56, Example 19: Ra = 3.543, Rn = 1.749, G = 0.175, ET0 = 0.63 mm/h)', () => {
    const r = computeHourlyEt0({ ...site, hour: 14, temperatureC: 38, rhPct: 52, windSpeedMs: 3.3, solarRadiationMj: 2.45 });
    expect(r.daytime).toBe(true);
    expect(r.es).toBeCloseTo(6.625, 3);
    expect(r.ea).toBeCloseTo(3.445, 3);
    expect(r.delta).toBeCloseTo(0.358, 3);
    expect(r.gamma).toBeCloseTo(0.0673, 4);
    expect(r.ra).toBeCloseTo(3.543, 3);
    expect(r.rso).toBeCloseTo(2.658, 3);
    expect(r.rns).toBeCloseTo(1.887, 3);
    expect(r.rnl).toBeCloseTo(0.137, 3);
    expect(r.rn).toBeCloseTo(1.749, 3);
    expect(r.g).toBeCloseTo(0.175, 3);
    expect(r.et0).toBeCloseTo(0.63, 2);
  });

  it('night hour 02–03 h (FAO-56, Example 19: Rs/Rso = 0.8, Rnl = 0.100, G = −0.050, ET0 ≈ 0.0 mm/h)', () => {
    const r = computeHourlyEt0({ ...site, hour: 2, temperatureC: 28, rhPct: 90, windSpeedMs: 1.9, solarRadiationMj: 0, rsRsoNight: 0.8 });
    expect(r.daytime).toBe(false);
    expect(r.ra).toBe(0);
    expect(r.rnl).toBeCloseTo(0.1, 3);
    expect(r.rn).toBeCloseTo(-0.1, 3);
    expect(r.g).toBeCloseTo(-0.05, 3);
    expect(r.et0).toBeCloseTo(0, 2);
  });

  it('sums of hourly Ra over a day match the daily Ra (Eq. 21 vs Eq. 28)', () => {
    let sum = 0;
    for (let h = 0; h < 24; h++) {
      const r = computeHourlyEt0({ ...site, hour: h, temperatureC: 25, rhPct: 60, windSpeedMs: 2, solarRadiationMj: 0 });
      sum += r.ra;
    }
    expect(sum).toBeCloseTo(extraterrestrialRadiationDaily(site.latitudeDeg, site.doy), 1);
  });
});
