/**
 * The Bot API methods the chat uses: `sendMessage` and `answerCallbackQuery` to answer, `getMe` to
 * learn the bot's own username, POSTed as JSON to `<base>/bot<token>/<method>`
 * (https://core.telegram.org/bots/api#making-requests). The base URL is configurable so that
 * tests (and a local Bot API server) can stand in for Telegram.
 */
export interface TelegramApi {
  sendMessage(body: { chat_id: number | string; text: string; reply_parameters?: { message_id: number } }): Promise<void>;
  answerCallbackQuery(body: { callback_query_id: string; text?: string }): Promise<void>;
  /** The bot's User (https://core.telegram.org/bots/api#getme): its `username` is what `/command@username` names. */
  getMe(): Promise<{ username?: string }>;
}

/** Telegram's limit on a message's text, characters. */
export const TELEGRAM_TEXT_LIMIT = 4096;

export function createTelegramApi(options: { baseUrl: string; token: string; timeoutMs?: number }): TelegramApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  async function call(method: string, body: Record<string, unknown>): Promise<unknown> {
    const res = await fetch(`${base}/bot${options.token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const answer = (await res.json().catch(() => ({}))) as { ok?: boolean; description?: string; result?: unknown };
    // The token is part of the URL: never repeat the URL in an error.
    if (!res.ok || answer.ok !== true) throw new Error(`Telegram ${method} answered ${res.status}: ${answer.description ?? 'no description'}`);
    return answer.result;
  }
  return {
    sendMessage: async (body) => void (await call('sendMessage', { ...body, text: body.text.slice(0, TELEGRAM_TEXT_LIMIT) })),
    answerCallbackQuery: async (body) => void (await call('answerCallbackQuery', { ...body, ...(body.text ? { text: body.text.slice(0, 200) } : {}) })),
    async getMe() {
      const user = (await call('getMe', {})) as { username?: unknown } | null;
      return typeof user?.username === 'string' ? { username: user.username } : {};
    },
  };
}
