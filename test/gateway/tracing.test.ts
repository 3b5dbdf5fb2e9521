import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, eventually, sleep } from './harness.js';

/**
 * OpenTelemetry traces (issue 24): one span per request, exported over OTLP/HTTP to a receiver
 * written here (JSON, as @opentelemetry/exporter-trace-otlp-http sends it), continuing the client's
 * traceparent and passed on upstream on a miss.
 */

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number };
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
const valueOf = (v: AnyValue) =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? ''));
const attributesOf = (list: Array<{ key: string; value: AnyValue }> = []) =>
  Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** A minimal OTLP/HTTP trace receiver: POST /v1/traces with a JSON ExportTraceServiceRequest. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; paths: string[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{
          resource?: { attributes?: Array<{ key: string; value: AnyValue }> };
          scopeSpans: Array<{ spans: Array<Omit<ReceivedSpan, 'attributes' | 'resource'> & { attributes?: Array<{ key: string; value: AnyValue }> }> }>;
        }>;
      };
      for (const rs of body.resourceSpans) {
        const resource = attributesOf(rs.resource?.attributes);
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, attributes: attributesOf(s.attributes), resource });
      }
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

let mock: MockUpstream;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let gateway: Gateway;
let url: string;

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

beforeAll(async () => {
  mock = await startMockUpstream();
  receiver = await startReceiver();
  gateway = createGateway(
    parseConfig({
      port: 0,
      upstream: mock.openaiBaseURL,
      anthropicUpstream: mock.anthropicBaseURL,
      otelEndpoint: receiver.url,
    }),
    { logger: createLogger('silent') },
  );
  url = await gateway.listen();
});
afterAll(async () => {
  await receiver.close();
  await mock.close();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-PLANTED-trace-key', ...headers },
    body: JSON.stringify(body),
  });

