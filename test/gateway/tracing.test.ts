import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { tracesProtocol } from '../../src/gateway/tracing.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, eventually, sleep } from './harness.js';

/**
 * OpenTelemetry traces (issue 24): one span per request, exported over OTLP/HTTP to a receiver
 * written for the tests (test/helpers/otlp-receiver.ts decodes both payloads), continuing the
 * client's traceparent and passed on upstream on a miss. The same spans, whichever the protocol:
 * protobuf (OTLP's default) or JSON (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json).
 */

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const CLIENT_STATE = 'congo=t61rcWkgMzE';

describe.each([
  { protocol: 'http/protobuf', env: undefined, contentType: 'application/x-protobuf' },
  { protocol: 'http/json', env: 'http/json', contentType: 'application/json' },
])('one span per request, over $protocol', ({ env, contentType }) => {
  let mock: MockUpstream;
  let receiver: OtlpReceiver;
  let gateway: Gateway;
  let url: string;

  beforeAll(async () => {
    mock = await startMockUpstream();
    receiver = await startOtlpReceiver();
    gateway = createGateway(
      parseConfig({
        port: 0,
        upstream: mock.openaiBaseURL,
        anthropicUpstream: mock.anthropicBaseURL,
        otelEndpoint: receiver.url,
      }),
      { logger: createLogger('silent') },
    );
    // The exporter reads the protocol when listen() starts tracing.
    const saved = process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
    if (env === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
    else process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = env;
    try {
      url = await gateway.listen();
    } finally {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
      else process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = saved;
    }
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

  describe('spans', () => {
    const ids: Record<string, string> = {};
    let upstreamTraceparent: string | undefined;
    let upstreamTracestate: string | undefined;

    beforeAll(async () => {
      const traceparent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
      // A MISS continuing the client's trace, then a HIT on its entry.
      const body = chatBody('PLANTED prompt for the trace test');
      const miss = await post(body, { traceparent, tracestate: CLIENT_STATE, 'x-request-id': 'trace-miss' });
      await miss.text();
      expect(miss.headers.get('x-sluice-cache')).toBe('MISS');
      upstreamTraceparent = mock.stats.lastRequest?.headers.traceparent as string | undefined;
      upstreamTracestate = mock.stats.lastRequest?.headers.tracestate as string | undefined;
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
      expect(receiver.paths.length).toBeGreaterThan(0);
      expect(receiver.paths.every((p) => p === `POST /v1/traces ${contentType}`)).toBe(true);
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
      expect(upstreamTracestate).toBe(CLIENT_STATE);
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

});

describe('the protocol', () => {
  test('protobuf unless the standard variables ask for JSON (the traces one first)', () => {
    expect(tracesProtocol({})).toBe('http/protobuf');
    expect(tracesProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(tracesProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toBe('http/protobuf');
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
