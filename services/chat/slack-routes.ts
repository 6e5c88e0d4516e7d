/**
 * `POST /v1/chat/slack`: Slack's slash command (`/fieldhook irrigated north 18`, form-encoded) and
 * its interactivity requests (`payload=` JSON, `block_actions`: the "irrigated" button of an
 * advice message), on one Request URL. Every request is verified against the signing secret over
 * its raw bytes before anything in it is read. A slash command is answered in the HTTP response;
 * a button click through its `response_url` (Slack ignores the response body of interactions).
 *
 * Payloads: https://api.slack.com/interactivity/slash-commands#app_command_handling and
 * https://api.slack.com/reference/interaction-payloads/block-actions
 */
import type { FastifyInstance } from 'fastify';
// The button the Slack format puts on an advice message: one name for both ends.
import { SLACK_IRRIGATED_ACTION } from '../dispatcher/formats/slack.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import { code } from '../shared/openapi.js';
import type { ChatReply, Conversation } from './conversation.js';
import { verifySlackRequest } from './verify.js';

/** A Slack request is a few kilobytes; nothing larger is read. */
const BODY_LIMIT_BYTES = 64 * 1024;

export interface SlackRoutesOptions {
  conversation: Conversation;
  signingSecret: string | undefined;
  /** `response_url`s must start with this (Slack's hooks host): the answer goes nowhere else. */
  responseUrlPrefix: string;
  now: () => number;
  logger: Logger;
}

interface BlockActions {
  type: 'block_actions';
  user?: { id?: string };
  trigger_id?: string;
  response_url?: string;
  /** The message the button sits on. */
  container?: { message_ts?: string; channel_id?: string };
  channel?: { id?: string };
  actions?: { action_id?: string; value?: string; action_ts?: string }[];
}

/** The advice message a button click answers (`<channel>:<message ts>`), when Slack says which. */
function messageOf(interaction: BlockActions): { message?: string } {
  const channel = interaction.container?.channel_id ?? interaction.channel?.id;
  const ts = interaction.container?.message_ts;
  return typeof channel === 'string' && typeof ts === 'string' ? { message: `${channel}:${ts}` } : {};
}

const slackMessage = (reply: ChatReply) => ({ response_type: reply.recorded ? 'in_channel' : 'ephemeral', text: reply.text });

/**
 * Whether `url` is at or below `prefix`: same origin, and a path under the prefix's path as whole
 * segments (a prefix `https://hooks.slack.com` must not admit `https://hooks.slack.com.evil.example/`).
 */
export function underPrefix(url: string, prefix: string): boolean {
  let u: URL;
  let p: URL;
  try {
    u = new URL(url);
    p = new URL(prefix);
  } catch {
    return false;
  }
  if (u.origin !== p.origin || u.username || u.password) return false;
  const base = p.pathname.endsWith('/') ? p.pathname : `${p.pathname}/`;
  return u.pathname === p.pathname || u.pathname.startsWith(base);
}

