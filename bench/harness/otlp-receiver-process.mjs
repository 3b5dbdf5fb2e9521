/**
 * Child-process entry point: a local OTLP/HTTP trace receiver for the traces-on bench. Accepts
 * POST /v1/traces as JSON or protobuf (application/x-protobuf), counts the spans, answers 200
 * (`{}`, or an empty protobuf message). Prints the count on SIGTERM.
 *   node bench/harness/otlp-receiver-process.mjs
 */
import { createServer } from 'node:http';

let spans = 0;
let exports = 0;
const formats = new Set();
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    exports++;
    formats.add(req.headers["content-type"]);
    if (req.headers['content-type'] === 'application/x-protobuf') {
      // ExportTraceServiceRequest: resource_spans = 1 { scope_spans = 2 { spans = 2 } }.
      for (const rs of fields(body, 1)) for (const ss of fields(rs, 2)) spans += fields(ss, 2).length;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
      return;
    }
    spans += body.toString('utf8').split('"spanId"').length - 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});

/** The length-delimited fields numbered `wanted` of one protobuf message. */
function fields(buf, wanted) {
  const found = [];
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = buf[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < buf.length) {
    const tag = varint();
    const type = tag & 7;
    if (type === 0) varint();
    else if (type === 1) at += 8;
    else if (type === 5) at += 4;
    else if (type === 2) {
      const length = varint();
      if (tag >>> 3 === wanted) found.push(buf.subarray(at, at + length));
      at += length;
    } else throw new Error(`protobuf wire type ${type} not expected`);
  }
  return found;
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`otlp receiver: ${spans} spans received in ${exports} exports (${[...formats].join(", ")})\n`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
