/**
 * What Grafana does to a provisioned dashboard's queries before it sends them, for the two data
 * sources fieldhook ships (InfluxDB with InfluxQL, Prometheus): every panel target, annotation and
 * template variable is collected, its variables and time macros are filled in the way Grafana
 * fills them, and it is run on the real server. A query "works" when it answers with data.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const DASHBOARD_DIR = new URL('../../../infra/grafana/dashboards/', import.meta.url);
export const DATASOURCE_DIR = new URL('../../../infra/grafana/provisioning/datasources/', import.meta.url);

export type DataSourceType = 'influxdb' | 'prometheus';

interface DataSourceRef {
  type: string;
  uid: string;
}

interface Target {
  refId: string;
  datasource?: DataSourceRef;
  /** InfluxQL (raw mode). */
  query?: string;
  /** PromQL. */
  expr?: string;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DataSourceRef;
  targets?: Target[];
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  datasource?: DataSourceRef;
  query: string | { query: string };
  includeAll?: boolean;
  allValue?: string;
  current?: { text: string | string[]; value: string | string[] };
}

interface Annotation {
  name: string;
  builtIn?: number;
  datasource?: DataSourceRef;
  query?: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  file: string;
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
  panels: Panel[];
}

/** One query of a dashboard, as written in its JSON. */
export interface DashboardQuery {
  dashboard: string;
  /** Panel title and refId, annotation or variable name: what a failure names. */
  source: string;
  datasource: DataSourceRef;
  text: string;
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ ...(JSON.parse(readFileSync(new URL(file, DASHBOARD_DIR), 'utf8')) as Omit<Dashboard, 'file'>), file }));
}

/** The `uid: type` pairs the provisioning files declare (a two-key scan: they are flat lists). */
export function provisionedDataSources(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of readdirSync(DATASOURCE_DIR).filter((f) => /\.ya?ml$/.test(f))) {
    const text = readFileSync(new URL(file, DATASOURCE_DIR), 'utf8');
    for (const entry of text.split(/^\s*- /m).slice(1)) {
      const uid = /^\s*uid:\s*(\S+)/m.exec(entry)?.[1];
      const type = /^\s*type:\s*(\S+)/m.exec(entry)?.[1];
      if (uid && type) found.set(uid, type);
    }
  }
  return found;
}

/**
 * The custom headers the provisioned InfluxDB data source makes Grafana send (`httpHeaderNameN` in
 * jsonData, `httpHeaderValueN` in secureJsonData), with `${VAR}` filled in from `env` the way
 * Grafana fills in provisioning files (an unset variable is empty).
 */
