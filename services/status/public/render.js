// Draws one snapshot of GET /ui/api/status into the page. Text goes in as text nodes only, never
// as markup, so nothing a device or a subscription is named can run in the page.
import { depletionBar, soilChart } from './chart.js';

/** An HTML element with attributes and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const MINUTE_MS = 60_000;

/** "4 min ago", "in 3 h", "2 d ago". */
export function relative(iso, nowMs) {
  if (!iso) return 'never';
  const d = Date.parse(iso) - nowMs;
  const a = Math.abs(d);
  const text = a < MINUTE_MS ? 'just now' : a < 60 * MINUTE_MS ? `${Math.round(a / MINUTE_MS)} min` : a < 48 * 60 * MINUTE_MS ? `${Math.round(a / (60 * MINUTE_MS))} h` : `${Math.round(a / (24 * 60 * MINUTE_MS))} d`;
  return a < MINUTE_MS ? text : d < 0 ? `${text} ago` : `in ${text}`;
}

const clock = (iso) => new Date(iso).toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
const age = (ms) => (ms <= 0 ? '–' : ms < MINUTE_MS ? `${Math.round(ms / 1000)} s` : ms < 60 * MINUTE_MS ? `${Math.round(ms / MINUTE_MS)} min` : `${(ms / (60 * MINUTE_MS)).toFixed(1)} h`);
const num = (v, digits, unit) => (v === null || v === undefined ? '–' : `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`);
const badge = (kind, text) => h('span', { class: `badge ${kind}` }, text);
const time = (iso, nowMs) => (iso ? h('time', { datetime: iso, title: new Date(iso).toLocaleString() }, relative(iso, nowMs)) : 'never');

/** A table that becomes labelled rows on a narrow screen (each cell carries its column name). */
function table(columns, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c, i) => h('td', { 'data-label': columns[i] }, c))))),
    ),
  );
}

function summary(s) {
  const advising = s.fields.filter((f) => f.advice && !f.advice.expired).length;
  const silent = s.fleet.devices.filter((d) => d.silent).length;
  const failing = s.subscriptions.filter((x) => x.health !== 'healthy').length;
  const spool = s.pipeline.spool;
  const pending = spool ? Math.max(0, ...spool.consumers.map((c) => c.pending_readings)) : null;
  const item = (value, label, warn) => h('li', { class: warn ? 'warn' : '' }, h('strong', {}, String(value)), ' ', label);
  return [
    item(s.fields.length, 'fields'),
    item(advising, 'advising', advising > 0),
    item(s.fleet.devices.length, 'devices'),
    item(silent, 'silent', silent > 0),
    item(s.subscriptions.length, 'subscriptions'),
    item(failing, 'failing or disabled', failing > 0),
    item(pending ?? '–', 'readings queued', pending > 0),
    item(spool?.dead_letters ?? '–', 'dead letters', spool?.dead_letters > 0),
  ];
}

