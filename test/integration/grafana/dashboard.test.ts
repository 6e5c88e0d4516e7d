import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../helpers/ingest-fixture.js';

const influxUrl = inject('influxUrl');
const database = `grafana_${process.pid}`;

interface Dashboard {
  templating: { list: { name: string; query: string }[] };
  panels: { title: string; targets: { query: string }[] }[];
}

const dashboard = JSON.parse(readFileSync(new URL('../../../infra/grafana/dashboards/fieldhook-fields.json', import.meta.url), 'utf8')) as Dashboard;

/** What Grafana substitutes before sending an InfluxQL query (all farms and fields selected). */
function expand(query: string, from: number, to: number): string {
  return query
    .replaceAll('$timeFilter', `time >= ${from}ms AND time <= ${to}ms`)
    .replaceAll('$__interval', '1h')
    .replaceAll('$farm', '.*')
    .replaceAll('$field', '.*');
}

async function influxql(q: string): Promise<{ series?: { name: string; tags?: Record<string, string>; values: unknown[][] }[]; error?: string }> {
  const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ q, db: database, epoch: 'ms' })}`);
  const body = (await res.json()) as { results: { series?: { name: string; values: unknown[][] }[]; error?: string }[] };
  return body.results[0]!;
}

describe('the Grafana dashboard', () => {
  it('runs every panel and variable query on InfluxDB (InfluxQL) against the schema fieldhook writes', async () => {
    await createDatabase(influxUrl, database);
    const t0 = Date.parse('2026-11-20T00:00:00Z');
    const lines = [
      `reading,device=n-1,farm=f1,field=north soil_moisture=0.25,air_temperature=20,rainfall=1.2,battery_voltage=3.7,rssi=-80 ${t0}`,
      `reading,device=n-1,farm=f1,field=north soil_moisture=0.24,air_temperature=22,battery_voltage=3.69,rssi=-82 ${t0 + 3_600_000}`,
      `recommendation,farm=f1,field=north,model=fieldhook-irrigation depletion_mm=18.5,raw_mm=30,taw_mm=60,hours_to_threshold=20,irrigate=false ${t0 + 3_600_000}`,
    ];
    const write = await fetch(`${influxUrl}/api/v2/write?bucket=${database}&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(write.status).toBe(204);

    for (const variable of dashboard.templating.list) {
      const result = await influxql(expand(variable.query, t0, t0 + 86_400_000));
      expect(result.error, variable.name).toBeUndefined();
      expect(JSON.stringify(result.series), variable.name).toMatch(/f1|north/);
    }
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const result = await influxql(expand(target.query, t0, t0 + 86_400_000));
        expect(result.error, panel.title).toBeUndefined();
        expect(result.series?.length ?? 0, panel.title).toBeGreaterThan(0);
      }
    }
  });
});
