import { describe, expect, it } from 'vitest';
import { CLIMATES } from '../../../services/simulator/climates.js';
import { createRandom } from '../../../services/simulator/random.js';
import { generateDailyWeather, generateHourlyWeather } from '../../../services/simulator/weather.js';

describe('weather generator', () => {
  const climate = CLIMATES['semi-arid'];
  const daily = generateDailyWeather(climate, '2025-06-01', 60, createRandom('w'));
  const hourly = generateHourlyWeather(climate, daily, createRandom('h'));

  it('has a diurnal cycle: warm afternoons, humid dawns, dark nights', () => {
    const byHour = (pick: (h: (typeof hourly)[number]) => number, hour: number) => {
      const xs = hourly.filter((h) => h.hour === hour).map(pick);
      return xs.reduce((s, x) => s + x, 0) / xs.length;
    };
    expect(byHour((h) => h.temperatureC, 15)).toBeGreaterThan(byHour((h) => h.temperatureC, 5) + 6);
    expect(byHour((h) => h.rhPct, 5)).toBeGreaterThan(byHour((h) => h.rhPct, 15) + 15);
    expect(byHour((h) => h.solarRadiationMj, 1)).toBe(0);
    expect(byHour((h) => h.solarRadiationMj, 12)).toBeGreaterThan(2);
    for (const h of hourly) {
      expect(h.rhPct).toBeLessThanOrEqual(100);
      expect(h.windMs).toBeGreaterThan(0);
    }
  });

  it('puts each day\'s rain into its hours, as events', () => {
    const dailyRain = daily.reduce((s, d) => s + d.rainMm, 0);
    const hourlyRain = hourly.reduce((s, h) => s + h.rainMm, 0);
    expect(hourlyRain).toBeCloseTo(dailyRain, 6);
    expect(daily.some((d) => d.rainMm > 0)).toBe(true);
    expect(hourly.filter((h) => h.rainMm > 0).length).toBeLessThan(hourly.length / 4);
  });

  it('makes arid climates drier than humid ones', () => {
    const rain = (name: 'arid' | 'humid') =>
      generateDailyWeather(CLIMATES[name], '2025-01-01', 365, createRandom(`y-${name}`)).reduce((s, d) => s + d.rainMm, 0);
    expect(rain('humid')).toBeGreaterThan(3 * rain('arid'));
  });
});
