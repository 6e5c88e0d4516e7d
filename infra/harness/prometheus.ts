import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startProcess, waitUntil, type ManagedProcess } from './process.js';
import { ensureDebianTool, type Log } from './debian.js';

const CANDIDATES = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'];

function findPrometheus(): string | undefined {
  if (process.env.FIELDHOOK_PROMETHEUS_BIN) return process.env.FIELDHOOK_PROMETHEUS_BIN;
  return CANDIDATES.find((p) => existsSync(p));
}

/** Prometheus from Debian: installed with apt-get when missing (as root, or through sudo). */
export function ensurePrometheus(log?: Log): string {
  return ensureDebianTool({ name: 'Prometheus', packages: ['prometheus'], find: findPrometheus }, log);
}

export interface PrometheusTarget {
  /** Scrape job name; becomes the `job` label. */
  job: string;
  /** `host:port` of the process serving the metrics. */
  address: string;
  /** Default `/metrics`. */
  metricsPath?: string;
}

export interface StartPrometheusOptions {
  /** Configuration and TSDB live here (throw-away). */
  dir: string;
  targets: readonly PrometheusTarget[];
  /** Scrape interval, ms. Default 1 000: a test sees a counter move within seconds. */
  scrapeIntervalMs?: number;
  port?: number;
}

export const DEFAULT_PROMETHEUS_OPTIONS = { scrapeIntervalMs: 1_000 } as const;

export interface RunningPrometheus {
  url: string;
  port: number;
  scrapeIntervalMs: number;
  process: ManagedProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Start Prometheus on loopback, scraping the given targets, with its TSDB in `dir`. Resolves once
 * `/-/ready` answers 200 (the TSDB is open and the scrape manager runs).
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binary = ensurePrometheus();
  const port = options.port ?? (await freePort());
  const scrapeIntervalMs = options.scrapeIntervalMs ?? DEFAULT_PROMETHEUS_OPTIONS.scrapeIntervalMs;
  mkdirSync(options.dir, { recursive: true });
  const configFile = join(options.dir, 'prometheus.yml');
  // JSON is YAML: no YAML writer needed, and every string is quoted.
  const config = {
    global: { scrape_interval: `${scrapeIntervalMs}ms`, scrape_timeout: `${scrapeIntervalMs}ms`, evaluation_interval: `${scrapeIntervalMs}ms` },
    scrape_configs: options.targets.map((t) => ({
      job_name: t.job,
      metrics_path: t.metricsPath ?? '/metrics',
      static_configs: [{ targets: [t.address] }],
    })),
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    process.env,
  );
  try {
    await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, 20_000, 'Prometheus');
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  return { url, port, scrapeIntervalMs, process: proc, stop: (signal) => proc.stop(signal) };
}
