/**
 * What a person can say to fieldhook in a chat, and what it answers: `help`, `fields`,
 * `status <field>`, `irrigated <field> <mm>`, and the "irrigated" button of an advice message.
 * Platform-neutral: Slack and Telegram hand over the text and who sent it, and send the reply
 * back their own way. A user sees and records only for the farms mapped to them.
 */
import { renderMessage } from '../dispatcher/messages/render-message.js';
import type { IrrigationService } from '../irrigations/service.js';
import { isFieldhookError } from '../shared/errors.js';
import { Errors } from '../shared/error-catalog.js';
import type { ChatPlatform, ChatUserRepository } from './users.js';

/** A field as the chat shows it. */
export interface FieldView {
  farm: string;
  field: string;
  crop?: string;
  /** The advice in force, if any (times epoch ms). */
  advice: { depthMm?: number; startBy: number; validUntil: number } | null;
}

/** The field's water now, for `status`. */
export interface FieldStatus extends FieldView {
  depletionMm?: number;
  rawMm?: number;
  /** Why there is no assessment (stale sensors, season over). */
  unavailable?: string;
  /**
   * Another instance's predictor evaluates the field (predictors sharing the fields): the advice
   * is as it saved it last (`savedAt`, epoch ms; null when it saved none yet), and there is no
   * assessment here; `depletionMm`/`rawMm`, when given, are the balance it recorded last, at
   * `recordedAt`. `instance`/`partition`: who evaluates it, null when not known.
   */
  elsewhere?: { instance: string | null; partition: number | null; savedAt: number | null; recordedAt?: number };
}

/** Where the chat learns about fields (the predictor, in `fieldhook start`). */
export interface FieldDirectory {
  list(farms: readonly string[]): Promise<FieldView[]>;
  status(farm: string, field: string): Promise<FieldStatus | undefined>;
}

/** Who is talking, and a key that makes a redelivered request record nothing twice. */
export interface ChatTurn {
  platform: ChatPlatform;
  user: string;
  /** The platform's id of this interaction (Slack `trigger_id`, Telegram `update_id`). */
  interactionId: string;
  /**
   * For a button: the message it sits on (`<chat>:<message>`). One advice message is one
   * irrigation: a second click, by anyone, gives back the record the first made.
   */
  message?: string;
}

export interface ChatReply {
  text: string;
  /** An irrigation was recorded: worth showing the whole channel, not only the sender. */
  recorded?: boolean;
}

export interface ConversationOptions {
  /** Locale and time zone of the replies (the message catalog's). Defaults `en`, `UTC`. */
  locale: string;
  timeZone: string;
}

export const DEFAULT_CONVERSATION_OPTIONS: ConversationOptions = { locale: 'en', timeZone: 'UTC' };

export interface Conversation {
  /** Answer a typed command (`irrigated north 18`, `/status north`, …). */
  answer(text: string, turn: ChatTurn): Promise<ChatReply>;
  /** The advice message's button: record the advised depth. */
  irrigated(farm: string, field: string, depthMm: number, turn: ChatTurn): Promise<ChatReply>;
}

const HELP = [
  'fields: your fields and their advice',
  'status <field>: water in the root zone and the advice',
  'irrigated <field> <mm>: record the net depth you applied (e.g. "irrigated north 18")',
  'A field is its name, or farm/field when two of your farms have one of that name.',
].join('\n');

/** `irrigated north 18`, `irrigated f1/north 18.5 mm`, `/irrigated@fieldhook_bot north 18mm`. */
const IRRIGATED = /^irrigated\s+(\S+)\s+(\d+(?:[.,]\d+)?)\s*(?:mm)?$/i;
const STATUS = /^status\s+(\S+)$/i;

