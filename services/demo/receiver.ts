/**
 * The demo's webhook receiver: a loopback HTTP server that does what an agronomist's system
 * would do with fieldhook's deliveries: check the Standard Webhooks signature (with the
 * `standardwebhooks` reference implementation, not fieldhook's own signer), refuse what does not
 * verify, and hand each verified event on. 204 for a verified delivery, 401 otherwise.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

/** A delivery that verified. */
export interface ReceivedEvent {
  /** `webhook-id`: the same on every retry of one delivery. */
  webhookId: string;
  type: string;
  id: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface Receiver {
  /** Where subscriptions deliver, e.g. http://127.0.0.1:41234/hooks/fieldhook. */
  readonly url: string;
  /** Deliveries refused so far (bad or missing signature). */
  readonly refused: number;
  /** Verify with this secret from now on (a restart of the demo keeps its subscription's secret). */
  setSecret(secret: string): void;
  close(): Promise<void>;
}

export const RECEIVER_PATH = '/hooks/fieldhook';
/** Larger bodies are refused unread: an event is a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;

async function bodyOf(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Start the receiver on a free loopback port. `onEvent` gets every verified delivery. */
export async function startReceiver(onEvent: (event: ReceivedEvent) => void, options: { secret?: string; port?: number } = {}): Promise<Receiver> {
  let verifier = options.secret ? new Webhook(options.secret) : undefined;
  let refused = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== RECEIVER_PATH) {
        res.writeHead(404).end();
        return;
      }
      const body = await bodyOf(req);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
      try {
        if (!verifier || body === undefined) throw new Error('no secret yet');
        const event = verifier.verify(body, headers) as Omit<ReceivedEvent, 'webhookId'>;
        res.writeHead(204).end();
        onEvent({ ...event, webhookId: headers['webhook-id'] ?? '' });
      } catch {
        refused++;
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"signature does not verify"}');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${RECEIVER_PATH}`,
    get refused() {
      return refused;
    },
    setSecret(secret) {
      verifier = new Webhook(secret);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A time on this terminal's clock: `14:05`, or `Tue 14:05` when it is not today. */
function time(iso: unknown, now = new Date()): string {
  if (typeof iso !== 'string') return '?';
  const t = new Date(iso);
  const hhmm = t.toTimeString().slice(0, 5);
  return t.toDateString() === now.toDateString() ? hhmm : `${t.toDateString().slice(0, 3)} ${hhmm}`;
}
/** When to start watering: `now` once the threshold is reached. */
const startBy = (iso: unknown) => (typeof iso === 'string' && Date.parse(iso) <= Date.now() + 60_000 ? 'now' : `by ${time(iso)}`);
const mm = (x: unknown) => (typeof x === 'number' ? `${x.toFixed(1)} mm` : '?');

/** One line a person reads: when, what, which field, and the numbers that matter. */
export function humanLine(event: ReceivedEvent): string {
  const d = event.data;
  const where = `${String(d.farm ?? '?')}/${String(d.field ?? '?')}`;
  const at = new Date(event.timestamp).toTimeString().slice(0, 8);
  switch (event.type) {
    case 'irrigation.recommended':
      return `${at}  IRRIGATE  ${where}: apply ${mm(d.gross_depth_mm)} (net ${mm(d.net_depth_mm)}) ${startBy(d.start_by)}; depletion ${mm(d.depletion_mm)} of RAW ${mm(d.raw_mm)}, advice valid until ${time(d.valid_until)}  [signature verified]`;
    case 'irrigation.cleared':
      return `${at}  cleared   ${where}: root zone refilled, depletion ${mm(d.depletion_mm)} of RAW ${mm(d.raw_mm)}  [signature verified]`;
    case 'sensor.stale':
      return `${at}  stale     ${where}: ${String(d.reason ?? 'no recent readings')}  [signature verified]`;
    case 'sensor.recovered':
      return `${at}  recovered ${where}: readings fresh again${d.stale_since ? ` (stale since ${time(d.stale_since)})` : ''}  [signature verified]`;
    default:
      return `${at}  ${event.type}  ${where}  [signature verified]`;
  }
}