export function provisionedInfluxHeaders(env: Record<string, string | undefined>): Record<string, string> {
  const text = readFileSync(new URL('influxdb.yml', DATASOURCE_DIR), 'utf8').replaceAll(/\$\{(\w+)\}/g, (_m, name: string) => env[name] ?? '');
  const headers: Record<string, string> = {};
  for (const [, n, name] of text.matchAll(/^\s*httpHeaderName(\d+):\s*(.*)$/gm)) {
    const value = new RegExp(`^\\s*httpHeaderValue${n}:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '';
    if (name!.trim()) headers[name!.trim().toLowerCase()] = value.trim();
  }
  return headers;
}

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

/** Every panel target and every annotation query (Grafana's built-in annotation excepted). */
export function queriesOf(d: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const panel of panelsOf(d.panels)) {
    for (const t of panel.targets ?? []) {
      const datasource = t.datasource ?? panel.datasource;
      if (!datasource) throw new Error(`${d.file}: panel "${panel.title}" has no data source`);
      out.push({ dashboard: d.file, source: `panel "${panel.title}" ${t.refId}`, datasource, text: t.query ?? t.expr ?? '' });
    }
  }
  for (const a of d.annotations.list) {
    if (a.builtIn) continue;
    if (!a.datasource || !a.query) throw new Error(`${d.file}: annotation "${a.name}" has no data source or query`);
    out.push({ dashboard: d.file, source: `annotation "${a.name}"`, datasource: a.datasource, text: a.query });
  }
  return out;
}

// ---- time: Grafana's interval arithmetic (@grafana/data rangeutil) ------------------------------

/** Grafana rounds range / max data points to one of these "nice" intervals. */
export function roundInterval(ms: number): number {
  const table: [below: number, nice: number][] = [
    [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1_500, 1_000], [3_500, 2_000], [7_500, 5_000],
    [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000], [210_000, 120_000],
    [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000], [2_700_000, 1_800_000],
    [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000], [32_400_000, 21_600_000],
    [86_400_000, 43_200_000], [604_800_000, 86_400_000], [1_814_400_000, 604_800_000], [3_628_800_000, 2_592_000_000],
  ];
  return table.find(([below]) => ms < below)?.[1] ?? 31_536_000_000;
}

/** Grafana's duration format: the largest whole unit (`5m`, `1h`, `500ms`). */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [['y', 31_536_000_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]];
  for (const [unit, size] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return `${Math.max(1, Math.round(ms))}ms`;
}

export interface QueryContext {
  from: number;
  to: number;
  /** The panel width Grafana asks for, in points. */
  maxDataPoints: number;
  /** The data source's minimum interval (Prometheus: the scrape interval), ms. */
  minIntervalMs: number;
  /** Selected values per variable; `all` selects All. */
  variables: Record<string, string[] | 'all'>;
  /** The dashboard's variables, for their `allValue`. */
  definitions: readonly Variable[];
}

/** `$__interval` in ms, as Grafana computes it for a panel. */
export function intervalMs(ctx: Pick<QueryContext, 'from' | 'to' | 'maxDataPoints' | 'minIntervalMs'>): number {
  return Math.max(roundInterval((ctx.to - ctx.from) / ctx.maxDataPoints), ctx.minIntervalMs);
}

const escapeRegex = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

function variableValue(name: string, type: DataSourceType, ctx: QueryContext): string {
  const selected = ctx.variables[name];
  if (selected === undefined) throw new Error(`variable $${name} has no value in this test`);
  const definition = ctx.definitions.find((v) => v.name === name);
  if (selected === 'all') return definition?.allValue ?? '.*';
  // A custom variable is used as it is (a number, a duration); query variables sit in regexes.
  if (definition?.type === 'custom') return selected.join(',');
  // PromQL regexes sit in string literals, where the regex escape's backslash is escaped again.
  const escape = type === 'prometheus' ? (v: string) => escapeRegex(v).replaceAll('\\', '\\\\') : escapeRegex;
  return selected.length === 1 ? escape(selected[0]!) : `(${selected.map(escape).join('|')})`;
}

/** Fill in the time macros and variables the way Grafana does before it sends a query. */
export function expand(text: string, type: DataSourceType, ctx: QueryContext): string {
  const interval = intervalMs(ctx);
  const rangeMs = ctx.to - ctx.from;
  // $__rate_interval: at least four scrapes, and one scrape more than the interval.
  const rateInterval = Math.max(interval + ctx.minIntervalMs, 4 * ctx.minIntervalMs);
  let out = text
    .replaceAll('$timeFilter', `time >= ${ctx.from}ms and time <= ${ctx.to}ms`)
    .replaceAll(/\$__timeFilter\(([^)]*)\)/g, (_m, column: string) => `${column || 'time'} >= ${ctx.from}ms and ${column || 'time'} <= ${ctx.to}ms`)
    .replaceAll('$__rate_interval', formatDuration(rateInterval))
    .replaceAll('$__interval_ms', String(interval))
    .replaceAll('$__interval', formatDuration(interval))
    .replaceAll('$__range_ms', String(rangeMs))
    .replaceAll('$__range_s', String(Math.round(rangeMs / 1000)))
    .replaceAll('$__range', `${Math.round(rangeMs / 1000)}s`)
    .replaceAll('${__from}', String(ctx.from))
    .replaceAll('${__to}', String(ctx.to));
  out = out.replaceAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    return name.startsWith('__') || name.startsWith('tag_') || name === 'col' ? m : variableValue(name, type, ctx);
  });
  if (/\$(?!tag_|col\b)\w/.test(out)) throw new Error(`unexpanded macro left in a ${type} query: ${out}`);
  return out;
}

// ---- running queries -----------------------------------------------------------------------------

/** What a query answered, reduced to what a panel would draw. */
export interface Answer {
  error?: string;
  /** Series (InfluxDB) or result vectors/matrices (Prometheus). */
  series: number;
  /** Values a panel can draw: non-null (InfluxDB), finite (Prometheus). */
  values: number;
}

interface InfluxResult {
  error?: string;
  series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
}

/** InfluxQL as the data source sends it, with its `headers` (the credentials, provisionedInfluxHeaders). */
export async function influxql(url: string, database: string, q: string, headers: Record<string, string> = {}): Promise<InfluxResult> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ q, db: database, epoch: 'ms' })}`, { headers });
  const body = (await res.json()) as { results?: InfluxResult[]; error?: string; message?: string };
  if (body.error) return { error: body.error };
  // 2.x answers a refused token with `{"code":"unauthorized","message":…}`.
  if (!res.ok) return { error: `HTTP ${res.status} ${body.message ?? ''}` };
  return body.results?.[0] ?? { error: `HTTP ${res.status} without results` };
}

export async function runInfluxQL(url: string, database: string, q: string, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await influxql(url, database, q, headers);
  const series = r.series ?? [];
  const values = series.reduce((n, s) => n + s.values.reduce((m, row) => m + row.slice(1).filter((v) => v !== null).length, 0), 0);
  return { ...(r.error ? { error: r.error } : {}), series: series.length, values };
}

export async function runPromQL(url: string, expr: string, ctx: QueryContext): Promise<Answer> {
  const step = intervalMs(ctx) / 1000;
  const params = new URLSearchParams({ query: expr, start: String(ctx.from / 1000), end: String(ctx.to / 1000), step: String(step) });
  const res = await fetch(`${url}/api/v1/query_range?${params}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  if (body.status !== 'success') return { error: body.error ?? `HTTP ${res.status}`, series: 0, values: 0 };
  const result = body.data?.result ?? [];
  const values = result.reduce((n, s) => n + s.values.filter(([, v]) => Number.isFinite(Number(v))).length, 0);
  return { series: result.length, values };
}

/** The values a query variable offers: InfluxQL `SHOW TAG VALUES` or Grafana's `label_values(metric, label)`. */
export async function variableValues(
  v: Variable,
  urls: { influx: string; database: string; prometheus: string; influxHeaders?: Record<string, string> },
  ctx: QueryContext,
): Promise<string[]> {
  const text = typeof v.query === 'string' ? v.query : v.query.query;
  if (v.type === 'custom') return text.split(',').map((o) => o.split(' : ').at(-1)!.trim());
  const type = v.datasource?.type;
  if (type === 'influxdb') {
    const r = await influxql(urls.influx, urls.database, expand(text, 'influxdb', ctx), urls.influxHeaders);
    if (r.error) throw new Error(`variable ${v.name}: ${r.error}`);
    return [...new Set((r.series ?? []).flatMap((s) => s.values.map((row) => String(row[1]))))];
  }
  if (type === 'prometheus') {
    const m = /^label_values\((?:(.+),\s*)?(\w+)\)$/.exec(expand(text, 'prometheus', ctx).trim());
    if (!m) throw new Error(`variable ${v.name}: only label_values(…) is understood here: ${text}`);
    const [, match, label] = m;
    const params = new URLSearchParams({ start: String(ctx.from / 1000), end: String(ctx.to / 1000) });
    if (match) params.set('match[]', match);
    const res = await fetch(`${urls.prometheus}/api/v1/label/${label}/values?${params}`);
    const body = (await res.json()) as { status: string; data: string[] };
    return body.status === 'success' ? body.data : [];
  }
  throw new Error(`variable ${v.name}: unknown data source type ${type}`);
}
