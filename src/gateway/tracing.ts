import type { IncomingHttpHeaders } from 'node:http';
import {
  type Attributes,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Outcome } from '../engine/outcome.js';

/**
 * OpenTelemetry traces (issue 24), loaded only when traces are on (server.ts imports this module
 * lazily): with traces off, none of it runs. One SERVER span per request, continuing the client's
 * W3C traceparent, named and described from the request's outcome record when the response
 * closes, after the GenAI semantic conventions (gen_ai.*), with the cache's own facts under
 * sluice.cache.*. The record holds no prompt text and no credential, so the span cannot either.
 */

/** gen_ai.operation.name by protocol. */
const OPERATIONS: Record<string, string> = {
  'openai.chat': 'chat',
  'openai.responses': 'chat',
  'openai.completions': 'text_completion',
  'openai.embeddings': 'embeddings',
  'anthropic.messages': 'chat',
  'bedrock.converse': 'chat',
  'bedrock.invoke': 'chat',
};

/** gen_ai.provider.name by protocol family (the part of the protocol's name before the dot). */
const PROVIDERS: Record<string, string> = { openai: 'openai', anthropic: 'anthropic', bedrock: 'aws.bedrock' };

/** One request's span, from its arrival to the close of its response. */
export interface RequestTrace {
  /**
   * traceparent (and tracestate) naming this span: sent upstream on a miss, so the upstream's span
   * is its child. Lazy: the propagator formats them only when they are read (a hit never reads them).
   */
  readonly headers: Record<string, string>;
  /** The response closed: describe the span from the outcome record and end it. */
  end(outcome: Outcome): void;
}

export interface Tracing {
  start(headers: IncomingHttpHeaders): RequestTrace;
  /** Export what is pending and stop. */
  shutdown(): Promise<void>;
}

/**
 * Traces to an OTLP/HTTP collector: `endpoint` is the base URL (as OTEL_EXPORTER_OTLP_ENDPOINT,
 * /v1/traces is added); without it the exporter reads the standard OTEL_EXPORTER_OTLP_* variables.
 * The batch processor (OTEL_BSP_*), the sampler (OTEL_TRACES_SAMPLER) and the resource
 * (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES; service.name defaults to sluice) read theirs.
 *
 * The payload is protobuf, OTLP's default (`http/protobuf`), unless OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
 * or OTEL_EXPORTER_OTLP_PROTOCOL asks for `http/json`: serializing is most of what a span costs
 * the gateway, and the SDK's protobuf serializer costs a span about half of what its JSON one
 * does (bench/RESULTS.md, issue 24).
 */
export function startTracing(options: { endpoint?: string | undefined }, env = process.env): Tracing {
  const config = options.endpoint ? { url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` } : {};
  const exporter = tracesProtocol(env) === 'http/json' ? new JsonTraceExporter(config) : new ProtobufTraceExporter(config);
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'sluice' }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer('sluice');
  const propagator = new W3CTraceContextPropagator();

  return {
    start(requestHeaders) {
      const parent = propagator.extract(ROOT_CONTEXT, requestHeaders, defaultTextMapGetter);
      const span = tracer.startSpan('sluice', { kind: SpanKind.SERVER }, parent);
      const headers = lazyHeaders(span, propagator);
      return {
        headers,
        end(o) {
          const operation = o.protocol === undefined ? undefined : OPERATIONS[o.protocol];
          const attributes: Attributes = {
            'http.request.method': o.method,
            'http.response.status_code': o.status,
            'url.path': o.path,
          };
          if (o.route !== undefined) attributes['http.route'] = o.route;
          if (operation !== undefined && o.protocol !== undefined) {
            span.updateName(`${operation} ${o.model ?? ''}`.trim());
            attributes['gen_ai.operation.name'] = operation;
            const provider = PROVIDERS[o.protocol.slice(0, o.protocol.indexOf('.'))];
            if (provider) attributes['gen_ai.provider.name'] = provider;
            if (o.model !== undefined) attributes['gen_ai.request.model'] = o.model;
            if (o.answer) {
              attributes['gen_ai.response.model'] = o.answer.model;
              if (o.answer.usage) {
                attributes['gen_ai.usage.input_tokens'] = o.answer.usage.inputTokens;
                attributes['gen_ai.usage.output_tokens'] = o.answer.usage.outputTokens;
              }
            }
          } else {
            span.updateName(o.route === undefined ? o.method : `${o.method} ${o.route}`);
          }
          if (o.cache !== undefined) attributes['sluice.cache.status'] = o.cache;
          if (o.layer !== undefined) attributes['sluice.cache.layer'] = o.layer;
          if (o.key !== undefined) attributes['sluice.cache.key'] = o.key;
          if (o.similarity !== undefined) attributes['sluice.cache.similarity'] = o.similarity;
          if (o.ageSeconds !== undefined) attributes['sluice.cache.age'] = o.ageSeconds;
          attributes['sluice.response.completed'] = o.completed;
          // HTTP server spans: a 5xx is the server's error, a 4xx the client's (not an error of this span).
          if (o.status >= 500 || (o.failure !== undefined && o.failure !== 'client_disconnect')) {
            attributes['error.type'] = o.failure ?? String(o.status);
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.setAttributes(attributes);
          span.end();
        },
      };
    },
    shutdown: () => provider.shutdown(),
  };
}

/** OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else OTLP's default. */
export function tracesProtocol(env: NodeJS.ProcessEnv): string {
  return (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim().toLowerCase();
}

/**
 * The headers naming `span` for the upstream request, as own enumerable getters (the callers
 * copy them with Object.assign): the propagator injects them on the first read, so a hit, which
 * never reads them, skips that work. Their names are fixed at the start, as the propagator would
 * write them: traceparent for a valid span context, tracestate when the context carries one.
 */
function lazyHeaders(span: Span, propagator: W3CTraceContextPropagator): Record<string, string> {
  const headers: Record<string, string> = {};
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return headers;
  let injected: Record<string, string> | undefined;
  const read = (name: string) => () => {
    if (injected === undefined) {
      injected = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), injected, defaultTextMapSetter);
    }
    return injected[name];
  };
  Object.defineProperty(headers, 'traceparent', { enumerable: true, get: read('traceparent') });
  if (context.traceState) Object.defineProperty(headers, 'tracestate', { enumerable: true, get: read('tracestate') });
  return headers;
}
