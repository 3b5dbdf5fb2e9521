import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal OTLP/HTTP trace receiver for tests: POST /v1/traces with an ExportTraceServiceRequest
 * as JSON (application/json) or protobuf (application/x-protobuf), decoded here, not by the SDK
 * under test, into one shape: hex ids, the span kind and status code as numbers, attributes as
 * plain values.
 */

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number };
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** `METHOD path content-type` of every export. */
  paths: string[];
  close(): Promise<void>;
}

type Attributes = Record<string, string | number | boolean>;
type JsonValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
const jsonValue = (v: JsonValue) =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? ''));
const jsonAttributes = (list: Array<{ key: string; value: JsonValue }> = []): Attributes =>
  Object.fromEntries(list.map((a) => [a.key, jsonValue(a.value)]));

function fromJson(text: string): ReceivedSpan[] {
  const body = JSON.parse(text) as {
    resourceSpans: Array<{
      resource?: { attributes?: Array<{ key: string; value: JsonValue }> };
      scopeSpans: Array<{
        spans: Array<Omit<ReceivedSpan, 'attributes' | 'resource'> & { attributes?: Array<{ key: string; value: JsonValue }> }>;
      }>;
    }>;
  };
  const spans: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, attributes: jsonAttributes(s.attributes), resource });
  }
  return spans;
}

/** One protobuf field: a varint, the bytes of a length-delimited field, or the raw fixed bytes. */
type Field = { number: number; varint?: bigint; bytes?: Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buf[at++];
      if (byte === undefined) throw new Error('protobuf: truncated varint');
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const number = tag >>> 3;
    const type = tag & 7;
    if (type === 0) out.push({ number, varint: varint() });
    else if (type === 1 || type === 5) {
      const size = type === 1 ? 8 : 4;
      out.push({ number, bytes: buf.subarray(at, at + size) });
      at += size;
    } else if (type === 2) {
      const length = Number(varint());
      out.push({ number, bytes: buf.subarray(at, at + length) });
      at += length;
    } else throw new Error(`protobuf: wire type ${type}`);
  }
  return out;
}
const all = (list: Field[], n: number) => list.filter((f) => f.number === n);
const one = (list: Field[], n: number) => all(list, n)[0];

/** KeyValue { key = 1; AnyValue value = 2 { string 1, bool 2, int 3, double 4 } }. */
function protobufAttributes(list: Field[]): Attributes {
  const attributes: Attributes = {};
  for (const kv of list) {
    const parts = fields(kv.bytes!);
    const key = one(parts, 1)!.bytes!.toString('utf8');
    const value = fields(one(parts, 2)?.bytes ?? Buffer.alloc(0))[0];
    if (!value) continue;
    if (value.number === 1) attributes[key] = value.bytes!.toString('utf8');
    else if (value.number === 2) attributes[key] = value.varint === 1n;
    else if (value.number === 3) attributes[key] = Number(BigInt.asIntN(64, value.varint!));
    else if (value.number === 4) attributes[key] = value.bytes!.readDoubleLE(0);
  }
  return attributes;
}

/** ExportTraceServiceRequest { ResourceSpans 1 { Resource 1 { attributes 1 }, ScopeSpans 2 { Span 2 } } }. */
function fromProtobuf(buf: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of all(fields(buf), 1)) {
    const rsFields = fields(rs.bytes!);
    const resourceBytes = one(rsFields, 1)?.bytes;
    const resource = resourceBytes ? protobufAttributes(all(fields(resourceBytes), 1)) : {};
    for (const ss of all(rsFields, 2)) {
      for (const s of all(fields(ss.bytes!), 2)) {
        const f = fields(s.bytes!);
        const parent = one(f, 4)?.bytes;
        const status = one(f, 15)?.bytes;
        const code = status ? one(fields(status), 3)?.varint : undefined;
        spans.push({
          traceId: one(f, 1)!.bytes!.toString('hex'),
          spanId: one(f, 2)!.bytes!.toString('hex'),
          ...(parent && parent.length > 0 ? { parentSpanId: parent.toString('hex') } : {}),
          name: one(f, 5)?.bytes?.toString('utf8') ?? '',
          kind: Number(one(f, 6)?.varint ?? 0n),
          ...(status ? { status: code === undefined ? {} : { code: Number(code) } } : {}),
          attributes: protobufAttributes(all(f, 9)),
          resource,
        });
      }
    }
  }
  return spans;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = req.headers['content-type'];
      paths.push(`${req.method} ${req.url} ${type}`);
      const body = Buffer.concat(chunks);
      if (type === 'application/x-protobuf') {
        spans.push(...fromProtobuf(body));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
        return;
      }
      spans.push(...fromJson(body.toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    paths,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
