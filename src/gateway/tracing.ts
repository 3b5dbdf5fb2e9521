import type { IncomingHttpHeaders } from 'node:http';
import {
  type Attributes,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
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
  /** traceparent (and tracestate) naming this span: sent upstream on a miss, so the upstream's span is its child. */
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
 */
export function startTracing(options: { endpoint?: string | undefined }): Tracing {
  const exporter = new OTLPTraceExporter(
    options.endpoint ? { url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` } : {},
  );
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
      const headers: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
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
