/**
 * `fieldhook doctor`: what a person checks before asking why no advice comes. Each check is a
 * small function that answers ok, warn (works, but look), fail (fieldhook cannot work so) or skip
 * (does not apply), with what to do about it. Checks never change anything a pipeline relies on:
 * InfluxDB gets the same empty write and read as the start-up check.
 */
import { statfsSync, existsSync, readFileSync, statSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { PIPELINE_CONFIG } from '../host/config.js';
import type { PipelineConfig } from '../host/fieldhook.js';
import { createModelHolder } from '../predictor/model-holder.js';
import { resolveModelPath } from '../predictor/model-path.js';
import { loadConfig } from '../shared/config.js';
import { checkInfluxServer, detectInfluxServer } from '../shared/influx-server.js';
import { silentLogger } from '../shared/logger.js';
import { readPipelineRecord, isRunning, type PipelineRecord } from './local-pipeline.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do, when something is to be done. */
  fix?: string;
}

export const DEFAULT_DOCTOR_OPTIONS = {
  /** Per network question, ms. */
  timeoutMs: 3_000,
  /** Clock skew against InfluxDB that is worth a warning, and one that fails (device times are stored as sent), ms. */
  skewWarnMs: 5_000,
  skewFailMs: 120_000,
  /** A certificate expiring sooner than this is worth a warning, ms. */
  certWarnMs: 14 * 86_400_000,
} as const;

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });
const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

function checkPipeline(config: PipelineConfig, record: PipelineRecord | undefined): CheckResult {
  if (!record) return skip('pipeline', `fieldhook start has not run on ${config.DATA_DIR}`);
  if (!isRunning(record)) return warn('pipeline', `not running (last started ${record.startedAt}, pid ${record.pid})`, 'run fieldhook start');
  return ok('pipeline', `running since ${record.startedAt} (pid ${record.pid}) at ${record.httpUrl}`);
}

/** Node's codes for a certificate chain it cannot trust (not an expired or misnamed one, which a CA does not mend). */
const UNTRUSTED_CERTIFICATE = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);

async function checkReadiness(record: PipelineRecord | undefined): Promise<CheckResult> {
  if (!record || !isRunning(record)) return skip('readiness', 'no running pipeline on this data folder');
  try {
    const res = await fetch(new URL('/readyz', record.httpUrl), { signal: AbortSignal.timeout(DEFAULT_DOCTOR_OPTIONS.timeoutMs) });
    const body = await res.text();
    if (res.ok) return ok('readiness', `${record.httpUrl}/readyz answers ${res.status}`);
    return fail('readiness', `${record.httpUrl}/readyz answers ${res.status}: ${body.slice(0, 300)}`, 'the failing part is named above; its log says why');
  } catch (err) {
    // fetch says only "fetch failed"; why is in its cause (refused, timed out, a certificate not trusted).
    const cause = (err as Error & { cause?: Error & { code?: string } }).cause;
    const why = cause?.message ?? (err as Error).message;
    if (UNTRUSTED_CERTIFICATE.has(cause?.code ?? '')) {
      return fail('readiness', `${record.httpUrl} does not answer: ${why}`, 'the pipeline serves HTTPS with a certificate this command does not trust: give it the CA, e.g. NODE_EXTRA_CA_CERTS=<the certificate file>');
    }
    return fail('readiness', `${record.httpUrl} does not answer: ${why}`, 'is fieldhook still starting, or stuck? See its log');
  }
}

async function checkInflux(config: PipelineConfig, url: string | undefined): Promise<CheckResult[]> {
  if (!url) {
    return [
      skip('influxdb', 'no FIELDHOOK_INFLUX_URL and no running pipeline: fieldhook start runs a local InfluxDB 1.8'),
      skip('clock', 'no InfluxDB to compare with'),
    ];
  }
  const target = { url, token: config.INFLUX_TOKEN, org: config.INFLUX_ORG, bucket: config.INFLUX_BUCKET };
  const options = { timeoutMs: DEFAULT_DOCTOR_OPTIONS.timeoutMs };
  const server = await detectInfluxServer(target, options);
  if (!server) {
    return [
      fail('influxdb', `${url} does not answer /ping`, 'start InfluxDB, or set FIELDHOOK_INFLUX_URL to the one fieldhook should write to'),
      skip('clock', 'no InfluxDB to compare with'),
    ];
  }
  const report = await checkInfluxServer(target, { ...options, server });
  const name = `InfluxDB ${server.kind}${server.version && server.version !== 'unknown' ? ` ${server.version}` : ''}${server.build ? ` (${server.build})` : ''} at ${url}`;
  const influx =
    report.problems.length === 0
      ? ok('influxdb', `${name}: write and query with these settings work`)
      : fail('influxdb', `${name}: ${report.problems.map((p) => p.message).join('; ')}`, `change ${[...new Set(report.problems.map((p) => `FIELDHOOK_${p.setting}`))].join(', ')}`);
  return [influx, await checkClock(url)];
}

