import { describe, expect, it } from 'vitest';
import { SLACK_TIMESTAMP_TOLERANCE_S, slackSignature, verifySlackRequest, verifyTelegramSecret } from '../../../services/chat/verify.js';

// Slack's own worked example: https://api.slack.com/authentication/verifying-requests-from-slack
const SLACK_DOC = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
const at = Number(SLACK_DOC.timestamp) * 1000;
const codeOf = (fn: () => void) => {
  try {
    fn();
    return 'verified';
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('Slack request signatures', () => {
  it('computes the signature of Slack\'s documented example and accepts it', () => {
    expect(slackSignature(SLACK_DOC.signingSecret, SLACK_DOC.timestamp, SLACK_DOC.body)).toBe(SLACK_DOC.signature);
    expect(codeOf(() => verifySlackRequest(SLACK_DOC.signingSecret, SLACK_DOC, Buffer.from(SLACK_DOC.body), at + 60_000))).toBe('verified');
  });

  it('refuses a forged, tampered, stale, future, malformed or missing signature', () => {
    const verify = (headers: { signature?: string; timestamp?: string }, body = SLACK_DOC.body, now = at, secret = SLACK_DOC.signingSecret) =>
      codeOf(() => verifySlackRequest(secret, headers, Buffer.from(body), now));
    expect(verify({ ...SLACK_DOC, signature: slackSignature('another-secret', SLACK_DOC.timestamp, SLACK_DOC.body) })).toBe('FH_ERR_CHAT_SIGNATURE_INVALID');
    expect(verify(SLACK_DOC, SLACK_DOC.body.replace('roadrunner', 'coyote'))).toBe('FH_ERR_CHAT_SIGNATURE_INVALID');
    expect(verify({ ...SLACK_DOC, signature: SLACK_DOC.signature.toUpperCase() })).toBe('FH_ERR_CHAT_SIGNATURE_INVALID');
    expect(verify({ ...SLACK_DOC, signature: 'v0=' })).toBe('FH_ERR_CHAT_SIGNATURE_INVALID');
    expect(verify(SLACK_DOC, SLACK_DOC.body, at + (SLACK_TIMESTAMP_TOLERANCE_S + 1) * 1000)).toBe('FH_ERR_CHAT_SIGNATURE_STALE');
    expect(verify(SLACK_DOC, SLACK_DOC.body, at - (SLACK_TIMESTAMP_TOLERANCE_S + 1) * 1000)).toBe('FH_ERR_CHAT_SIGNATURE_STALE');
    expect(verify(SLACK_DOC, SLACK_DOC.body, at + SLACK_TIMESTAMP_TOLERANCE_S * 1000)).toBe('verified');
    expect(verify({ ...SLACK_DOC, timestamp: '1531420618.5' })).toBe('FH_ERR_CHAT_SIGNATURE_STALE');
    expect(verify({ timestamp: SLACK_DOC.timestamp })).toBe('FH_ERR_CHAT_SIGNATURE_MISSING');
    expect(verify({ signature: SLACK_DOC.signature })).toBe('FH_ERR_CHAT_SIGNATURE_MISSING');
    expect(verify(SLACK_DOC, SLACK_DOC.body, at, '')).toBe('FH_ERR_CHAT_NOT_CONFIGURED');
  });
});

describe('Telegram secret token', () => {
  it('accepts only the configured token', () => {
    expect(codeOf(() => verifyTelegramSecret('s3cret_token-1', 's3cret_token-1'))).toBe('verified');
    expect(codeOf(() => verifyTelegramSecret('s3cret_token-1', 's3cret_token-2'))).toBe('FH_ERR_CHAT_SIGNATURE_INVALID');
    expect(codeOf(() => verifyTelegramSecret('s3cret_token-1', 's3cret_token-1x'))).toBe('FH_ERR_CHAT_SIGNATURE_INVALID');
    expect(codeOf(() => verifyTelegramSecret('s3cret_token-1', undefined))).toBe('FH_ERR_CHAT_SIGNATURE_MISSING');
    expect(codeOf(() => verifyTelegramSecret('s3cret_token-1', ['a', 'b']))).toBe('FH_ERR_CHAT_SIGNATURE_MISSING');
    expect(codeOf(() => verifyTelegramSecret(undefined, 'anything'))).toBe('FH_ERR_CHAT_NOT_CONFIGURED');
  });
});

describe('Slack response_url prefix', () => {
  it('admits URLs at or below the prefix, with or without its trailing slash, and nothing that only starts like it', async () => {
    const { underPrefix } = await import('../../../services/chat/slack-routes.js');
    expect(underPrefix('https://hooks.slack.com/commands/T0001/1/abc', 'https://hooks.slack.com/')).toBe(true);
    expect(underPrefix('https://hooks.slack.com/commands/T0001/1/abc', 'https://hooks.slack.com')).toBe(true);
    expect(underPrefix('https://hooks.slack.com/actions/x', 'https://hooks.slack.com/commands')).toBe(false);
    expect(underPrefix('https://hooks.slack.com/commandsx', 'https://hooks.slack.com/commands')).toBe(false);
    expect(underPrefix('https://hooks.slack.com.evil.example/commands/x', 'https://hooks.slack.com')).toBe(false);
    expect(underPrefix('https://user:pw@hooks.slack.com/commands/x', 'https://hooks.slack.com/')).toBe(false);
    expect(underPrefix('http://hooks.slack.com/commands/x', 'https://hooks.slack.com/')).toBe(false);
    expect(underPrefix('not a url', 'https://hooks.slack.com/')).toBe(false);
  });
});
