import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALL_DEVICE_IRRIGATIONS,
  ALL_DEVICE_READINGS,
  ALL_FIELD_IRRIGATIONS,
  ALL_FIELD_READINGS,
  ALL_TOPICS,
  ALL_DEVICE_FORECASTS,
  DEVICE_ACL_PATTERNS,
  deviceForecastsTopic,
  deviceOfForecastsTopic,
  EVENTS_TOPIC,
  deviceErrorsTopic,
  deviceIrrigationsTopic,
  deviceOfIrrigationsTopic,
  fieldIrrigationsTopic,
  deviceOfTopic,
  deviceReadingsTopic,
  fieldReadingsTopic,
  sessionDrainedTopic,
  sharedSubscription,
} from '../../../../services/shared/bus/topics.js';

const ROOT = join(import.meta.dirname, '../../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('bus topics', () => {
  it('are the published contract, spelled out', () => {
    // Devices, brokers' ACLs and other implementations depend on these exact strings.
    expect(deviceReadingsTopic('n-17')).toBe('fieldhook/v1/devices/n-17/readings');
    expect(deviceErrorsTopic('n-17')).toBe('fieldhook/v1/devices/n-17/errors');
    expect(fieldReadingsTopic('f1', 'north')).toBe('fieldhook/v1/farms/f1/fields/north/readings');
    expect(EVENTS_TOPIC).toBe('fieldhook/v1/events');
    expect(ALL_DEVICE_READINGS).toBe('fieldhook/v1/devices/+/readings');
    expect(ALL_FIELD_READINGS).toBe('fieldhook/v1/farms/+/fields/+/readings');
    expect(ALL_TOPICS).toBe('fieldhook/#');
    expect(deviceIrrigationsTopic('valve-1')).toBe('fieldhook/v1/devices/valve-1/irrigations');
    expect(fieldIrrigationsTopic('f1', 'north')).toBe('fieldhook/v1/farms/f1/fields/north/irrigations');
    expect(ALL_DEVICE_IRRIGATIONS).toBe('fieldhook/v1/devices/+/irrigations');
    expect(ALL_FIELD_IRRIGATIONS).toBe('fieldhook/v1/farms/+/fields/+/irrigations');
    expect(deviceOfIrrigationsTopic('fieldhook/v1/devices/valve-1/irrigations')).toBe('valve-1');
    expect(deviceOfIrrigationsTopic('fieldhook/v1/devices/valve-1/readings')).toBeUndefined();
    expect(deviceForecastsTopic('gw-1')).toBe('fieldhook/v1/devices/gw-1/forecasts');
    expect(ALL_DEVICE_FORECASTS).toBe('fieldhook/v1/devices/+/forecasts');
    expect(deviceOfForecastsTopic('fieldhook/v1/devices/gw-1/forecasts')).toBe('gw-1');
    expect(deviceOfForecastsTopic('fieldhook/v1/devices/gw-1/readings')).toBeUndefined();
    expect(sharedSubscription('g', ALL_DEVICE_READINGS)).toBe('$share/g/fieldhook/v1/devices/+/readings');
    // A leaving subscriber's marker to itself: under the ingestor login's ACL, one level per client id.
    expect(sessionDrainedTopic('fieldhook-ingest-a-0')).toBe('fieldhook/v1/sessions/fieldhook-ingest-a-0/drained');
    expect(sessionDrainedTopic('odd/+#id')).toBe('fieldhook/v1/sessions/odd___id/drained');
    expect(DEVICE_ACL_PATTERNS).toEqual([
      'pattern write fieldhook/v1/devices/%u/readings',
      'pattern write fieldhook/v1/devices/%u/irrigations',
      'pattern write fieldhook/v1/devices/%u/forecasts',
      'pattern read fieldhook/v1/devices/%u/errors',
    ]);
  });

  it('name the device of a readings topic and nothing else', () => {
    expect(deviceOfTopic('fieldhook/v1/devices/n-17/readings')).toBe('n-17');
    expect(deviceOfTopic('fieldhook/v1/devices/n-17/errors')).toBeUndefined();
    expect(deviceOfTopic('fieldhook/v1/devices/a/b/readings')).toBeUndefined();
    expect(deviceOfTopic('other/v1/devices/n-17/readings')).toBeUndefined();
  });

  it('are built only in the bus module: no other runtime source spells a topic or a shared subscription', () => {
    const offenders: string[] = [];
    for (const file of [...sourceFiles(join(ROOT, 'services')), ...sourceFiles(join(ROOT, 'bench'))]) {
      const rel = relative(ROOT, file);
      if (rel.startsWith(join('services', 'shared', 'bus'))) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\*|\/\*)/.test(line)) return; // prose in comments may name topics
          if (/['"`](fieldhook\/v1\/|fieldhook\/#|\$share\/)/.test(line)) offenders.push(`${rel}:${i + 1}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
