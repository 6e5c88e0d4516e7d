import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { describeConfig, loadConfig } from '../../../services/shared/config.js';

describe('configuration', () => {
  it('is documented in the README exactly as the schema defines it (regenerate: fieldhook config table)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(table).toBe(describeConfig(PIPELINE_CONFIG));
  });

  it('validates at start-up with a stable code naming the variable', () => {
    expect(() => loadConfig(PIPELINE_CONFIG, { FIELDHOOK_HTTP_PORT: 'eighty' })).toThrow(/FIELDHOOK_HTTP_PORT/);
    try {
      loadConfig(PIPELINE_CONFIG, { FIELDHOOK_INGEST_EXTRA_QUANTITIES: '{not json' });
      expect.unreachable();
    } catch (err) {
      expect((err as { code: string }).code).toBe('FH_ERR_CONFIG_INVALID');
      expect((err as Error).message).toContain('FIELDHOOK_INGEST_EXTRA_QUANTITIES: not JSON');
    }
    // A quantity the ingest path would refuse is refused here, so `config show` and `doctor` say so too.
    expect(() => loadConfig(PIPELINE_CONFIG, { FIELDHOOK_INGEST_EXTRA_QUANTITIES: '{"probe":{"unit":"x","min":5,"max":1}}' })).toThrow(
      'FIELDHOOK_INGEST_EXTRA_QUANTITIES.probe: Quantity probe needs finite min <= max',
    );
    expect(() => loadConfig(PIPELINE_CONFIG, { FIELDHOOK_INGEST_EXTRA_QUANTITIES: '{"soil_moisture":{"unit":"x","min":0,"max":1}}' })).toThrow(/soil_moisture is canonical/);
    // A share name with "/" is another filter (every reading lost in silence); "+" and "#" a refused subscription.
    for (const key of ['MQTT_GROUP', 'PREDICT_MQTT_GROUP', 'MQTT_CLIENT_ID_PREFIX', 'PREDICT_MQTT_CLIENT_ID']) {
      for (const value of ['a/b', 'a+b', 'a#', ' x']) expect(() => loadConfig(PIPELINE_CONFIG, { [`FIELDHOOK_${key}`]: value }), `${key}=${value}`).toThrow(`FIELDHOOK_${key}`);
      expect(loadConfig(PIPELINE_CONFIG, { [`FIELDHOOK_${key}`]: 'farm-7.ingest_a' })[key as 'MQTT_GROUP']).toBe('farm-7.ingest_a');
    }
    // InfluxDB would drop a field called time, and a field named like a tag hides the tag from every query.
    for (const name of ['time', 'device', 'farm', 'field']) {
      expect(() => loadConfig(PIPELINE_CONFIG, { FIELDHOOK_INGEST_EXTRA_QUANTITIES: `{"${name}":{"unit":"x","min":0,"max":10}}` }), name).toThrow(`${name} is a reserved name`);
    }
    expect(loadConfig(PIPELINE_CONFIG, { FIELDHOOK_INGEST_EXTRA_QUANTITIES: '{"sap_flow":{"unit":"g/h","min":0,"max":5000}}' }).INGEST_EXTRA_QUANTITIES).toEqual({
      sap_flow: { unit: 'g/h', min: 0, max: 5000 },
    });
    // A range the SSRF guard could not parse is refused here, not answered as 500 on every subscription later.
    expect(() => loadConfig(PIPELINE_CONFIG, { FIELDHOOK_WEBHOOK_ALLOW_CIDRS: '{"*":["10.0.0.0/33"]}' })).toThrow(/FIELDHOOK_WEBHOOK_ALLOW_CIDRS/);
    expect(loadConfig(PIPELINE_CONFIG, { FIELDHOOK_WEBHOOK_ALLOW_CIDRS: '{"*":["10.0.0.0/8","192.0.2.7"]}' }).WEBHOOK_ALLOW_CIDRS).toEqual({ '*': ['10.0.0.0/8', '192.0.2.7'] });
  });

  it('reads a JSON file and lets the environment win over it', () => {
    const file = JSON.stringify({ HTTP_PORT: 9000, INFLUX_BUCKET: 'from-file' });
    const config = loadConfig(PIPELINE_CONFIG, { FIELDHOOK_CONFIG_FILE: '/cfg.json', FIELDHOOK_HTTP_PORT: '9100' }, () => file);
    expect(config.HTTP_PORT).toBe(9100);
    expect(config.INFLUX_BUCKET).toBe('from-file');
    expect(config.DEDUP_WINDOW_MS).toBe(72 * 3_600_000);
  });
});
