import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { HttpServerOptions } from '../../../services/host/http-config.js';
import { runHost, type RunningHost } from '../../../services/host/run-host.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { selfSigned } from '../../helpers/self-signed.js';
import { SECRETS, readingsComponent, signed } from '../../helpers/readings-app.js';

/** A raw client connection: what it sent is up to the test, what came back is collected. */
interface RawClient {
  socket: Socket;
  received(): string;
  closed(): boolean;
}

function open(port: number, localAddress = '127.0.0.1', ca?: Buffer): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closed = false;
    const ready = () => resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1'), closed: () => closed });
    const socket: Socket = ca ? connectTls({ host: '127.0.0.1', port, ca }, ready) : connect({ host: '127.0.0.1', port, localAddress }, ready);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    socket.once('error', reject);
  });
}

/** Status line, headers and JSON body of a raw response. */
function parse(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as Record<string, unknown> };
}

const clients: RawClient[] = [];
let host: RunningHost | undefined;

/** What the ingest core was handed by the running host's routes. */
let handled: unknown[] = [];

async function start(server: Partial<HttpServerOptions>, tls?: { certFile: string; keyFile: string }) {
  const { component, requests } = readingsComponent();
  handled = requests;
  host = await runHost([component], { logger: silentLogger(), http: { host: '127.0.0.1', port: 0 }, handleSignals: false, server, ...(tls ? { tls } : {}) });
  return Number(new URL(host.url).port);
}

async function client(port: number, localAddress?: string, ca?: Buffer) {
  const c = await open(port, localAddress, ca);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await host?.stop();
  host = undefined;
});

const body = JSON.stringify([{ ts: new Date().toISOString(), values: { soil_moisture: 0.3 } }]);

