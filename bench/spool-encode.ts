/**
 * `npx tsx bench/spool-encode.ts`: what preparing a spool append costs per reading
 * (`encodeAppend`: the record's columns, built where the readings were parsed) and how many bytes
 * a reading adds to the spool, next to the encoder that also stored each reading's own JSON for
 * dead letters (the baseline, kept here only for this comparison). Requests of 100 readings of
 * the shape `bench/ingest.ts` sends, from BENCH_DEVICES (default 50) devices; BENCH_READINGS
 * (default 200000) per round, BENCH_ROUNDS (default 7) rounds alternating the two, median shown.
 * The copy between threads (`postMessage`) is measured as `structuredClone`.
 */
import type { NormalizedReading } from '../services/ingestor/reading.js';
import type { AppendRequest } from '../services/ingestor/spool/spool.js';
import { devicePartsOf, isoTime, nameSetOf } from '../services/ingestor/spool/reading-parts.js';
import { encodeAppend, type EncodedAppend } from '../services/ingestor/spool/spool-store.js';

const READINGS = Number(process.env.BENCH_READINGS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const BATCH = 100;
const BASE_TS = Date.UTC(2026, 6, 6);

const requests: AppendRequest[] = [];
for (let i = 0; i < READINGS; i += BATCH) {
  const readings: NormalizedReading[] = [];
  for (let k = i; k < i + BATCH; k++) {
    const d = k % DEVICES;
    readings.push({
      device: `b-${d}`, farm: 'farm-1', field: `field-${d % 5}`, id: `r-${k}`, ts: BASE_TS + k,
      values: { soil_moisture: 0.2 + (k % 100) / 1000, soil_temperature: 15 + (k % 10), battery_voltage: 3.7, rssi: -70 },
    });
  }
  requests.push({ readings, correlationId: `c-${i}` });
}

/** Bytes a record's columns add to the spool, as the store counts them. */
function storedBytes(e: EncodedAppend & { readings?: string }): number {
  // The stored readings column is the JSON array of the newline-separated readings.
  const readings = e.readings === undefined ? 0 : Buffer.byteLength(e.readings) + 2;
  return readings + Buffer.byteLength(e.lines) + Buffer.byteLength(e.bus) + Buffer.byteLength(e.topics);
}

interface Round { encodeUs: number; copyUs: number; bytes: number }

function round(encode: (r: AppendRequest) => EncodedAppend): Round {
  // Each append is encoded, copied and dropped, as the ingestor does: nothing piles up for GC.
  let encodeMs = 0;
  let copyMs = 0;
  let bytes = 0;
  for (const request of requests) {
    const t0 = performance.now();
    const e = encode(request);
    const t1 = performance.now();
    structuredClone(e);
    copyMs += performance.now() - t1;
    encodeMs += t1 - t0;
    bytes += storedBytes(e);
  }
  return { encodeUs: (encodeMs * 1000) / READINGS, copyUs: (copyMs * 1000) / READINGS, bytes: bytes / READINGS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Run once the whole module is loaded: the baseline's caches below must exist first. */
function main(): void {
  const runs = { baseline: [] as Round[], current: [] as Round[] };
  round(baselineEncodeAppend);
  round(encodeAppend);
  for (let i = 0; i < ROUNDS; i++) {
    runs.baseline.push(round(baselineEncodeAppend));
    runs.current.push(round(encodeAppend));
  }
  const row = (name: string, rs: Round[], base: Round[]) => {
    const [e, c, b] = [median(rs.map((r) => r.encodeUs)), median(rs.map((r) => r.copyUs)), rs[0]!.bytes];
    const [be, bc, bb] = [median(base.map((r) => r.encodeUs)), median(base.map((r) => r.copyUs)), base[0]!.bytes];
    return `| ${name} | ${e.toFixed(3)} (${((e / be - 1) * 100).toFixed(0)} %) | ${c.toFixed(3)} (${((c / bc - 1) * 100).toFixed(0)} %) | ${(e + c).toFixed(3)} (${((e + c) / (be + bc) * 100 - 100).toFixed(0)} %) | ${b.toFixed(0)} (${((b / bb - 1) * 100).toFixed(0)} %) |`;
  };
  console.log(`${READINGS} readings in requests of ${BATCH}, ${DEVICES} devices, median of ${ROUNDS} rounds (Node ${process.version})`);
  console.log('| encoder | encode µs/reading | copy µs/reading | together | bytes spooled/reading |\n|---|---|---|---|---|');
  console.log(row('readings JSON stored too (baseline)', runs.baseline, runs.baseline));
  console.log(row('bus JSON only (current)', runs.current, runs.baseline));
}

// ---- The baseline: encodeAppend as it was while each record also kept its readings' JSON. ----

function baselineEncodeAppend(request: AppendRequest): EncodedAppend & { readings: string } {
  const { readings, correlationId } = request;
  const n = readings.length;
  const tail = `,"correlation_id":${JSON.stringify(correlationId)}}`;
  // One string per reading and column, joined once: `+=` over a whole column made a chain of
  // partial strings per reading that postMessage then had to flatten (half the encoding's time).
  const json = new Array<string>(n);
  const bus = new Array<string>(n);
  const lines = new Array<string>(n);
  const topics = new Array<string>(n);
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const r = readings[i]!;
    const parts = devicePartsOf(r);
    const names = Object.keys(r.values);
    const set = nameSetOf(names);
    // Each value is turned into text once, for the JSON (names in the reading's order) and the
    // line (sorted): String(x) is JSON.stringify(x) for every finite number.
    let values = '';
    for (let k = 0; k < names.length; k++) values += set.jsonKeys[k]! + (valueText[k] = String(r.values[names[k]!]));
    values += '}';
    let fields = '';
    for (let k = 0; k < names.length; k++) fields += set.lineKeys[k]! + valueText[set.lineOrder[k]!]!;
    const idJson = r.id !== undefined ? JSON.stringify(r.id) : undefined;
    const head = idJson !== undefined ? `${parts.json},"id":${idJson}` : parts.json;
    // The result is what JSON.stringify gives for the reading and for toBusReading(reading).
    json[i] = `${head},"ts":${r.ts},"values":${values}}`;
    bus[i] = `${head},"ts":"${isoTime(r.ts)}","values":${values}${tail}`;
    lines[i] = `${parts.line} ${fields} ${r.ts}`;
    topics[i] = parts.topic;
    // dedupKey(r) as JSON: `"i:` + the id's JSON after its opening quote, or `"t:<ts>"`.
    keys[i] = `[${parts.deviceJson},${idJson !== undefined ? `"i:${idJson.slice(1)}` : `"t:${r.ts}"`}]`;
  }
  return {
    correlationId,
    readings: json.join('\n'),
    lines: lines.join('\n'),
    topics: topics.join('\n'),
    bus: bus.join('\n'),
    keys: `[${keys.join(',')}]`,
    ...(request.onceKey ? { onceKey: request.onceKey } : {}),
  };
}

/** The text of each value of the reading being encoded (reused: one encoding runs at a time). */
const valueText: string[] = [];


main();
