import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import { type CredentialSource, removeCredentialHeaders, withoutCredentialQuery } from '../cache/credentials.js';
import { normalizeBaseUrl } from '../cache/scope.js';
import type { CallLimits } from '../defaults.js';
import type { UpstreamFailure } from '../capture/flight.js';
import type { UpstreamSink, UpstreamSource } from '../engine/drive.js';
import type { ProtocolFamily, RequestInfo } from '../protocols/types.js';
import { downstreamResponseHeaders } from './http.js';

/** One configured upstream: where requests go and which credential, if any, replaces the client's. */
export interface Upstream {
  family: ProtocolFamily;
  origin: string;
  /** Path prefix of the base URL, without a trailing slash ('/v1' for OpenAI's, '' for Anthropic's). */
  basePath: string;
  /** Normalized base URL: part of every cache key. */
  identity: string;
  apiKey: string | undefined;
  /**
   * For upstreams that authenticate each request by signing it (Bedrock's SigV4): the final
   * headers for a call, computed last, over exactly what is sent.
   */
  sign?: ((call: UpstreamCall) => Promise<Record<string, string>>) | undefined;
  /** A named upstream (config `upstreams:`): its name, the tag on its entries, its limits and pool. */
  name?: string | undefined;
  tag?: string | undefined;
  limits?: UpstreamLimits | undefined;
  agent?: Agent | undefined;
}

export function makeUpstream(
  family: ProtocolFamily,
  baseUrl: string,
  apiKey: string | undefined,
  sign?: Upstream['sign'],
): Upstream {
  return { family, ...normalizeBaseUrl(baseUrl), apiKey, sign };
}

/**
 * The upstream path for a request's path (as the client encoded it). OpenAI's base URL already
 * carries the version ('/v1'), as the OpenAI SDK's baseURL does; Anthropic's and Bedrock's do not.
 */
export function upstreamPath(upstream: Upstream, routePath: string, search: string): string {
  const rest = upstream.family === 'openai' && routePath.startsWith('/v1/') ? routePath.slice(3) : routePath;
  return `${upstream.basePath}${rest}${search}`;
}

/**
 * A configured upstream key replaces whatever the client sent: every credential source
 * (src/cache/credentials.ts) is removed before the upstream's own key is set.
 */
export function applyUpstreamCredential(
  headers: Record<string, string>,
  upstream: Upstream,
  sources: readonly CredentialSource[],
): void {
  if (!upstream.apiKey) return;
  removeCredentialHeaders(headers, sources);
  if (upstream.family === 'anthropic') headers['x-api-key'] = upstream.apiKey;
  else if (upstream.family === 'gemini') headers['x-goog-api-key'] = upstream.apiKey;
  else headers.authorization = `Bearer ${upstream.apiKey}`;
}

/** The query forwarded upstream: a configured upstream key replaces a client's key in the query too. */
export function upstreamSearch(upstream: Upstream, search: string, sources: readonly CredentialSource[]): string {
  return upstream.apiKey ? withoutCredentialQuery(search, sources) : search;
}

export interface UpstreamLimits extends CallLimits {
  /** 0: no cap. */
  maxUpstreamConnections: number;
  connectTimeoutMs: number;
}

export function createUpstreamAgent(limits: UpstreamLimits): Agent {
  return new Agent({
    connect: { timeout: limits.connectTimeoutMs },
    headersTimeout: limits.idleTimeoutMs,
    bodyTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: 30_000,
    // null is undici's "no cap": a capped pool makes request N+1 wait for a whole stream to end.
    connections: limits.maxUpstreamConnections > 0 ? limits.maxUpstreamConnections : null,
  });
}

export interface UpstreamCall {
  upstream: Upstream;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/**
 * The gateway's upstream: one HTTP call through undici, fed into the engine's sink. The engine
 * enforces the limits; undici's own timeouts (headersTimeout/bodyTimeout) are classified the same.
 *
 * It dispatches with a handler of its own instead of `agent.request`: the request API wraps every
 * call in an AsyncResource, an abort listener on a signal and a body Readable, then hands each
 * piece through the stream machinery, which costs a forwarded answer tens of microseconds that
 * buy it nothing here. The handler takes undici's pieces as they are parsed.
 */
export function httpSource(
  agent: Dispatcher,
  call: (sent: RequestInfo) => UpstreamCall,
  limits: UpstreamLimits,
): UpstreamSource {
  return {
    run: async (sink, sent) => {
      // Built only now: a hit or a follower never pays for upstream headers.
      const request = call(sent);
      let headers: Record<string, string>;
      try {
        // A signing upstream (Bedrock's SigV4) computes the final headers last, over what is sent.
        headers = request.upstream.sign ? await request.upstream.sign(request) : request.headers;
      } catch (err) {
        if (!sink.closed) sink.fail(classifyError(err, limits));
        return;
      }
      if (sink.closed) return;
      await new Promise<void>((resolve) => {
        const handler = new SinkHandler(sink, limits, resolve);
        sink.onAbort(() => handler.abort());
        agent.dispatch(
          { origin: request.upstream.origin, path: request.path, method: request.method as 'POST', headers, body: request.body ?? null },
          handler,
        );
      });
    },
  };
}

/** undici's response events into an UpstreamSink; `done` once the call is over, whichever way. */
class SinkHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private aborted = false;
  private over = false;

  constructor(
    private readonly sink: UpstreamSink,
    private readonly limits: UpstreamLimits,
    private readonly done: () => void,
  ) {}

  /** The flight stopped (a limit, every client gone): stop the upstream call, now or once it starts. */
  abort(): void {
    this.aborted = true;
    this.controller?.abort(new Error('the flight was stopped'));
    this.end();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.aborted) controller.abort(new Error('the flight was stopped'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.sink.closed) return;
    this.sink.head({
      status: statusCode,
      contentType: String(headers['content-type'] ?? 'application/octet-stream'),
      headers: downstreamResponseHeaders(headers),
    });
    this.pauseIfFull(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.sink.closed) return;
    this.sink.data(chunk);
    this.pauseIfFull(controller);
  }

  onResponseEnd(): void {
    // A body that ended short of its framing (Content-Length, chunked) is an error here, never an end.
    if (!this.sink.closed) this.sink.end();
    this.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (!this.sink.closed) this.sink.fail(classifyError(err, this.limits));
    this.end();
  }

  /** Backpressure: a listener that is full pauses the upstream socket until it can take more. */
  private pauseIfFull(controller: Dispatcher.DispatchController): void {
    const wait = this.sink.ready();
    if (!wait) return;
    controller.pause();
    void wait.then(() => controller.resume());
  }

  private end(): void {
    if (this.over) return;
    this.over = true;
    this.done();
  }
}

function classifyError(err: unknown, limits: UpstreamLimits): UpstreamFailure {
  if (err instanceof undiciErrors.ConnectTimeoutError) {
    return {
      code: 'connect_timeout',
      status: 504,
      message: `could not connect to the upstream within ${limits.connectTimeoutMs} ms`,
    };
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return {
      code: 'idle_timeout',
      status: 504,
      message: `the upstream sent nothing for ${limits.idleTimeoutMs} ms`,
    };
  }
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
    return { code: 'connect_failed', status: 502, message: `could not reach the upstream (${code})` };
  }
  return {
    code: 'upstream_reset',
    status: 502,
    message: `the upstream connection failed: ${(err as Error).message ?? String(err)}`,
  };
}
