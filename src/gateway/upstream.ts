import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import { normalizeBaseUrl } from '../cache/scope.js';
import type { CallLimits } from '../defaults.js';
import type { UpstreamFailure } from '../capture/flight.js';
import type { UpstreamSource } from '../engine/drive.js';
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

/** A configured upstream key replaces whatever the client sent. */
export function applyUpstreamCredential(headers: Record<string, string>, upstream: Upstream): void {
  if (!upstream.apiKey) return;
  delete headers.authorization;
  delete headers['x-api-key'];
  if (upstream.family === 'anthropic') headers['x-api-key'] = upstream.apiKey;
  else headers.authorization = `Bearer ${upstream.apiKey}`;
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
 */
export function httpSource(
  agent: Agent,
  call: (sent: RequestInfo) => UpstreamCall,
  limits: UpstreamLimits,
): UpstreamSource {
  return {
    run: async (sink, signal, sent) => {
      // Built only now: a hit or a follower never pays for upstream headers.
      const request = call(sent);
      let response: Dispatcher.ResponseData;
      try {
        // A signing upstream (Bedrock's SigV4) computes the final headers last, over what is sent.
        const headers = request.upstream.sign ? await request.upstream.sign(request) : request.headers;
        response = await agent.request({
          origin: request.upstream.origin,
          path: request.path,
          method: request.method as 'POST',
          headers,
          body: request.body ?? null,
          signal,
        });
      } catch (err) {
        if (!sink.closed) sink.fail(classifyError(err, limits));
        return;
      }
      sink.head({
        status: response.statusCode,
        contentType: String(response.headers['content-type'] ?? 'application/octet-stream'),
        headers: downstreamResponseHeaders(response.headers),
      });
      const body = response.body;
      await new Promise<void>((resolve) => {
        let ended = false;
        body.on('data', (chunk: Buffer) => {
          sink.data(chunk);
          if (sink.closed) {
            body.destroy();
            resolve();
          }
        });
        body.once('end', () => {
          ended = true;
          sink.end();
          resolve();
        });
        body.once('error', (err) => {
          if (!sink.closed) sink.fail(classifyError(err, limits));
          resolve();
        });
        // A body that closes without 'end' was cut: never let that reach the completeness gate.
        body.once('close', () => {
          if (!ended && !sink.closed) {
            sink.fail({ code: 'upstream_reset', status: 502, message: 'upstream body closed before its end' });
          }
          resolve();
        });
      });
    },
  };
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