/** Skew from InfluxDB's `Date` header (1 s resolution), halfway through the round trip. */
async function checkClock(url: string): Promise<CheckResult> {
  try {
    const before = Date.now();
    const res = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(DEFAULT_DOCTOR_OPTIONS.timeoutMs) });
    await res.body?.cancel();
    const after = Date.now();
    const theirs = Date.parse(res.headers.get('date') ?? '');
    if (Number.isNaN(theirs)) return skip('clock', 'InfluxDB sent no Date header');
    // The header is truncated to the second: its time lies within [theirs, theirs + 1 s).
    const skew = (before + after) / 2 - (theirs + 500);
    const detail = `this machine is ${Math.abs(skew / 1000).toFixed(1)} s ${skew >= 0 ? 'ahead of' : 'behind'} InfluxDB`;
    if (Math.abs(skew) >= DEFAULT_DOCTOR_OPTIONS.skewFailMs) return fail('clock', detail, 'synchronise both clocks (NTP, e.g. systemd-timesyncd or chrony): freshness checks and time ranges compare them');
    if (Math.abs(skew) >= DEFAULT_DOCTOR_OPTIONS.skewWarnMs) return warn('clock', detail, 'synchronise both clocks (NTP)');
    return ok('clock', `${detail} (within ±1 s of resolution)`);
  } catch (err) {
    return skip('clock', `InfluxDB did not answer: ${(err as Error).message}`);
  }
}

/** CONNECT and wait for CONNACK: a refusal of the login still proves an MQTT broker answers. */
async function checkBroker(config: PipelineConfig, record: PipelineRecord | undefined): Promise<CheckResult> {
  const url = config.MQTT_URL ?? (record && isRunning(record) ? record.mqttUrl : undefined);
  if (!url) return skip('broker', 'no FIELDHOOK_MQTT_URL and no running pipeline: fieldhook start embeds a broker');
  const shown = url.replace(/\/\/[^@/]*@/, '//');
  return new Promise<CheckResult>((done) => {
    const client = mqtt.connect(url, {
      ...(config.MQTT_URL && config.MQTT_USERNAME ? { username: config.MQTT_USERNAME } : {}),
      ...(config.MQTT_URL && config.MQTT_PASSWORD ? { password: config.MQTT_PASSWORD } : {}),
      clientId: `fieldhook-doctor-${process.pid}`,
      reconnectPeriod: 0,
      connectTimeout: DEFAULT_DOCTOR_OPTIONS.timeoutMs,
      protocolVersion: 4,
    });
    const finish = (result: CheckResult) => {
      client.end(true);
      done(result);
    };
    client.once('connect', () => finish(ok('broker', `${shown} accepts the login`)));
    client.once('error', (err: Error & { code?: number | string }) => {
      if (typeof err.code === 'number') {
        // CONNACK with a refusal: the broker answers; without credentials that is expected.
        const detail = `${shown} answers MQTT (login refused: ${err.message})`;
        finish(config.MQTT_URL ? fail('broker', detail, 'check FIELDHOOK_MQTT_USERNAME and FIELDHOOK_MQTT_PASSWORD') : ok('broker', detail));
      } else {
        finish(fail('broker', `${shown}: ${err.message}`, 'start the broker, or fix FIELDHOOK_MQTT_URL'));
      }
    });
    client.once('close', () => finish(fail('broker', `${shown} closed the connection`, 'is it an MQTT broker? Check FIELDHOOK_MQTT_URL')));
  });
}

