import { Agent, errors as undiciErrors } from 'undici';
import { normalizeBaseUrl } from '../cache/scope.js';
import type { Flight, UpstreamFailure } from '../capture/flight.js';
import type { ProtocolFamily } from '../protocols/types.js';
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

export interface UpstreamLimits {
  /** 0: no cap. */
  maxUpstreamConnections: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxStreamDurationMs: number;
  maxResponseBytes: number;
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

export interface UpstreamObserver {
  onHeaders(seconds: number): void;
  onEnd(seconds: number): void;
  onFailure(failure: UpstreamFailure): void;
}

/**
 * Run one upstream call and feed its answer into a flight, enforcing the idle, duration and
 * size limits. Every way the call can end settles the flight exactly once.
 */
export async function driveFlight(
  flight: Flight,
  agent: Agent,
  call: UpstreamCall,
  limits: UpstreamLimits,
  observer: UpstreamObserver,
): Promise<void> {
  const startedAt = performance.now();
  const durationTimer = setTimeout(() => {
    fail(flight, observer, {
      code: 'duration_limit',
      status: 504,
      message: `upstream answer exceeded the ${limits.maxStreamDurationMs} ms stream duration limit`,
    });
  }, limits.maxStreamDurationMs);
  durationTimer.unref();
  try {
    const headers = call.upstream.sign ? await call.upstream.sign(call) : call.headers;
    const response = await agent.request({
      origin: call.upstream.origin,
      path: call.path,
      method: call.method as 'POST',
      headers,
      body: call.body ?? null,
      signal: flight.controller.signal,
    });
    observer.onHeaders((performance.now() - startedAt) / 1000);
    flight.start({
      status: response.statusCode,
      contentType: String(response.headers['content-type'] ?? 'application/octet-stream'),
      headers: downstreamResponseHeaders(response.headers),
    });
    const body = response.body;
    let received = 0;
    let ended = false;
    await new Promise<void>((resolve, reject) => {
      body.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxResponseBytes) {
          fail(flight, observer, {
            code: 'response_too_large',
            status: 502,
            message: `upstream answer exceeded the ${limits.maxResponseBytes}-byte response limit`,
          });
          body.destroy();
          resolve();
          return;
        }
        flight.push(chunk, Date.now());
      });
      body.once('end', () => {
        ended = true;
        resolve();
      });
      body.once('error', reject);
      // A body that closes without 'end' was cut: never let that reach the completeness gate.
      body.once('close', () =>
        ended ? resolve() : reject(new Error('upstream body closed before its end')),
      );
    });
    if (!flight.outcome) {
      flight.finish();
      observer.onEnd((performance.now() - startedAt) / 1000);
    }
  } catch (err) {
    if (!flight.outcome) fail(flight, observer, classifyError(err, limits));
  } finally {
    clearTimeout(durationTimer);
  }
}

function fail(flight: Flight, observer: UpstreamObserver, failure: UpstreamFailure): void {
  if (flight.outcome) return;
  observer.onFailure(failure);
  flight.abort(failure);
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
