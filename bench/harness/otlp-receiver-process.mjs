/**
 * Child-process entry point: a local OTLP/HTTP trace receiver for the traces-on bench. Accepts
 * POST /v1/traces (JSON), counts the spans, answers 200 `{}`. Prints the count on SIGTERM.
 *   node bench/harness/otlp-receiver-process.mjs
 */
import { createServer } from 'node:http';

let spans = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    spans += text.split('"spanId"').length - 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`otlp receiver: ${spans} spans received\n`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
