/**
 * Child-process entry point: the baseline for cache hits. A bare node:http server that reads
 * the request body (as any real server must) and answers every request with the same bytes
 * and Content-Type, with Content-Length, as Sluice does for an instant replay.
 * Plain JavaScript run by plain node, like the gateway it is compared with.
 *   node bench/harness/raw-server-process.mjs FILE CONTENT_TYPE
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [file, contentType] = process.argv.slice(2);
if (!file || !contentType) {
  process.stderr.write('usage: raw-server-process.mjs FILE CONTENT_TYPE\n');
  process.exit(2);
}
const body = readFileSync(file);
const headers = {
  'content-type': contentType,
  'content-length': String(body.byteLength),
};

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
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
