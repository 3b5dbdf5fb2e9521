/**
 * Child-process entry point: the pass-through baseline. A minimal node:http reverse proxy to the
 * upstream in argv[2]: one keep-alive agent, the request piped up, the response piped back with
 * its status and headers, nothing else (no parsing, no logging, no limits).
 * Plain JavaScript run by plain node, like the gateway it is compared with.
 *   node bench/harness/proxy-process.mjs http://127.0.0.1:PORT
 */
import { Agent, createServer, request } from 'node:http';

const upstream = new URL(process.argv[2] ?? '');
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const headers = { ...req.headers, host: upstream.host };
  const up = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
