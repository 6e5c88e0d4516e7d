/** The delivery formats a subscription may choose (a leaf module: the store's types name it too). */
export const FORMAT_NAMES = ['standard-webhooks', 'slack', 'teams', 'telegram', 'discord', 'ntfy', 'email'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];
export const DEFAULT_FORMAT: FormatName = 'standard-webhooks';
