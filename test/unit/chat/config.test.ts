import { describe, expect, it } from 'vitest';
import { CHAT_CONFIG } from '../../../services/chat/config.js';
import { loadConfig } from '../../../services/shared/config.js';

/** Chat settings are checked at start, so a typo fails the start instead of every chat request. */
describe('chat settings', () => {
  const load = (env: Record<string, string>) => loadConfig(CHAT_CONFIG, env);
  const refusal = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (err) {
      return err as { code: string; message: string };
    }
    return expect.unreachable('accepted');
  };

  it('refuses a time zone this runtime does not know, and a locale without a catalog, with FH_ERR_CONFIG_INVALID', () => {
    expect(refusal({ FIELDHOOK_CHAT_TIME_ZONE: 'Europe/Jerusalem' })).toMatchObject({ code: 'FH_ERR_CONFIG_INVALID', message: expect.stringContaining('FIELDHOOK_CHAT_TIME_ZONE') });
    expect(refusal({ FIELDHOOK_CHAT_LOCALE: 'xx' })).toMatchObject({ code: 'FH_ERR_CONFIG_INVALID', message: expect.stringContaining('FIELDHOOK_CHAT_LOCALE') });
  });

  it('takes IANA zones and the catalog\'s locales, and defaults to en in UTC', () => {
    expect(load({ FIELDHOOK_CHAT_TIME_ZONE: 'Asia/Jerusalem', FIELDHOOK_CHAT_LOCALE: 'he' })).toMatchObject({ CHAT_TIME_ZONE: 'Asia/Jerusalem', CHAT_LOCALE: 'he' });
    expect(load({})).toMatchObject({ CHAT_TIME_ZONE: 'UTC', CHAT_LOCALE: 'en' });
  });
});
