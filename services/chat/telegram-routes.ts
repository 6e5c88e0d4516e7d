/**
 * `POST /v1/chat/telegram`: the bot's webhook (`setWebhook` with this URL and `secret_token`).
 * The secret token is checked before the body is read. A text message is a command (`/status
 * north`, `irrigated north 18`); a callback query is the "irrigated" button of an advice message
 * (`callback_data` built and read by services/dispatcher/formats/telegram.ts). Answers go back through the Bot API; the
 * webhook itself is answered 200 once the update is handled, so Telegram does not send it again.
 *
 * Update: https://core.telegram.org/bots/api#update, CallbackQuery:
 * https://core.telegram.org/bots/api#callbackquery
 */
import type { FastifyInstance } from 'fastify';
import { parseIrrigatedCallbackData, TELEGRAM_IRRIGATED_PREFIX } from '../dispatcher/formats/telegram.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import { code } from '../shared/openapi.js';
import type { ChatReply, Conversation } from './conversation.js';
import type { TelegramApi } from './telegram-api.js';
import { verifyTelegramSecret } from './verify.js';

export interface TelegramRoutesOptions {
  conversation: Conversation;
  secretToken: string | undefined;
  /** Undefined without `TELEGRAM_BOT_TOKEN`: updates are handled, answers only logged. */
  api: TelegramApi | undefined;
  logger: Logger;
}

interface Update {
  update_id?: number;
  message?: { message_id?: number; from?: { id?: number }; chat?: { id?: number }; text?: string };
  callback_query?: { id?: string; from?: { id?: number }; message?: { message_id?: number; chat?: { id?: number } }; data?: string };
}

export async function telegramRoutes(app: FastifyInstance, opts: TelegramRoutesOptions): Promise<void> {
  const { conversation, logger } = opts;
  // Before the body is even read: an unverified sender gets nothing parsed.
  app.addHook('onRequest', async (request) => verifyTelegramSecret(opts.secretToken, request.headers['x-telegram-bot-api-secret-token']));

  /**
   * The bot's username, asked of the Bot API once (again after a failure). Unknown without a token
   * or while Telegram cannot be reached: a command addressed to a bot is then taken as ours.
   */
  let username: Promise<string | undefined> | undefined;
  function ownUsername(): Promise<string | undefined> {
    if (!opts.api) return Promise.resolve(undefined);
    username ??= opts.api.getMe().then(
      (me) => me.username?.toLowerCase(),
      (err: unknown) => {
        username = undefined;
        logger.warn({ err: (err as Error).message }, 'Telegram getMe failed: commands addressed to another bot cannot be told apart');
        return undefined;
      },
    );
    return username;
  }

  /**
   * `/irrigated@other_bot north 5` in a group is a command for another bot, which Telegram delivers
   * to every bot that sees the group's messages: it records nothing here.
   */
  async function addressedElsewhere(text: string): Promise<boolean> {
    const to = /^\/\w+@(\w+)/.exec(text.trim())?.[1];
    if (to === undefined) return false;
    const mine = await ownUsername();
    return mine !== undefined && to.toLowerCase() !== mine;
  }

  async function send(chatId: number | undefined, reply: ChatReply): Promise<void> {
    if (chatId === undefined) return;
    if (!opts.api) return void logger.warn('Telegram answer not sent: TELEGRAM_BOT_TOKEN is not set');
    await opts.api.sendMessage({ chat_id: chatId, text: reply.text }).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'Telegram answer not sent'));
  }

  app.post<{ Body: Update }>(
    '/v1/chat/telegram',
    {
      bodyLimit: 256 * 1024,
      schema: { tags: ['chat'], summary: 'Telegram bot updates (setWebhook with secret_token).', body: { type: 'object' } },
      config: {
        openapi: {
          headers: { type: 'object', properties: { 'x-telegram-bot-api-secret-token': { type: 'string' } } },
          responses: { 200: { description: 'The update was handled; answers go through the Bot API.' } },
          problems: {
            400: `${code(Errors.chatPayloadInvalid)}: not a Telegram update.`,
            401: `${code(Errors.chatNotConfigured)}, ${code(Errors.chatSignatureMissing)}, ${code(Errors.chatSignatureInvalid)}: not verified as from Telegram.`,
          },
        },
      },
    },
    async (request, reply) => {
      const update = request.body;
      if (typeof update.update_id !== 'number') throw Errors.chatPayloadInvalid('A Telegram update carries update_id');
      // Verified, yet still read as untrusted JSON: a shape we do not expect is a 400, never a crash.
      const invalid = (what: string) => Errors.chatPayloadInvalid(`A Telegram update whose ${what} is not as the Bot API documents it`);
      if (update.message !== undefined && (typeof update.message !== 'object' || update.message === null)) throw invalid('message');
      if (update.callback_query !== undefined && (typeof update.callback_query !== 'object' || update.callback_query === null)) throw invalid('callback_query');
      if (update.message?.text !== undefined && typeof update.message.text !== 'string') throw invalid('message text');
      if (update.callback_query?.data !== undefined && typeof update.callback_query.data !== 'string') throw invalid('callback data');
      const interactionId = String(update.update_id);
      const message = update.message;
      const query = update.callback_query;
      if (message?.text !== undefined && message.from?.id !== undefined) {
        if (await addressedElsewhere(message.text)) return reply.code(200).send({});
        const answer = await conversation.answer(message.text, { platform: 'telegram', user: String(message.from.id), interactionId });
        await send(message.chat?.id, answer);
      } else if (query?.id && query.from?.id !== undefined && query.data?.startsWith(TELEGRAM_IRRIGATED_PREFIX)) {
        const button = parseIrrigatedCallbackData(query.data);
        if (!button) {
          // Answered, not refused: a 4xx would have Telegram deliver the same update again and
          // again, and the button would keep spinning for the one who pressed it.
          logger.info({ data: query.data.slice(0, 64) }, 'Telegram button data is not irr|<farm>|<field>|<depth_mm>; answered and left alone');
          await opts.api?.answerCallbackQuery({ callback_query_id: query.id, text: 'This button is not one fieldhook can read.' }).catch(() => undefined);
          return reply.code(200).send({});
        }
        const on = query.message;
        const answer = await conversation.irrigated(button.farm, button.field, button.depthMm, {
          platform: 'telegram',
          user: String(query.from.id),
          interactionId,
          // The advice message the button sits on: one advice, one irrigation, whoever presses.
          ...(typeof on?.chat?.id === 'number' && typeof on.message_id === 'number' ? { message: `${on.chat.id}:${on.message_id}` } : {}),
        });
        // The button stops spinning with a notice only the presser sees. The chat hears of water
        // recorded; a repeat ("already recorded by …", a redelivered update) or a refusal stays
        // with the presser, as Slack's ephemeral answers do.
        if (opts.api) {
          await opts.api.answerCallbackQuery({ callback_query_id: query.id, text: answer.text }).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'Telegram callback not answered'));
        }
        if (answer.recorded) await send(query.message?.chat?.id, answer);
      }
      // Any other update (edits, joins, other buttons) is acknowledged and left alone.
      return reply.code(200).send({});
    },
  );
}
