import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConversation, type FieldDirectory } from '../../../services/chat/conversation.js';
import { createSqliteChatUsers, type ChatUserRepository } from '../../../services/chat/users.js';
import type { IrrigationService } from '../../../services/irrigations/service.js';
import type { IrrigationRecord } from '../../../services/irrigations/record.js';

const NOW = Date.parse('2026-07-07T09:00:00Z');

describe('the chat conversation', () => {
  let users: ChatUserRepository;
  const recorded: { input: Record<string, unknown>; who: string; key: string | undefined }[] = [];
  const irrigations: IrrigationService = {
    async record(input, reporter, key) {
      const i = input as { farm: string; field: string; depth_mm: number };
      recorded.push({ input: i, who: reporter.who, key });
      const record: IrrigationRecord = { id: 'irr_000000000000000000000001', ...i, start: new Date(NOW).toISOString(), end: new Date(NOW).toISOString(), source: reporter.source, who: reporter.who, recorded_at: new Date(NOW).toISOString() };
      return { record, replayed: false };
    },
    list: async () => [],
  };
  const fields: FieldDirectory = {
    list: async (farms) =>
      [
        { farm: 'f1', field: 'north', advice: { depthMm: 18, startBy: NOW + 3_600_000, validUntil: NOW + 86_400_000 } },
        { farm: 'f1', field: 'south', advice: null },
        { farm: 'f2', field: 'north', advice: null },
      ].filter((f) => farms.includes(f.farm)),
    status: async (farm, field) =>
      field === 'north'
        ? // Evaluated by another instance's predictor (fields shared on PostgreSQL).
          { farm, field, advice: { depthMm: 18, startBy: NOW + 3_600_000, validUntil: NOW + 86_400_000 }, elsewhere: { instance: 'pred-b', partition: 7, savedAt: NOW - 300_000, recordedAt: NOW - 60_000 }, depletionMm: 50.04, rawMm: 54 }
        : { farm, field, advice: null, depletionMm: 41.04, rawMm: 54 },
  };
  const turn = (user: string, platform: 'slack' | 'telegram' = 'slack') => ({ platform, user, interactionId: `i-${recorded.length}` });

  beforeEach(async () => {
    users = createSqliteChatUsers(':memory:');
    await users.add('slack', 'U1', 'f1');
    await users.add('slack', 'U2', 'f1');
    await users.add('slack', 'U2', 'f2');
    recorded.length = 0;
  });
  afterEach(() => users.close());

  it('records "irrigated <field> <mm>" in the ways people write it, for the sender\'s farm', async () => {
    const c = createConversation({ users, fields, irrigations });
    for (const text of ['irrigated north 18', '/irrigated@fieldhook_bot north 18', 'Irrigated  north 18mm', 'irrigated north 18 mm', 'irrigated f1/north 18,0', 'irrigated F1/North 18']) {
      const reply = await c.answer(text, turn('U1'));
      expect(reply, text).toEqual({ text: expect.stringMatching(/^Recorded: North field irrigated 18 mm/), recorded: true });
    }
    expect(recorded.map((r) => r.input)).toEqual(Array(6).fill({ farm: 'f1', field: 'north', depth_mm: 18 }));
    expect(recorded[0]).toMatchObject({ who: 'slack:U1', key: 'slack:i-0' });
  });

  it('asks which farm when two of the user\'s farms have the field, and takes farm/field', async () => {
    const c = createConversation({ users, fields, irrigations });
    expect((await c.answer('irrigated north 5', turn('U2'))).text).toMatch(/f1\/north or f2\/north.*FH_ERR_CHAT_PAYLOAD_INVALID/);
    expect((await c.answer('irrigated f2/north 5', turn('U2'))).recorded).toBe(true);
    expect(recorded.map((r) => r.input.farm)).toEqual(['f2']);
    // A field the directory does not know is a typo, not a new field.
    expect((await c.answer('irrigated nroth 5', turn('U1'))).text).toMatch(/No field nroth in f1.*FH_ERR_CHAT_PAYLOAD_INVALID/);
    expect(recorded).toHaveLength(1);
  });

  it('takes the field as written when there is no directory of fields (no predictor)', async () => {
    const c = createConversation({ users, fields: { list: async () => [], status: async () => undefined }, irrigations });
    expect((await c.answer('irrigated orchard 5', turn('U1'))).recorded).toBe(true);
    expect((await c.answer('irrigated orchard 5', turn('U2'))).text).toMatch(/farm\/field.*FH_ERR_CHAT_PAYLOAD_INVALID/);
    expect((await c.answer('irrigated f2/orchard 5', turn('U2'))).recorded).toBe(true);
    expect(recorded.map((r) => r.input)).toEqual([{ farm: 'f1', field: 'orchard', depth_mm: 5 }, { farm: 'f2', field: 'orchard', depth_mm: 5 }]);
  });

  it('refuses users without the farm, in the reply, recording nothing', async () => {
    const c = createConversation({ users, fields, irrigations });
    expect((await c.answer('irrigated north 5', turn('U9'))).text).toContain('FH_ERR_CHAT_FARM_FORBIDDEN');
    expect((await c.answer('irrigated f2/north 5', turn('U1'))).text).toContain('FH_ERR_CHAT_FARM_FORBIDDEN');
    expect((await c.irrigated('f2', 'north', 5, turn('U1'))).text).toContain('FH_ERR_CHAT_FARM_FORBIDDEN');
    // A button of an old advice naming a field removed since records nothing either.
    expect((await c.irrigated('f1', 'removed-field', 5, turn('U1'))).text).toMatch(/No field removed-field in f1 any more.*FH_ERR_CHAT_PAYLOAD_INVALID/);
    expect((await c.answer('fields', turn('U1', 'telegram'))).text).toContain('FH_ERR_CHAT_FARM_FORBIDDEN');
    expect(recorded).toEqual([]);
  });

  it('lists fields with their advice and tells a field\'s water', async () => {
    const c = createConversation({ users, fields, irrigations });
    const list = (await c.answer('fields', turn('U1'))).text;
    expect(list.split('\n')).toEqual([expect.stringMatching(/^f1\/north: North field: irrigate 18 mm by \w+ 10:00; valid until/), 'f1/south: no advice']);
    expect((await c.answer('status south', turn('U1'))).text).toBe('f1/south: no advice\nf1/south: 41.0 mm of 54.0 mm readily available water used');
    // Evaluated elsewhere: the advice in force as its predictor saved it, and where it is assessed.
    expect((await c.answer('status north', turn('U1'))).text.split('\n')).toEqual([
      expect.stringMatching(/^f1\/north: North field: irrigate 18 mm by \w+ 10:00; valid until/),
      'f1/north: assessed on instance pred-b (partition 7), not here; advice as it saved it Tue, Jul 7, 08:55; 50.0 mm of 54.0 mm readily available water used as recorded Tue, Jul 7, 08:59',
    ]);
    expect((await c.answer('dance', turn('U1'))).text).toMatch(/^Try .fields.*\nfields: /s);
    expect((await c.answer('help', turn('U1'))).text).toMatch(/^fields: your fields/);
  });
});