function fieldCard(f, nowMs) {
  const title = h('h3', {}, `${f.farm} / ${f.field}`);
  const elsewhere = f.evaluation && !f.evaluation.here ? f.evaluation : null;
  const tags = h(
    'p',
    { class: 'tags' },
    f.crop ? badge('crop', f.crop) : badge('warn', 'no field profile'),
    f.stale ? badge('warn', 'stale') : null,
    f.season && !f.season.in_season ? badge('muted', 'off season') : null,
    elsewhere ? badge('muted', `on ${elsewhere.instance ?? 'another instance'}`) : null,
  );
  const card = h('article', { class: 'card field', 'data-field': `${f.farm}/${f.field}`, 'data-evaluated-by': f.evaluation?.instance ?? undefined }, title, tags);
  if (elsewhere) card.append(h('p', { class: 'muted evaluated-elsewhere' }, elsewhereText(elsewhere, nowMs)));
  if (!f.configured) {
    card.append(h('p', { class: 'muted' }, 'Devices report for this field but it has no field profile, so it gets no advice. Add one with ', h('code', {}, 'fieldhook fields add'), '.'));
  }
  if (f.advice) {
    const active = !f.advice.expired;
    card.append(
      h(
        'div',
        { class: `advice ${active ? 'active' : 'expired'}` },
        h('strong', {}, active ? 'Irrigate' : 'Advice expired'),
        h('span', {}, ` · advised ${clock(f.advice.issued_at)}, start by ${clock(f.advice.start_by)}, valid until ${clock(f.advice.valid_until)}`),
      ),
    );
  } else if (f.season && !f.season.in_season) {
    card.append(h('div', { class: 'advice none off-season' }, `No advice off season: ${f.season.reason}`));
  } else if (f.configured) {
    card.append(h('div', { class: 'advice none' }, 'No irrigation advice'));
  }
  if (f.water && f.season && !f.season.in_season) {
    // Off season the newest balance is the last one in season: not the field's water now.
    const w = f.water;
    card.append(h('p', { class: 'muted water-text' }, `Last in season: depletion ${num(w.depletion_mm, 0, 'mm')} of RAW ${num(w.raw_mm, 0)} (${relative(w.at, nowMs)})`));
  } else if (f.water) {
    const w = f.water;
    card.append(
      h('div', { class: 'water' }, depletionBar(w)),
      h(
        'p',
        { class: 'water-text' },
        `Depletion ${num(w.depletion_mm, 0, 'mm')} · RAW ${num(w.raw_mm, 0)} · TAW ${num(w.taw_mm, 0, 'mm')}`,
        w.hours_to_raw === null ? '' : w.hours_to_raw <= 0 ? ' · past RAW' : ` · RAW in ${num(w.hours_to_raw, 0, 'h')}`,
        h('span', { class: 'muted' }, ` (${relative(w.at, nowMs)})`),
      ),
    );
  } else if (f.configured) {
    card.append(h('p', { class: 'muted' }, 'No water balance yet: the predictor has not evaluated this field with fresh readings.'));
  }
  if (f.learning && f.learning.dry_days > 0) {
    const l = f.learning;
    card.append(
      h(
        'p',
        { class: 'muted learning' },
        `Learnt from ${l.dry_days} dry ${l.dry_days === 1 ? 'day' : 'days'}: drains ${num(l.ratio, 2)} × ETc (± ${num(l.spread, 2)}) · `,
        l.applied
          ? `root zone × ${num(l.taw_factor, 2)}, Kc × ${num(l.kc_factor, 2)}${l.raw_factor > 1 ? `, RAW × ${num(l.raw_factor, 2)} (no stress seen past the profile's)` : ''}`
          : 'as its profile says',
      ),
    );
  }
  card.append(soilChart(f.history, f.soil, nowMs));
  card.append(
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'key moisture' }, 'soil moisture'),
      h('span', { class: 'key rain' }, 'rain'),
      f.soil ? [h('span', { class: 'key fc' }, 'field capacity'), f.soil.theta_raw !== null ? h('span', { class: 'key raw' }, 'RAW') : null, h('span', { class: 'key wp' }, 'wilting point')] : null,
    ),
  );
  return card;
}

/** A field another instance's predictor evaluates: who, and how old its advice shown here is. */
function elsewhereText(e, nowMs) {
  const who = e.instance ? `the predictor of ${e.instance}` : 'another instance\'s predictor';
  const partition = e.partition !== null ? ` (partition ${e.partition})` : '';
  const saved = e.state_saved_at ? `its advice as saved there ${relative(e.state_saved_at, nowMs)}` : 'nothing saved there yet';
  return `Evaluated by ${who}${partition}: ${saved}.`;
}

function fleet(s, nowMs) {
  const devices = [...s.fleet.devices].sort((a, b) => Number(b.silent) - Number(a.silent) || a.id.localeCompare(b.id));
  return table(
    ['Device', 'Field', 'Last seen', 'Battery', 'RSSI', 'State'],
    devices.map((d) => [
      h('span', { class: 'mono' }, d.id),
      `${d.farm} / ${d.field}`,
      time(d.last_seen, nowMs),
      num(d.battery_v, 2, 'V'),
      num(d.rssi_dbm, 0, 'dBm'),
      !d.enabled ? badge('muted', 'disabled') : d.silent ? badge('bad', 'silent') : badge('good', 'reporting'),
    ]),
    'No devices registered yet.',
  );
}

