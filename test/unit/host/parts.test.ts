import { describe, expect, it } from 'vitest';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { selectParts } from '../../../services/host/parts.js';
import { loadConfig } from '../../../services/shared/config.js';

const apart = { FIELDHOOK_MQTT_URL: 'mqtt://broker:1883', FIELDHOOK_INFLUX_URL: 'http://influxdb:8086' };
const load = (env: Record<string, string>) => loadConfig(PIPELINE_CONFIG, env);
const refusal = (fn: () => unknown): { code: string; message: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string };
  }
  return expect.unreachable('not refused');
};

describe('part selection (FIELDHOOK_PARTS, fieldhook start --parts)', () => {
  it('runs every part by default, on the embedded broker and a local InfluxDB as before', () => {
    const config = load({});
    expect(config.PARTS).toEqual(['ingestor', 'predictor', 'dispatcher']);
    expect(selectParts(config)).toEqual({ ingestor: true, predictor: true, dispatcher: true, all: true, influx: true });
  });

  it('reads a list in any order and with spaces, keeping the canonical order', () => {
    expect(load({ ...apart, FIELDHOOK_PARTS: ' predictor , ingestor' }).PARTS).toEqual(['ingestor', 'predictor']);
    expect(load({ FIELDHOOK_PARTS: 'dispatcher,ingestor,predictor' }).PARTS).toEqual(['ingestor', 'predictor', 'dispatcher']);
  });

  it('reads the list a config file gives as an array, the form `config show` prints', () => {
    const fromFile = (file: object) => loadConfig(PIPELINE_CONFIG, { ...apart, FIELDHOOK_CONFIG_FILE: '/cfg.json' }, () => JSON.stringify(file));
    expect(fromFile({ PARTS: ['predictor', 'ingestor'] }).PARTS).toEqual(['ingestor', 'predictor']);
    expect(fromFile(loadConfig(PIPELINE_CONFIG, {})).PARTS).toEqual(['ingestor', 'predictor', 'dispatcher']);
    expect(refusal(() => fromFile({ PARTS: ['ingestor', 'bogus'] })).message).toContain('unknown part "bogus"');
  });

  it('refuses an unknown part by name, with the known ones, as a configuration error', () => {
    const err = refusal(() => load({ FIELDHOOK_PARTS: 'ingestor,predicter' }));
    expect(err.code).toBe('FH_ERR_CONFIG_INVALID');
    expect(err.message).toContain('FIELDHOOK_PARTS: unknown part "predicter" (known: ingestor, predictor, dispatcher)');
    expect(refusal(() => load({ FIELDHOOK_PARTS: 'ingestor,,dispatcher' })).message).toContain('unknown part ""');
  });

  it('runs each part alone against an external broker and InfluxDB', () => {
    expect(selectParts(load({ ...apart, FIELDHOOK_PARTS: 'ingestor' }))).toEqual({ ingestor: true, predictor: false, dispatcher: false, all: false, influx: true });
    expect(selectParts(load({ ...apart, FIELDHOOK_PARTS: 'predictor' }))).toEqual({ ingestor: false, predictor: true, dispatcher: false, all: false, influx: true });
    // A dispatcher alone never touches InfluxDB: it needs none.
    expect(selectParts(load({ FIELDHOOK_MQTT_URL: 'mqtt://broker:1883', FIELDHOOK_PARTS: 'dispatcher' }))).toEqual({
      ingestor: false, predictor: false, dispatcher: true, all: false, influx: false,
    });
  });

  it('refuses parts apart without an external broker: the embedded one serves only its own process', () => {
    const err = refusal(() => selectParts(load({ FIELDHOOK_INFLUX_URL: 'http://influxdb:8086', FIELDHOOK_PARTS: 'predictor' })));
    expect(err.code).toBe('FH_ERR_CONFIG_INVALID');
    expect(err.message).toMatch(/FIELDHOOK_PARTS: predictor runs apart .* set FIELDHOOK_MQTT_URL/);
  });

  it('refuses an ingestor or predictor apart without the shared InfluxDB (each would start a local one)', () => {
    const err = refusal(() => selectParts(load({ FIELDHOOK_MQTT_URL: 'mqtt://broker:1883', FIELDHOOK_PARTS: 'ingestor,dispatcher' })));
    expect(err.message).toMatch(/ingestor,dispatcher runs apart .* set FIELDHOOK_INFLUX_URL/);
  });

  it('names every problem at once', () => {
    const err = refusal(() => selectParts(load({ FIELDHOOK_PARTS: 'predictor', FIELDHOOK_PREDICT_ENABLED: 'false' })));
    expect((err as unknown as { details: { problems: string[] } }).details.problems).toHaveLength(2);
  });

  it('refuses a predictor chosen and disabled at once; with every part, PREDICT_ENABLED=false leaves it out as before', () => {
    expect(refusal(() => selectParts(load({ ...apart, FIELDHOOK_PARTS: 'ingestor,predictor', FIELDHOOK_PREDICT_ENABLED: 'false' }))).message).toContain(
      'names predictor (ingestor,predictor) while FIELDHOOK_PREDICT_ENABLED=false',
    );
    expect(selectParts(load({ FIELDHOOK_PREDICT_ENABLED: 'false' }))).toMatchObject({ ingestor: true, predictor: false, dispatcher: true, all: true });
  });
});