describe('one span per request', () => {
  const ids: Record<string, string> = {};
  let upstreamTraceparent: string | undefined;

  beforeAll(async () => {
    const traceparent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
    // A MISS continuing the client's trace, then a HIT on its entry.
    const body = chatBody('PLANTED prompt for the trace test');
    const miss = await post(body, { traceparent, 'x-request-id': 'trace-miss' });
    await miss.text();
    expect(miss.headers.get('x-sluice-cache')).toBe('MISS');
    upstreamTraceparent = mock.stats.lastRequest?.headers.traceparent as string | undefined;
    await eventually(async () => {
      const hit = await post(body, { 'x-request-id': 'trace-hit' });
      await hit.text();
      return hit.headers.get('x-sluice-cache') === 'HIT';
    });
    // A leader and a COALESCED follower on a slow stream.
    const slow = chatBody('coalesced in the trace test', { stream: true, stream_options: { include_usage: true } });
    const leader = post(slow, { 'x-mock-delay-ms': '30', 'x-mock-words': '8', 'x-request-id': 'trace-leader' });
    await sleep(60);
    const follower = await post(slow, { 'x-request-id': 'trace-follower' });
    expect(follower.headers.get('x-sluice-cache')).toBe('COALESCED');
    await Promise.all([(await leader).text(), follower.text()]);
    // An upstream error.
    const failed = await post(chatBody('fails upstream'), { 'x-mock-status': '500', 'x-request-id': 'trace-error' });
    await failed.text();
    expect(failed.status).toBe(500);
    await sleep(50);
    // Closing the gateway exports what the batch processor still holds.
    await gateway.close();
    // MISS, HIT, leader, follower, error: five requests, five spans.
    await eventually(() => receiver.spans.length >= 5, 10_000);
    for (const span of receiver.spans) ids[span.spanId] = span.name;
  }, 30_000);

  const spanOf = (cache: string, pick = 0) => receiver.spans.filter((s) => s.attributes['sluice.cache.status'] === cache)[pick];

  test('arrive over OTLP/HTTP, named {operation} {model}, with the GenAI attributes', () => {
    expect(receiver.spans).toHaveLength(5);
    expect(receiver.paths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);
    const miss = spanOf('MISS') as ReceivedSpan;
    expect(miss.name).toBe('chat gpt-4o-mini');
    expect(miss.kind).toBe(2); // SERVER
    expect(miss.resource['service.name']).toBe('sluice');
    expect(miss.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'sluice.cache.layer': 'none',
    });
    expect(typeof miss.attributes['gen_ai.response.model']).toBe('string');
    expect(miss.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(miss.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(miss.attributes['sluice.cache.key']).toMatch(/^v\d+:[0-9a-f]{64}$/);
  });

  test("a MISS continues the client's trace and names itself as the upstream call's parent", () => {
    const miss = spanOf('MISS') as ReceivedSpan;
    expect(miss.traceId).toBe(CLIENT_TRACE);
    expect(miss.parentSpanId).toBe(CLIENT_SPAN);
    expect(upstreamTraceparent).toBe(`00-${CLIENT_TRACE}-${miss.spanId}-01`);
  });

  test('a HIT has the layer, the key, the age and the usage of the entry; a fresh trace without a traceparent', () => {
    const miss = spanOf('MISS') as ReceivedSpan;
    const hit = spanOf('HIT') as ReceivedSpan;
    expect(hit.name).toBe('chat gpt-4o-mini');
    expect(hit.traceId).not.toBe(CLIENT_TRACE);
    expect(hit.parentSpanId ?? '').toBe('');
    expect(hit.attributes).toMatchObject({
      'sluice.cache.layer': 'l1',
      'sluice.cache.key': miss.attributes['sluice.cache.key'],
      'gen_ai.usage.input_tokens': miss.attributes['gen_ai.usage.input_tokens'],
      'gen_ai.usage.output_tokens': miss.attributes['gen_ai.usage.output_tokens'],
      'gen_ai.response.model': miss.attributes['gen_ai.response.model'],
    });
    expect(hit.attributes['sluice.cache.age']).toBeGreaterThanOrEqual(0);
    expect(hit.status?.code ?? 0).not.toBe(2);
  });

  test('a COALESCED follower has its own span with the shared answer’s usage', () => {
    const follower = spanOf('COALESCED') as ReceivedSpan;
    const leader = receiver.spans.find(
      (s) => s.attributes['sluice.cache.status'] === 'MISS' && s.attributes['sluice.cache.key'] === follower.attributes['sluice.cache.key'],
    ) as ReceivedSpan;
    expect(leader).toBeDefined();
    expect(follower.spanId).not.toBe(leader.spanId);
    expect(follower.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4o-mini', 'http.response.status_code': 200 });
    expect(follower.attributes['gen_ai.usage.output_tokens']).toBe(leader.attributes['gen_ai.usage.output_tokens']);
  });

  test('an upstream error is an error span with its type', () => {
    const failed = receiver.spans.find((s) => s.attributes['http.response.status_code'] === 500) as ReceivedSpan;
    expect(failed.status?.code).toBe(2); // ERROR
    expect(failed.attributes['error.type']).toBe('500');
    expect(failed.attributes['sluice.cache.status']).toBe('MISS');
  });

  test('never a prompt or a credential', () => {
    const text = JSON.stringify(receiver.spans);
    expect(text).not.toContain('PLANTED');
  });
});

describe('with traces off', () => {
  test('no module of the request path imports OpenTelemetry; the gateway loads tracing.ts lazily', async () => {
    const src = join(import.meta.dirname, '..', '..', 'src');
    const walk = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { withFileTypes: true })).flatMap((e) => (e.isDirectory() ? [] : [join(dir, e.name)])).concat(
        ...(await Promise.all(
          (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => walk(join(dir, e.name))),
        )),
      );
    for (const path of await walk(src)) {
      const file = relative(src, path).split('\\').join('/');
      const text = await readFile(path, 'utf8');
      if (file !== 'gateway/tracing.ts') expect(text, file).not.toMatch(/from '@opentelemetry\//);
      // Only a type import or a dynamic import() of the tracing module.
      expect(text, file).not.toMatch(/import\s+\{[^}]*\}\s+from\s+'\.\/tracing\.js'/);
      expect(text, file).not.toMatch(/import\s+'\.\/tracing\.js'/);
    }
    const server = await readFile(join(src, 'gateway', 'server.ts'), 'utf8');
    expect(server).toMatch(/await import\('\.\/tracing\.js'\)/);
  });
});
