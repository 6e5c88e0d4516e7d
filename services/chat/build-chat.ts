/**
 * Chat answers as a component: the Slack and Telegram endpoints, the chat users' farms (on the
 * control plane), the conversation, and the irrigation records it makes. Wiring only.
 */
import type { IrrigationService } from '../irrigations/service.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Component } from '../shared/component.js';
import { createControlPlane, type ControlPlane } from '../shared/database/control-plane.js';
import type { Logger } from '../shared/logger.js';
import type { ChatConfig } from './config.js';
import { createConversation, type Conversation, type FieldDirectory } from './conversation.js';
import { slackRoutes } from './slack-routes.js';
import { createTelegramApi, type TelegramApi } from './telegram-api.js';
import { telegramRoutes } from './telegram-routes.js';
import { createChatUserRepository } from './open-users.js';
import type { ChatUserRepository } from './users.js';

export interface ChatDeps {
  config: ChatConfig & { DATA_DIR: string };
  logger: Logger;
  irrigations: IrrigationService;
  /** The fields and their advice; without a predictor, `fields` and `status` know none. */
  fields?: FieldDirectory;
  clock?: Clock;
  /** Where the chat users live; default: SQLite in `DATA_DIR`. */
  plane?: ControlPlane;
  /** Default: on `plane`. */
  users?: ChatUserRepository;
  telegram?: TelegramApi;
}

export interface Chat extends Component {
  conversation: Conversation;
}

const NO_FIELDS: FieldDirectory = { list: async () => [], status: async () => undefined };

export function buildChat(deps: ChatDeps): Chat {
  const { config } = deps;
  const logger = deps.logger.child({ service: 'chat' });
  const clock = deps.clock ?? systemClock;
  const users = deps.users ?? createChatUserRepository(deps.plane ?? createControlPlane({ DATA_DIR: config.DATA_DIR }, logger), clock);
  const conversation = createConversation(
    { users, fields: deps.fields ?? NO_FIELDS, irrigations: deps.irrigations },
    { locale: config.CHAT_LOCALE, timeZone: config.CHAT_TIME_ZONE },
  );
  const telegram =
    deps.telegram ?? (config.TELEGRAM_BOT_TOKEN ? createTelegramApi({ baseUrl: config.TELEGRAM_API_BASE_URL, token: config.TELEGRAM_BOT_TOKEN }) : undefined);
  return {
    name: 'chat',
    conversation,
    routes: async (app) => {
      await app.register(slackRoutes, {
        conversation,
        signingSecret: config.SLACK_SIGNING_SECRET,
        responseUrlPrefix: config.SLACK_RESPONSE_URL_PREFIX,
        now: () => clock.now(),
        logger,
      });
      await app.register(telegramRoutes, { conversation, secretToken: config.TELEGRAM_SECRET_TOKEN, api: telegram, logger });
    },
    start: () => users.open(),
    stop: async () => users.close(),
  };
}