async function checkModel(config: PipelineConfig): Promise<CheckResult> {
  if (!config.PREDICT_ENABLED) return skip('model', 'the predictor is off (FIELDHOOK_PREDICT_ENABLED=false)');
  const modelPath = resolveModelPath(config.PREDICT_MODEL_PATH);
  const cardPath = resolveModelPath(config.PREDICT_MODEL_CARD_PATH);
  const holder = createModelHolder({ modelPath, cardPath, pollMs: config.PREDICT_MODEL_POLL_MS }, silentLogger());
  try {
    await holder.start();
    const { identity } = holder.current();
    return ok('model', `${identity.name} ${identity.version} (sha256 ${identity.sha256.slice(0, 12)}…) matches its card ${cardPath}`);
  } catch (err) {
    return fail('model', `${modelPath}: ${(err as Error).message}`, 'restore the shipped model (models/irrigation) or point FIELDHOOK_PREDICT_MODEL_PATH and FIELDHOOK_PREDICT_MODEL_CARD_PATH at a model and its card');
  } finally {
    await holder.stop().catch(() => {});
  }
}

/** Free space where DATA_DIR lives against the spool's budget. */
function checkDisk(config: PipelineConfig): CheckResult {
  let dir = resolve(config.DATA_DIR);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const spoolPath = join(config.DATA_DIR, 'spool.db');
  const used = existsSync(spoolPath) ? statSync(spoolPath).size : 0;
  const budget = config.SPOOL_BUDGET_BYTES;
  const mb = (b: number) => `${Math.round(b / 1_048_576).toLocaleString('en')} MB`;
  const detail = `${mb(free)} free at ${dir}; spool ${mb(used)} of its ${mb(budget)} budget`;
  if (free < budget - used) {
    return (free < 0.1 * budget ? fail : warn)('disk', detail, 'free disk space, or lower FIELDHOOK_SPOOL_BUDGET_BYTES so the spool refuses (503) before the disk is full');
  }
  return ok('disk', detail);
}

function checkTls(config: PipelineConfig, now = Date.now()): CheckResult {
  const { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } = config;
  if (!certFile && !keyFile) return skip('tls', 'not configured: HTTP and MQTT without TLS (fine on loopback or behind a proxy)');
  if (!certFile || !keyFile) return fail('tls', 'only one of the certificate and the key is set', 'set both FIELDHOOK_TLS_CERT_FILE and FIELDHOOK_TLS_KEY_FILE');
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const key = createPrivateKey(readFileSync(keyFile));
    if (!cert.checkPrivateKey(key)) return fail('tls', `${keyFile} is not the key of ${certFile}`, 'use the key the certificate was issued for');
    const validTo = Date.parse(cert.validTo);
    const subject = cert.subject.replace(/\n/g, ', ');
    if (validTo <= now) return fail('tls', `${certFile} (${subject}) expired ${cert.validTo}`, 'renew the certificate');
    if (Date.parse(cert.validFrom) > now) return fail('tls', `${certFile} is not valid before ${cert.validFrom}`, 'check the clock, or the certificate');
    if (validTo - now < DEFAULT_DOCTOR_OPTIONS.certWarnMs) return warn('tls', `${certFile} (${subject}) expires ${cert.validTo}`, 'renew the certificate soon');
    return ok('tls', `${certFile} (${subject}) valid until ${cert.validTo}; the key matches`);
  } catch (err) {
    return fail('tls', (err as Error).message, 'FIELDHOOK_TLS_CERT_FILE and FIELDHOOK_TLS_KEY_FILE must be readable PEM files');
  }
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

/** Run every check against the settings of this environment (and the pipeline of its data folder). */
export async function runDoctor(env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  let config: PipelineConfig;
  try {
    config = loadConfig(PIPELINE_CONFIG, env);
  } catch (err) {
    const checks = [fail('config', (err as Error).message, 'fix the settings named above (fieldhook config table lists them all)')];
    return { ok: false, checks };
  }
  const record = readPipelineRecord(config.DATA_DIR);
  const running = record && isRunning(record) ? record : undefined;
  const checks: CheckResult[] = [
    ok('config', `valid; DATA_DIR ${resolve(config.DATA_DIR)}`),
    checkPipeline(config, record),
    await checkReadiness(record),
    ...(await checkInflux(config, config.INFLUX_URL ?? running?.influxUrl)),
    await checkBroker(config, record),
    await checkModel(config),
    checkDisk(config),
    checkTls(config),
  ];
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: '--  ' };

/** The report as lines a person reads: one per check, the fix under it. */
export function formatDoctorReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = report.checks.flatMap((c) => [`${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`, ...(c.fix ? [`      ${' '.repeat(width)}  fix: ${c.fix}`] : [])]);
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  lines.push('', report.ok ? 'fieldhook doctor: nothing failed' : `fieldhook doctor: ${failed} check${failed === 1 ? '' : 's'} failed`);
  return lines.join('\n');
}
