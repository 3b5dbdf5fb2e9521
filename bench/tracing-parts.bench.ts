/**
 * What one span costs, part by part, in process and without any network: the official SDK
 * (W3C propagator, BasicTracerProvider, BatchSpanProcessor) with an exporter that only runs the
 * OTLP serializer and drops the bytes. Steps, each adding to the one before: 0 a span started and
 * ended; 1 + extract from request headers (no traceparent, as a hit sends); 2 + inject into a
 * headers object; 3 + the name and the 15 attributes a JSON chat hit's span carries. For each
 * serializer: none (the batch is dropped unserialized), protobuf, JSON. Where bench:tracing
 * measures the whole module with its HTTP export, this splits the serializer from the span.
 *   npx tsx bench/tracing-parts.bench.ts      (BENCH_SPANS=N per step, default 200000)
 */
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { machineLine } from './harness/report.js';

const SPANS = Number(process.env.BENCH_SPANS ?? 200_000);
const headers = { host: '127.0.0.1', 'content-type': 'application/json' };
const KEY = `v3:${'ab12'.repeat(16)}`;
const attributes = () => ({
  'http.request.method': 'POST',
  'http.response.status_code': 200,
  'url.path': '/v1/chat/completions',
  'http.route': '/v1/chat/completions',
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o-mini',
  'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
  'gen_ai.usage.input_tokens': 44,
  'gen_ai.usage.output_tokens': 48,
  'sluice.cache.status': 'HIT',
  'sluice.cache.layer': 'l1',
  'sluice.cache.key': KEY,
  'sluice.cache.age': 12,
  'sluice.response.completed': true,
});

console.log(`tracing parts bench: ${machineLine()}`);
const serializers: Record<string, ((spans: ReadableSpan[]) => Uint8Array | undefined) | undefined> = {
  none: undefined,
  protobuf: (spans) => ProtobufTraceSerializer.serializeRequest(spans),
  json: (spans) => JsonTraceSerializer.serializeRequest(spans),
};
console.log('  CPU µs per span (second of two passes)   step 0: span   1: + extract   2: + inject   3: + name, 15 attributes   bytes/span');
for (const [name, serialize] of Object.entries(serializers)) {
  let bytes = 0;
  let serialized = 0;
  const exporter: SpanExporter = {
    export(spans, done) {
      const out = serialize?.(spans);
      if (out) {
        bytes += out.length;
        serialized += spans.length;
      }
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer('sluice');
  const propagator = new W3CTraceContextPropagator();
  const one = (step: number) => {
    const parent = step >= 1 ? propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter) : ROOT_CONTEXT;
    const span = tracer.startSpan('sluice', { kind: SpanKind.SERVER }, parent);
    if (step >= 2) propagator.inject(trace.setSpan(ROOT_CONTEXT, span), {}, defaultTextMapSetter);
    if (step >= 3) {
      span.updateName('chat gpt-4o-mini');
      span.setAttributes(attributes());
    }
    span.end();
  };
  const row: string[] = [];
  for (const pass of [0, 1]) {
    for (const step of [0, 1, 2, 3]) {
      const before = process.cpuUsage();
      for (let i = 0; i < SPANS; i++) {
        one(step);
        if (i % 512 === 511) await new Promise((resolve) => setImmediate(resolve));
      }
      const used = process.cpuUsage(before);
      if (pass === 1) row.push(((used.user + used.system) / SPANS).toFixed(2).padStart(8));
    }
  }
  await provider.shutdown();
  console.log(`  ${name.padEnd(10)} ${row.join('  ')}   ${serialized ? (bytes / serialized).toFixed(0) : '-'}`);
}