/** The head of a signed POST whose body is announced but sent by the test, byte by byte. */
function signedHead(extra: Record<string, string> = { 'fieldhook-device': 'n-2' }) {
  const headers = { ...signed(SECRETS['n-2'], body, extra), 'content-length': String(body.length), host: 'x' };
  return `POST /v1/readings HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

describe('HTTP server limits (real sockets)', () => {
  it('closes connections that send a signed body one byte at a time with 408 FH_ERR_HTTP_REQUEST_TIMEOUT', async () => {
    const port = await start({ requestTimeoutMs: 800, headersTimeoutMs: 400 });
    const slow = await Promise.all(Array.from({ length: 5 }, () => client(port)));
    for (const c of slow) c.socket.write(signedHead());
    let sent = 0;
    const drip = setInterval(() => {
      for (const c of slow) if (!c.closed()) c.socket.write(body[sent % body.length]!);
      sent++;
    }, 100);
    try {
      await eventually(() => slow.every((c) => c.closed()), { timeoutMs: 8_000, what: 'every slow connection closed' });
    } finally {
      clearInterval(drip);
    }
    for (const c of slow) {
      const res = parse(c.received());
      expect(res.status).toBe(408);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.body).toMatchObject({ status: 408, code: 'FH_ERR_HTTP_REQUEST_TIMEOUT' });
    }
  });

  it('answers a request refused before its body arrived once, and closes the connection', async () => {
    const port = await start({ requestTimeoutMs: 800, headersTimeoutMs: 400 });
    const c = await client(port);
    // No credential: refused at once, while 99 bytes of the announced body never come.
    c.socket.write('POST /v1/readings HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{');
    await eventually(() => c.closed(), { timeoutMs: 5_000, what: 'the connection closed after the refusal' });
    const answers = c.received().split('HTTP/1.1 ').filter(Boolean);
    expect(answers).toHaveLength(1);
    const res = parse(c.received());
    expect(res).toMatchObject({ status: 401, headers: { connection: 'close' }, body: { code: 'FH_ERR_AUTH_MISSING' } });
    // A request read whole keeps its connection, answered or refused.
    const whole = await client(port);
    whole.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/nowhere HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => whole.received().split('HTTP/1.1 ').filter(Boolean).length === 2, { what: 'both answers on one connection' });
    expect(whole.received()).not.toMatch(/connection: close/i);
    expect(whole.closed()).toBe(false);
  });

  it('closes connections whose headers arrive too slowly with 408', async () => {
    const port = await start({ requestTimeoutMs: 800, headersTimeoutMs: 400 });
    const c = await client(port);
    c.socket.write('POST /v1/readings HTTP/1.1\r\nhost: x\r\n');
    const drip = setInterval(() => !c.closed() && c.socket.write('x-pad: 1\r\n'), 100);
    try {
      await eventually(() => c.closed(), { timeoutMs: 8_000, what: 'the slow-header connection closed' });
    } finally {
      clearInterval(drip);
    }
    expect(parse(c.received())).toMatchObject({ status: 408, body: { code: 'FH_ERR_HTTP_REQUEST_TIMEOUT' } });
  });

  it('refuses a signed request for a device it cannot use before its body arrives', async () => {
    const port = await start({});
    for (const [extra, status, code] of [
      [{}, 401, 'FH_ERR_AUTH_SIGNED_DEVICE_MISSING'],
      [{ 'fieldhook-device': 'ghost' }, 401, 'FH_ERR_DEVICE_UNKNOWN'],
      [{ 'fieldhook-device': 'off' }, 403, 'FH_ERR_DEVICE_DISABLED'],
    ] as const) {
      const c = await client(port);
      c.socket.write(signedHead(extra));
      // Not a byte of the body is sent.
      const res = await eventually(() => (c.received().includes('\r\n\r\n{') && c.received().endsWith('}') ? parse(c.received()) : undefined), { timeoutMs: 5_000, what: code });
      expect(res).toMatchObject({ status, body: { code } });
    }
  });

  it('caps connections per source address: 503 FH_ERR_HTTP_TOO_MANY_CONNECTIONS with Retry-After, then room again once one closes', async () => {
    const port = await start({ maxConnectionsPerAddress: 3, maxConnections: 100, connectionRetryAfterS: 7 });
    const held = await Promise.all(Array.from({ length: 3 }, () => client(port)));
    // The fourth sends a valid request at once: it is answered 503 (not reset) and never handled.
    const refused = await client(port);
    const valid = `POST /v1/readings HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${SECRETS['n-1']}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    refused.socket.write(valid);
    await eventually(() => refused.closed(), { timeoutMs: 5_000, what: 'the fourth connection closed' });
    expect(handled).toEqual([]);
    const res = parse(refused.received());
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 503, code: 'FH_ERR_HTTP_TOO_MANY_CONNECTIONS', retryAfterS: 7 });

    // Another address still gets in.
    const other = await client(port, '127.0.0.2');
    other.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await eventually(() => other.received().startsWith('HTTP/1.1 200'), { timeoutMs: 5_000, what: 'the other address served' });

    held[0]!.socket.destroy();
    await eventually(
      async () => {
        const again = await client(port);
        again.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
        const answer = await eventually(() => (again.received().includes('\r\n\r\n') ? again.received() : undefined), { timeoutMs: 2_000 });
        return answer.startsWith('HTTP/1.1 200');
      },
      { timeoutMs: 5_000, what: 'room for the address again' },
    );
  });

  it('caps connections across all addresses', async () => {
    const port = await start({ maxConnectionsPerAddress: 10, maxConnections: 4 });
    await Promise.all([client(port, '127.0.0.1'), client(port, '127.0.0.1'), client(port, '127.0.0.2'), client(port, '127.0.0.3')]);
    const refused = await client(port, '127.0.0.4');
    await eventually(() => refused.closed(), { timeoutMs: 5_000, what: 'the fifth connection closed' });
    expect(parse(refused.received())).toMatchObject({ status: 503, body: { code: 'FH_ERR_HTTP_TOO_MANY_CONNECTIONS' } });
  });

  describe('over TLS', () => {
    const { dir, ca, ...tls } = selfSigned('fieldhook-tls-limits-');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('caps connections per address with the same 503, and bounds a slow body with the same 408', async () => {
      const port = await start({ maxConnectionsPerAddress: 2, requestTimeoutMs: 800, headersTimeoutMs: 400 }, tls);
      const slow = await client(port, '127.0.0.1', ca);
      await client(port, '127.0.0.1', ca);
      const refused = await client(port, '127.0.0.1', ca);
      await eventually(() => refused.closed(), { timeoutMs: 5_000, what: 'the third TLS connection closed' });
      expect(parse(refused.received())).toMatchObject({ status: 503, body: { code: 'FH_ERR_HTTP_TOO_MANY_CONNECTIONS' } });

      slow.socket.write(signedHead());
      const drip = setInterval(() => !slow.closed() && slow.socket.write('['), 100);
      try {
        await eventually(() => slow.closed(), { timeoutMs: 8_000, what: 'the slow TLS connection closed' });
      } finally {
        clearInterval(drip);
      }
      expect(parse(slow.received())).toMatchObject({ status: 408, body: { code: 'FH_ERR_HTTP_REQUEST_TIMEOUT' } });
    });
  });

  describe('Node-level client errors answer problem+json that never echoes the request', () => {
    it.each([
      ['20 KB of headers', 431, 'FH_ERR_HTTP_HEADERS_TOO_LARGE', `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'zq'.repeat(10_000)}\r\n\r\n`],
      ['a 10 KB path', 414, 'FH_ERR_HTTP_URI_TOO_LONG', `GET /${'zq'.repeat(5_000)} HTTP/1.1\r\nhost: x\r\n\r\n`],
      ['a malformed request line', 400, 'FH_ERR_HTTP_BAD_REQUEST', 'GET zq zq zq\r\n\r\n'],
      ['a header without a colon', 400, 'FH_ERR_HTTP_BAD_REQUEST', 'GET /healthz HTTP/1.1\r\nzqzq\r\n\r\n'],
    ])('%s → %s %s', async (_name, status, code, request) => {
      const port = await start({});
      const c = await client(port);
      c.socket.write(request);
      const res = await eventually(() => (c.received().endsWith('}') ? parse(c.received()) : undefined), { timeoutMs: 5_000, what: `the ${status}` });
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status, code });
      expect(c.received()).not.toContain('zq');
    });
  });
});
