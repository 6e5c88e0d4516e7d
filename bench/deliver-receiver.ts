import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// Receiver for bench/deliver.ts, in its own process so that it does not share a core's event
// loop with the dispatcher. /ok/* answers 204, /fail/* answers 500, /hang/* never answers.
// Latency = arrival time - `data.t` (publish time, same machine clock).
let latencies: number[] = [];
let counts = { ok: 0, fail: 0, hang: 0 };

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '';
    if (url.startsWith('/ok/')) {
      counts.ok++;
      try {
        const t = (JSON.parse(Buffer.concat(chunks).toString()) as { data?: { t?: number } }).data?.t;
        if (typeof t === 'number') latencies.push(Date.now() - t);
      } catch {
        // baseline bodies carry t too; anything else is not measured
      }
      res.writeHead(204).end();
    } else if (url.startsWith('/fail/')) {
      counts.fail++;
      res.writeHead(500).end('down');
    } else {
      counts.hang++; // hold the socket until the client gives up
    }
  });
});
server.keepAliveTimeout = 30_000;

server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'reset') {
    latencies = [];
    counts = { ok: 0, fail: 0, hang: 0 };
    process.send!({ ok: true });
  } else if (msg.cmd === 'stats') {
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    process.send!({ counts, p50: q(0.5), p99: q(0.99) });
  } else if (msg.cmd === 'exit') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
