/**
 * Child-process entry point: the baseline for cache hits. A bare node:http server that reads
 * the request body (as any real server must) and answers every request with the same bytes
 * and Content-Type, with Content-Length, as Sluice does for an instant replay.
 * Plain JavaScript run by plain node, like the gateway it is compared with.
 *   node bench/harness/raw-server-process.mjs FILE CONTENT_TYPE [HEADERS_JSON]
 *
 * With HEADERS_JSON (a file holding the headers of one Sluice hit), it is the floor of Sluice's
 * wire contract instead: those headers on every answer, a fresh x-request-id (randomUUID, as
 * Sluice makes one for a client that sent none) and one `close` listener per response (Sluice's
 * one per request), and no cache logic at all. Sluice ÷ this is what the cache logic costs;
 * this ÷ the bare server is what the contract costs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [file, contentType, headersFile] = process.argv.slice(2);
if (!file || !contentType) {
  process.stderr.write('usage: raw-server-process.mjs FILE CONTENT_TYPE [HEADERS_JSON]\n');
  process.exit(2);
}
const body = readFileSync(file);
const headers = {
  'content-type': contentType,
  'content-length': String(body.byteLength),
};

/** The hit's own headers, minus those node:http writes itself and the one made per request. */
const NOT_COPIED = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'x-request-id']);
const contract = headersFile
  ? Object.fromEntries(Object.entries(JSON.parse(readFileSync(headersFile, 'utf8'))).filter(([name]) => !NOT_COPIED.has(name)))
  : undefined;

const bare = (req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
};

/** Responses closed so far: what the per-response `close` listener does in place of Sluice's bookkeeping. */
let closedResponses = 0;

const withContract = (req, res) => {
  const requestId = randomUUID();
  // A closure per request, as Sluice's listener closes over the request's exchange.
  res.once('close', () => {
    if (res.writableFinished) closedResponses++;
  });
  req.resume();
  req.once('end', () => {
    res.writeHead(200, { 'x-request-id': requestId, ...headers, ...contract });
    res.end(body);
  });
};

const server = createServer({ keepAliveTimeout: 65_000 }, contract ? withContract : bare);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    if (contract) process.stderr.write(`raw server with Sluice's headers: ${closedResponses} responses delivered\n`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
