import { beforeAll, describe, expect, it } from 'vitest';
import { createStatusQueries } from '../../../services/status/influx-queries.js';
import { testInflux } from '../../helpers/test-influx.js';

// InfluxDB 1.8, or 2.7 in the integration-influx2 project.
const influx = testInflux();
const HOUR = 3_600_000;
const T0 = Date.parse('2026-07-06T10:00:00Z');

describe(`status page queries on a real InfluxDB ${influx.kind}`, () => {
  const database = `status_q_${process.pid}`;

  beforeAll(async () => {
    await influx.createDatabase(database);
    // One field with two rain gauges and a soil probe; another field with one gauge.
    const lines = [
      `reading,farm=f1,field=north,device=g-1 rainfall=2 ${T0 + 10 * 60_000}`,
      `reading,farm=f1,field=north,device=g-1 rainfall=1 ${T0 + 40 * 60_000}`,
      `reading,farm=f1,field=north,device=g-2 rainfall=5 ${T0 + 20 * 60_000}`,
      `reading,farm=f1,field=north,device=p-1 soil_moisture=0.2 ${T0 + 5 * 60_000}`,
      `reading,farm=f1,field=north,device=p-1 soil_moisture=0.3 ${T0 + 35 * 60_000}`,
      `reading,farm=f1,field=south,device=g-3 rainfall=4 ${T0 + 15 * 60_000}`,
    ].join('\n');
    await influx.write(database, lines);
  });

  it("gives each field's hourly rain as the mean over its gauges (not their sum) and the mean soil moisture", async () => {
    const queries = createStatusQueries(influx.target(database));
    const hours = await queries.fieldHours(T0 - HOUR, T0 + HOUR);
    // north: gauge g-1 saw 3 mm in the hour, g-2 5 mm: the field had 4 mm, not 8.
    expect(hours.get('f1/north')).toEqual([{ t: T0, soilMoisture: expect.closeTo(0.25, 9), rainfallMm: 4 }]);
    expect(hours.get('f1/south')).toEqual([{ t: T0, soilMoisture: null, rainfallMm: 4 }]);
  });
});
