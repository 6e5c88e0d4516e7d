/**
 * `npx tsx bench/render-messages.ts`: how fast each delivery format renders one advice for one
 * subscription (what every attempt does before its request), next to the Standard Webhooks
 * envelope signed for the same event in the same run. BENCH_RENDERS (default 20000) per row.
 */
import { FORMATS } from '../services/dispatcher/formats/index.js';
import type { FormatName } from '../services/dispatcher/formats/format.js';
import { createSigner } from '../services/dispatcher/signer.js';
import type { SubscriptionRecord } from '../services/dispatcher/store/types.js';

const N = Number(process.env.BENCH_RENDERS ?? 20_000);
const event = {
  type: 'irrigation.recommended',
  id: 'evt_bench',
  timestamp: '2026-07-06T21:00:00.000Z',
  data: {
    farm: 'f1', field: 'north', crop: 'tomato', soil: 'sandy-loam', net_depth_mm: 18, gross_depth_mm: 21,
    start_by: '2026-07-07T03:00:00.000Z', valid_until: '2026-07-08T03:00:00.000Z', depletion_mm: 41, raw_mm: 54,
  },
};
const body = JSON.stringify(event);
const signer = createSigner();
const secrets = [`whsec_${Buffer.alloc(32, 7).toString('base64')}`];
const URLS: Record<FormatName, string> = {
  'standard-webhooks': 'https://receiver.example.com/hooks',
  slack: 'https://hooks.slack.com/services/T/B/X',
  teams: 'https://prod.logic.azure.com/workflows/x',
  telegram: 'https://api.telegram.org/bot1:x',
  discord: 'https://discord.com/api/webhooks/1/x',
  ntfy: 'https://ntfy.sh/north',
  email: 'mailto:agronomist@farm.example',
};

function sub(format: FormatName, locale: string): SubscriptionRecord {
  return {
    id: 'sub_bench', url: URLS[format], description: '', events: ['*'], farms: [], fields: [], enabled: true, disabledReason: null, disabledAt: null,
    rateLimitPerSecond: null, format, locale, timeZone: 'Asia/Jerusalem', settings: format === 'telegram' ? { chat_id: -100 } : {},
    failingSince: null, createdAt: 0, updatedAt: 0,
  };
}

function measure(format: FormatName, locale: string): number {
  const s = sub(format, locale);
  const input = { body, event, subscription: s, signatureHeaders: () => ({ ...signer.sign(event.id, Date.now(), body, secrets) }) };
  for (let i = 0; i < 1_000; i++) FORMATS[format].render({ ...input, event: JSON.parse(body) });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) FORMATS[format].render({ ...input, event: JSON.parse(body) });
  return (performance.now() - t0) / N;
}

const rows: [string, number][] = [];
const baseline = measure('standard-webhooks', 'en');
rows.push(['standard-webhooks (signed envelope, baseline)', baseline]);
for (const format of ['slack', 'teams', 'telegram', 'discord', 'ntfy', 'email'] as const) {
  for (const locale of ['en', 'he']) rows.push([`${format} (${locale})`, measure(format, locale)]);
}
console.log(`| format | µs per render | vs baseline |\n|---|---|---|`);
for (const [name, ms] of rows) console.log(`| ${name} | ${(ms * 1000).toFixed(1)} | ${(ms / baseline).toFixed(2)}× |`);