export function createConversation(
  deps: { users: ChatUserRepository; fields: FieldDirectory; irrigations: IrrigationService },
  options: Partial<ConversationOptions> = {},
): Conversation {
  const opts = { ...DEFAULT_CONVERSATION_OPTIONS, ...options };
  const render = (key: string, data: Record<string, unknown>) => renderMessage(key, data, opts).text;
  // In the replies' locale and zone, with the date: what another instance saved or recorded may be
  // days or weeks old.
  const whenDated = new Intl.DateTimeFormat(opts.locale, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: opts.timeZone });
  const forbidden = (field?: string) => Errors.chatFarmForbidden(render('chat.forbidden', field ? { field } : {}));

  /**
   * `north` or `f1/north`, among the user's farms. Where the directory knows a farm's fields the
   * name must be one of them (a typo records nothing); without a directory (no predictor) the
   * name is taken as written.
   */
  async function resolve(name: string, farms: readonly string[]): Promise<{ farm: string; field: string }> {
    const slash = name.indexOf('/');
    // Typed by people: a farm matches in any case, as a field does.
    const typed = slash >= 0 ? name.slice(0, slash) : undefined;
    const farm = typed === undefined ? undefined : (farms.find((f) => f.toLowerCase() === typed.toLowerCase()) ?? typed);
    const wanted = slash >= 0 ? name.slice(slash + 1) : name;
    if (farm !== undefined && !farms.includes(farm)) throw forbidden(wanted);
    const within = farm !== undefined ? [farm] : farms;
    const known = await deps.fields.list(within);
    if (known.length === 0) {
      if (within.length === 1) return { farm: within[0]!, field: wanted };
      throw Errors.chatPayloadInvalid(`Write the field as farm/field: you have ${farms.join(', ')}`);
    }
    const matches = known.filter((f) => f.field.toLowerCase() === wanted.toLowerCase());
    if (matches.length === 1) return { farm: matches[0]!.farm, field: matches[0]!.field };
    if (matches.length === 0) throw Errors.chatPayloadInvalid(`No field ${wanted} in ${within.join(', ')}: "fields" lists them`);
    throw Errors.chatPayloadInvalid(`Several of your farms have a field ${wanted}: write ${matches.map((m) => `${m.farm}/${m.field}`).join(' or ')}`);
  }

  function adviceLine(f: FieldView): string {
    if (!f.advice) return `${f.farm}/${f.field}: no advice`;
    return `${f.farm}/${f.field}: ${render('irrigation.recommended', {
      field: f.field,
      ...(f.advice.depthMm !== undefined ? { net_depth_mm: f.advice.depthMm } : {}),
      start_by: new Date(f.advice.startBy).toISOString(),
      valid_until: new Date(f.advice.validUntil).toISOString(),
    })}`;
  }

  const waterUsed = (depletionMm: number, rawMm: number) => `${depletionMm.toFixed(1)} mm of ${rawMm.toFixed(1)} mm readily available water used`;

  /** A field another predictor evaluates: who, how old the advice shown is, and the balance it recorded last. */
  function elsewhereLine(s: FieldStatus, e: NonNullable<FieldStatus['elsewhere']>): string {
    const who = e.instance !== null ? `instance ${e.instance}` : 'another instance';
    const partition = e.partition !== null ? ` (partition ${e.partition})` : '';
    const saved = e.savedAt !== null ? `advice as it saved it ${whenDated.format(e.savedAt)}` : 'nothing saved there yet';
    const water =
      e.recordedAt !== undefined && s.depletionMm !== undefined && s.rawMm !== undefined ? `; ${waterUsed(s.depletionMm, s.rawMm)} as recorded ${whenDated.format(e.recordedAt)}` : '';
    return `assessed on ${who}${partition}, not here; ${saved}${water}`;
  }

  async function record(farm: string, field: string, depthMm: number, turn: ChatTurn, farms: readonly string[]): Promise<ChatReply> {
    if (!farms.includes(farm)) throw forbidden(field);
    const { record: r, replayed } = await deps.irrigations.record(
      { farm, field, depth_mm: depthMm },
      {
        source: turn.platform,
        who: `${turn.platform}:${turn.user}`,
        ...(turn.message !== undefined ? { idempotencyScope: `${turn.platform}:message` } : {}),
      },
      turn.message !== undefined ? turn.message : `${turn.platform}:${turn.interactionId}`,
    );
    const text = `${render('chat.irrigation_recorded', { field: r.field, depth_mm: r.depth_mm, at: r.end })} (${r.farm}/${r.field}, ${r.id})`;
    // Answered already (a second click on the same advice): said once to the channel, then only to the sender.
    return replayed && turn.message !== undefined ? { text: `${text}: already recorded by ${r.who}` } : { text, recorded: true };
  }

  /** Run a step, turning a refusal into the reply the person sees. */
  async function replying(step: (farms: readonly string[]) => Promise<ChatReply>, turn: ChatTurn): Promise<ChatReply> {
    try {
      const farms = await deps.users.farmsOf(turn.platform, turn.user);
      if (farms.length === 0) throw forbidden();
      return await step(farms);
    } catch (err) {
      if (isFieldhookError(err) && err.statusCode < 500) return { text: `${err.message} (${err.code})` };
      throw err;
    }
  }

  return {
    answer(text, turn) {
      // Telegram's `/status@bot_name north` and Slack's `/fieldhook status north` reduce to `status north`.
      const said = text.trim().replace(/^\/(\w+)(?:@\w+)?/, '$1').replace(/\s+/g, ' ');
      return replying(async (farms) => {
        if (said === '' || /^(help|start)$/i.test(said)) return { text: HELP };
        if (/^fields$/i.test(said)) {
          const list = await deps.fields.list(farms);
          return { text: list.length === 0 ? `No fields configured for ${farms.join(', ')}` : list.map(adviceLine).join('\n') };
        }
        const status = STATUS.exec(said);
        if (status) {
          const { farm, field } = await resolve(status[1]!, farms);
          const s = await deps.fields.status(farm, field);
          if (!s) return { text: `${farm}/${field}: not a configured field` };
          const water = s.elsewhere
            ? elsewhereLine(s, s.elsewhere)
            : s.unavailable
              ? `no assessment (${s.unavailable})`
              : s.depletionMm !== undefined && s.rawMm !== undefined
                ? waterUsed(s.depletionMm, s.rawMm)
                : 'no assessment yet';
          return { text: `${adviceLine(s)}\n${farm}/${field}: ${water}` };
        }
        const irrigated = IRRIGATED.exec(said);
        if (irrigated) {
          const { farm, field } = await resolve(irrigated[1]!, farms);
          return record(farm, field, Number(irrigated[2]!.replace(',', '.')), turn, farms);
        }
        return { text: `${render('chat.unknown_command', {})}\n${HELP}` };
      }, turn);
    },
    irrigated(farm, field, depthMm, turn) {
      return replying(async (farms) => {
        if (!farms.includes(farm)) throw forbidden(field);
        // A button on an old advice may name a field removed since: as a typed name would, it must still exist.
        const known = await deps.fields.list([farm]);
        if (known.length > 0 && !known.some((f) => f.field === field)) throw Errors.chatPayloadInvalid(`No field ${field} in ${farm} any more: "fields" lists them`);
        return record(farm, field, depthMm, turn, farms);
      }, turn);
    },
  };
}