export async function slackRoutes(app: FastifyInstance, opts: SlackRoutesOptions): Promise<void> {
  const { conversation, logger } = opts;
  // The signature is over the bytes as sent: keep them, parse later.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));

  async function respond(url: string | undefined, reply: ChatReply): Promise<void> {
    if (!url || !underPrefix(url, opts.responseUrlPrefix)) {
      logger.warn({ responseUrl: url?.slice(0, 80) }, 'Slack response_url refused: not under SLACK_RESPONSE_URL_PREFIX');
      return;
    }
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...slackMessage(reply), replace_original: false }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) logger.warn({ status: res.status }, 'Slack response_url refused the answer');
  }

  app.post(
    '/v1/chat/slack',
    {
      bodyLimit: BODY_LIMIT_BYTES,
      schema: { tags: ['chat'], summary: 'Slack slash commands and advice buttons (signed by Slack).' },
      config: {
        openapi: {
          body: { 'application/x-www-form-urlencoded': { schema: { type: 'object', description: 'A slash command, or `payload` (block_actions JSON).' } } },
          headers: {
            type: 'object',
            properties: { 'x-slack-signature': { type: 'string' }, 'x-slack-request-timestamp': { type: 'string' } },
          },
          responses: { 200: { description: 'A slash command\'s answer (`response_type`, `text`), or empty for a button click.' } },
          problems: {
            400: `${code(Errors.chatPayloadInvalid)}: not a slash command or block_actions payload.`,
            401: `${code(Errors.chatNotConfigured)}, ${code(Errors.chatSignatureMissing)}, ${code(Errors.chatSignatureStale)}, ${code(Errors.chatSignatureInvalid)}: not verified as from Slack.`,
          },
        },
      },
    },
    async (request, reply) => {
      const signed = { signature: request.headers['x-slack-signature'], timestamp: request.headers['x-slack-request-timestamp'] };
      // A request without Slack's signature headers is refused as unsigned before anything else is said of it.
      if (!signed.signature || !signed.timestamp) verifySlackRequest(opts.signingSecret, signed, Buffer.alloc(0), opts.now());
      // Then the media type: another one went through its own parser, so its bytes are gone and
      // any signature would look wrong.
      if (!/^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')) throw Errors.chatPayloadInvalid('Slack sends application/x-www-form-urlencoded');
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      verifySlackRequest(opts.signingSecret, signed, raw, opts.now());
      const form = new URLSearchParams(raw.toString('utf8'));
      // Slack checks a slash command's certificate with `ssl_check=1` now and then: it wants a 200.
      if (form.get('ssl_check') === '1') return reply.code(200).send();
      const payload = form.get('payload');
      if (payload === null) {
        const user = form.get('user_id');
        const trigger = form.get('trigger_id');
        if (!user || !trigger) throw Errors.chatPayloadInvalid('A slash command carries user_id and trigger_id');
        const answer = await conversation.answer(form.get('text') ?? '', { platform: 'slack', user, interactionId: trigger });
        return reply.code(200).send(slackMessage(answer));
      }
      let interaction: BlockActions;
      try {
        interaction = JSON.parse(payload) as BlockActions;
      } catch {
        throw Errors.chatPayloadInvalid('payload is not JSON');
      }
      // Verified, yet still read as untrusted JSON: a shape we do not expect is a 400, never a crash.
      if (typeof interaction !== 'object' || interaction === null) throw Errors.chatPayloadInvalid('payload is not an object');
      const actions: unknown[] = interaction.type === 'block_actions' && Array.isArray(interaction.actions) ? interaction.actions : [];
      const action = actions.find(
        (a): a is NonNullable<BlockActions['actions']>[number] => typeof a === 'object' && a !== null && (a as { action_id?: unknown }).action_id === SLACK_IRRIGATED_ACTION,
      );
      // Other interactions (another app's buttons, modals) are acknowledged and left alone.
      if (!action) return reply.code(200).send();
      const user = typeof interaction.user?.id === 'string' ? interaction.user.id : undefined;
      let value: { farm?: unknown; field?: unknown; depth_mm?: unknown } | null;
      try {
        value = typeof action.value === 'string' ? (JSON.parse(action.value) as typeof value) : null;
      } catch {
        throw Errors.chatPayloadInvalid('The button value is not JSON');
      }
      if (!user || typeof value !== 'object' || value === null || typeof value.farm !== 'string' || typeof value.field !== 'string' || typeof value.depth_mm !== 'number') {
        throw Errors.chatPayloadInvalid('The button value carries farm, field and depth_mm');
      }
      const answer = await conversation.irrigated(value.farm, value.field, value.depth_mm, {
        platform: 'slack',
        user,
        interactionId: interaction.trigger_id ?? `${user}:${action.action_ts ?? ''}`,
        ...messageOf(interaction),
      });
      await respond(interaction.response_url, answer).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'Slack answer not sent'));
      return reply.code(200).send();
    },
  );
}
