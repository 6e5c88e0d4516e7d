/**
 * The compose file, read as Docker Compose reads it (YAML with merge keys, `${VAR:-default}`
 * interpolated), checked for what scaling needs: every fieldhook part its own service, each
 * replica its own data folder and client ids, the control plane in PostgreSQL, every service
 * scraped by Prometheus, and each service's settings accepted by `fieldhook start`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { PARTS, selectParts } from '../../../services/host/parts.js';
import { loadConfig } from '../../../services/shared/config.js';

interface Service {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  container_name?: string;
  hostname?: string;
}

const read = (path: string) => readFileSync(new URL(`../../../infra/compose/${path}`, import.meta.url), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
/** Compose's interpolation, as far as the file uses it: `${X:-default}` and `${X:?message}` (set here). */
const interpolate = (value: string) => value.replace(/\$\{(\w+):([-?])([^}]*)\}/g, (_, name: string, kind: string, rest: string) => (kind === '-' ? rest : `${name.toLowerCase()}-set`));
const environment = (s: Service) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
/** The fieldhook services: the image built from this repository. */
const fieldhook = Object.entries(services).filter(([, s]) => s.build !== undefined);

describe('compose file', () => {
  it('runs each part as a service of its own, all parts between them', () => {
    const parts = Object.fromEntries(fieldhook.map(([name, s]) => [name, environment(s).FIELDHOOK_PARTS]));
    expect(parts).toEqual({ ingestor: 'ingestor', predictor: 'predictor', dispatcher: 'dispatcher' });
    expect(Object.values(parts).sort()).toEqual([...PARTS].sort());
  });

  it('gives every replica a data folder of its own: an anonymous volume at DATA_DIR, never a named one', () => {
    for (const [name, s] of fieldhook) {
      const dataDir = environment(s).FIELDHOOK_DATA_DIR;
      expect(dataDir, name).toBe('/data');
      const mounts = (s.volumes ?? []).filter((v) => v.split(':').at(1) === dataDir || v === dataDir);
      // `- /data` alone: Docker makes a new volume per container, so `--scale` never shares one.
      expect(mounts, `${name} mounts ${dataDir}`).toEqual([dataDir]);
    }
  });

  it('fixes nothing that replicas would share: no instance id, client id, container name, host name or single host port', () => {
    for (const [name, s] of fieldhook) {
      const env = environment(s);
      for (const key of ['FIELDHOOK_INSTANCE_ID', 'FIELDHOOK_MQTT_CLIENT_ID_PREFIX', 'FIELDHOOK_PREDICT_MQTT_CLIENT_ID']) expect(env[key], `${name} ${key}`).toBeUndefined();
      expect(s.container_name, name).toBeUndefined();
      // The default instance id is made from the host name: a fixed one would make replicas' ids alike.
      expect(s.hostname, name).toBeUndefined();
      // A range (or no host port) lets several replicas publish their HTTP port.
      for (const port of s.ports ?? []) expect(port, `${name} publishes ${port}`).toMatch(/^\d+-\d+:\d+$/);
    }
  });

  it('keeps the control plane in the PostgreSQL service, which every part waits for', () => {
    expect(services.postgres?.image).toMatch(/^postgres:/);
    const db = environment(services.postgres!);
    for (const [name, s] of fieldhook) {
      const url = new URL(environment(s).FIELDHOOK_DATABASE_URL!);
      expect(url.hostname, name).toBe('postgres');
      expect([url.username, decodeURIComponent(url.password), url.pathname], name).toEqual([db.POSTGRES_USER, db.POSTGRES_PASSWORD, `/${db.POSTGRES_DB}`]);
      expect(s.depends_on, name).toMatchObject({ postgres: { condition: 'service_healthy' } });
    }
  });

  it('meets on the Mosquitto and InfluxDB services, over MQTT 5', () => {
    expect(services.mosquitto?.image).toMatch(/^eclipse-mosquitto:2/);
    for (const [name, s] of fieldhook) {
      const env = environment(s);
      expect(new URL(env.FIELDHOOK_MQTT_URL!).hostname, name).toBe('mosquitto');
      expect(env.FIELDHOOK_MQTT_PROTOCOL_VERSION, name).toBe('5');
      expect(new URL(env.FIELDHOOK_INFLUX_URL!).hostname, name).toBe('influxdb');
    }
  });

  it('gives each service settings fieldhook start accepts, predictors sharing the fields automatically', () => {
    for (const [name, s] of fieldhook) {
      const config = loadConfig(PIPELINE_CONFIG, environment(s));
      expect(() => selectParts(config), name).not.toThrow();
    }
    // Replicas of the predictor service share the fields (`--scale predictor=n`): no partition set by hand.
    expect(environment(services.predictor!)).not.toHaveProperty('FIELDHOOK_PREDICT_PARTITIONS');
    expect(loadConfig(PIPELINE_CONFIG, environment(services.predictor!)).PREDICT_PARTITIONS).toBe('auto');
  });

  it('has Prometheus scrape every replica of every fieldhook service on its HTTP port', () => {
    expect(services.prometheus?.image).toMatch(/^prom\/prometheus:/);
    const prometheus = parse(read('prometheus/prometheus.yml')) as { scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[] };
    const sd = prometheus.scrape_configs.flatMap((job) => job.dns_sd_configs ?? []);
    for (const [name, s] of fieldhook) {
      const port = Number(environment(s).FIELDHOOK_HTTP_PORT ?? 8080);
      expect(sd.some((c) => c.names.includes(name) && c.port === port), `${name} scraped`).toBe(true);
    }
    expect(services.prometheus?.depends_on).toEqual(fieldhook.map(([name]) => name));
  });

  it('declares every named volume it mounts', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (v.includes(':') && !source.startsWith('.')) expect(compose.volumes, `${name}: ${v}`).toHaveProperty(source);
      }
    }
  });
});