function subscriptions(s, nowMs) {
  // A badge per row: one DOM node appended to several rows would move to the last of them.
  const HEALTH = { healthy: 'good', failing: 'bad', disabled: 'muted' };
  const health = (state) => badge(HEALTH[state] ?? 'muted', state);
  return table(
    ['Endpoint', 'Events', 'Health', 'Backlog', 'Last delivery'],
    s.subscriptions.map((x) => [
      h(
        'span',
        {},
        h('span', { class: 'mono' }, x.host),
        x.format !== 'standard-webhooks' ? [' ', badge('muted', x.format)] : null,
        x.description ? h('span', { class: 'muted' }, ` ${x.description}`) : null,
      ),
      x.events.join(', ') || '*',
      h(
        'span',
        {},
        health(x.health),
        x.disabled_reason ? h('span', { class: 'muted' }, ` ${x.disabled_reason} ${relative(x.disabled_at, nowMs)}`) : null,
        x.failing_since && x.health === 'failing' ? h('span', { class: 'muted' }, ` since ${relative(x.failing_since, nowMs)}`) : null,
      ),
      x.backlog.pending === 0 ? '0' : `${x.backlog.pending} (oldest ${relative(x.backlog.oldest_created_at, nowMs)})`,
      x.last_delivery
        ? h('span', {}, time(x.last_delivery.at, nowMs), ` ${x.last_delivery.event_type} · ${x.last_delivery.status}`, x.last_delivery.status_code ? ` (${x.last_delivery.status_code})` : '')
        : 'none yet',
    ]),
    'No webhook subscriptions. Add one with fieldhook subscriptions add or POST /v1/subscriptions.',
  );
}

/** Which share of the fields this instance's predictor evaluates. */
function partitionsText(parts) {
  if (!parts || parts.mode === 'single') return 'all';
  if (parts.mode === 'manual') return `partition ${parts.held.join(', ')} of ${parts.count}`;
  return `${parts.held.length} of ${parts.count} partitions, shared with the other predictors`;
}

function pipeline(s, nowMs) {
  const p = s.pipeline;
  const writer = p.influxdb_writer;
  const model = p.predictor.model;
  const facts = h(
    'dl',
    { class: 'facts' },
    h('dt', {}, 'InfluxDB writer'),
    h('dd', {}, writer ? [writer.healthy ? badge('good', 'writing') : badge('bad', 'failing'), ' last write ', time(writer.last_write_at, nowMs)] : '–'),
    h('dt', {}, 'Dead letters'),
    h('dd', {}, p.spool ? (p.spool.dead_letters > 0 ? badge('bad', String(p.spool.dead_letters)) : '0') : '–'),
    h('dt', {}, 'Spool pending'),
    h('dd', {}, p.spool ? `${(p.spool.pending_bytes / 1024).toFixed(1)} KiB` : '–'),
    h('dt', {}, 'Model'),
    h('dd', {}, !p.predictor.enabled ? 'predictor off' : model ? [`${model.name} ${model.version} `, h('span', { class: 'mono muted', title: model.sha256 }, model.sha256.slice(0, 12))] : 'not loaded'),
    h('dt', {}, 'Fields evaluated here'),
    h('dd', {}, partitionsText(p.predictor.partitions)),
  );
  const consumers = table(
    ['Spool consumer', 'Readings queued', 'Oldest'],
    (p.spool?.consumers ?? []).map((c) => [c.name, String(c.pending_readings), age(c.oldest_age_ms)]),
    'Spool not readable.',
  );
  return [facts, consumers];
}

/** Replace the page's sections with this snapshot. */
export function renderStatus(doc, s) {
  const nowMs = Date.parse(s.generated_at);
  doc.getElementById('summary').replaceChildren(...summary(s));
  doc.getElementById('fields').replaceChildren(...(s.fields.length ? s.fields.map((f) => fieldCard(f, nowMs)) : [h('p', { class: 'muted' }, 'No fields yet. Add one with fieldhook fields add.')]));
  doc.getElementById('fleet').replaceChildren(fleet(s, nowMs));
  doc.getElementById('subscriptions').replaceChildren(subscriptions(s, nowMs));
  doc.getElementById('pipeline').replaceChildren(...pipeline(s, nowMs));
  const problems = s.problems.map((p) => `${p.section}: ${p.message}`);
  return problems;
}
