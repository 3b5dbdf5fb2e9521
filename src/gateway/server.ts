import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCredentialSources, TenantIndex, redactUrl } from '../cache/credentials.js';
import { CoherenceSetUpError, RedisCoherence } from '../cache/coherence.js';
import { MemoryStore } from '../cache/memory-store.js';
import { RedisStore } from '../cache/redis-store.js';
import { bedrockUpstreamUrl, type SluiceConfig } from '../config.js';
import { DEFAULTS } from '../defaults.js';
import { Engine } from '../engine/engine.js';
import { composeHooks, WriteCounts } from '../engine/hooks.js';
import { OutcomeRecord, outcomeSinks } from '../engine/outcome.js';
import { failOpen, failOpenTiers } from '../engine/stores.js';
import { RequestMemo } from '../protocols/request-memo.js';
import { accessLogSink } from './access-log.js';
import { Exchange } from './exchange.js';
import { createSemanticLayer } from '../semantic/index.js';
import { createPriceTable } from '../stats/prices.js';
import { bedrockUpstreamSigner } from './bedrock-auth.js';
import { answerClientErrors } from './client-errors.js';
import { dashboardHooks, gatewayHooks } from './engine-hooks.js';
import type { GatewayContext, SemanticCounts } from './context.js';
import { createStatsRecorder, type StatsRecorder } from './dashboard/recorder.js';
import { FleetStats } from './fleet-stats.js';
import { dashboardSink, LookupTally, metricsSink, upstreamSink } from './outcome-sinks.js';
import { SessionStore } from './dashboard/session.js';
import { sendError } from './http.js';
import { familyForPath, pathOf, route } from './router.js';
import { createLogger, type Logger, logStream, watchDrops } from './logger.js';
import { acceptCleartextHttp2 } from './h2c.js';
import { createMetrics } from './metrics.js';
import { type DrainResult, drainServer, Lifecycle, stopServer } from './shutdown.js';
import { summarizeInstance, summaryMessage } from './instance-summary.js';
import type { Tracing } from './tracing.js';
import { createUpstreamAgent, makeUpstream } from './upstream.js';
import { closeNamedUpstreams, createNamedUpstreams, namedTarget } from './named-upstreams.js';
import { UpstreamTally } from './upstream-tally.js';
import { createFleetCoalescing } from './fleet-coalescing.js';

export interface Gateway {
  readonly server: Server;
  readonly context: GatewayContext;
  /** Start listening; resolves to the base URL (http://host:port). */
  listen(): Promise<string>;
  /**
   * Graceful stop: /healthz says 503 and new requests are refused while answers in flight finish,
   * for up to `graceMs` (default config.shutdownGraceMs); pending L2 writes are flushed; then the
   * rest is cut and everything closed.
   */
  drain(graceMs?: number): Promise<DrainResult>;
  /** Stop at once: every connection cut (nothing cut is ever stored), everything closed. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger?: Logger;
  /** The clock of the dashboard's per-minute and per-hour series (default Date.now): for tests and demos. */
  now?: () => number;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const LISTEN_BACKLOG = 4096;

/** Node's default header block limit; larger is a 431. */
const MAX_HEADER_BYTES = 16 * 1024;

export function createGateway(config: SluiceConfig, options: GatewayOptions = {}): Gateway {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const redis = config.redis
    ? new RedisStore({
        url: config.redis.url,
        cluster: config.redis.cluster,
        sentinel: config.redis.sentinel,
        keyPrefix: config.redis.keyPrefix,
        maxEntryBytes: config.cache.maxEntryBytes,
      })
    : undefined;
  const prices = createPriceTable(config.prices);
  const localStats = createStatsRecorder({
    metrics,
    prices,
    priceOverrides: Object.keys(config.prices).length,
    now: options.now,
  });
  // The fleet's figures get every event the local recorder gets.
  const fleet = redis
    ? new FleetStats({
        // Off the live connection: a view's reads must not queue live GETs behind them.
        client: redis.adminClient,
        keyPrefix: redis.keyPrefix,
        prices,
        now: options.now,
        onError: (err) => logger.debug({ err: err.message }, 'fleet figures not reported to redis (kept for the next report)'),
      })
    : undefined;
  const stats: StatsRecorder = {
    record: (event) => {
      localStats.record(event);
      fleet?.record(event);
    },
    snapshot: () => localStats.snapshot(),
  };
  const l1 = new MemoryStore({
    maxBytes: config.cache.memoryMaxBytes,
    maxEntryBytes: config.cache.maxEntryBytes,
  });
  const l2 = redis
    ? failOpen(redis, {
        timeoutMs: config.redis?.timeoutMs ?? DEFAULTS.storeTimeoutMs,
        adminTimeoutMs: config.adminTimeoutSeconds * 1000,
        onError: (op, err) => {
          metrics.storeErrors.inc({ store: 'redis', op });
          stats.record({ type: 'store_error', store: 'redis', code: err.code });
          logger.debug({ op, code: err.code }, 'redis store error (served as a miss)');
        },
        onStateChange: (state, store) => {
          metrics.breakerState.set({ store }, state === 'closed' ? 0 : 1);
          logger.warn({ store, state }, `cache store circuit ${state}`);
        },
      })
    : undefined;
  // Every replica's L1 follows every change made in Redis (issue 23: the fleet is one cache).
  let lastSetUpWarning = 0;
  const coherence = redis
    ? new RedisCoherence({
        source: redis,
        l1,
        onStateChange: (state) => {
          if (state === 'linked') logger.info('L1 coherence link to redis established; L1 flushed');
          else logger.warn('L1 coherence link to redis lost; L1 flushed; until it is back L2 hits are not kept in L1 and this replica keeps its own answers there for 1 s only');
        },
        onLinkError: (err) => {
          // A refused set-up repeats at every reconnect: say it at warn once a minute.
          if (err instanceof CoherenceSetUpError && Date.now() - lastSetUpWarning > 60_000) {
            lastSetUpWarning = Date.now();
            logger.warn(
              { err: err.message },
              'L1 coherence limited: redis refused CLIENT TRACKING, so L2 hits are not kept in L1 and this replica keeps its own answers there for 1 s only; purges still reach L1 over the purge channel (full coherence needs Redis >= 6 and a user allowed CLIENT)',
            );
          } else logger.debug({ err: err.message }, 'L1 coherence link error');
        },
      })
    : undefined;
  const store = failOpenTiers(l1, l2, { coherence });
  const writes = new WriteCounts();
  const lookups = new LookupTally();
  const upstreamTally = new UpstreamTally(metrics.registry);
  const semanticCounts: SemanticCounts = { lookups: {}, shadowMatches: 0, embedderErrors: {} };
  const bump = (record: Record<string, number>, label: string) => {
    record[label] = (record[label] ?? 0) + 1;
  };
  const semantic = createSemanticLayer(config.semantic, {
    redis,
    events: {
      lookup: (result) => {
        metrics.semanticLookups.inc({ result });
        bump(semanticCounts.lookups, result);
      },
      shadowMatch: () => {
        metrics.semanticShadowMatches.inc();
        semanticCounts.shadowMatches++;
      },
      embedderError: (code) => {
        metrics.semanticEmbedderErrors.inc({ code });
        bump(semanticCounts.embedderErrors, code);
        logger.debug({ code }, 'embedder error (request answered exact-only)');
      },
      shareError: (op, err) => logger.debug({ op, err: err.message }, 'semantic share error'),
      embedderBreaker: (state) => logger.warn({ state }, 'embeddings circuit breaker changed state'),
    },
  });
  const lifecycle = new Lifecycle();
  const fleetCoalescing = redis && config.fleet.coalesce ? createFleetCoalescing(config, redis, logger) : undefined;
  const engine = new Engine({
    fleet: fleetCoalescing,
    config: { ...config.cache, limits: config.limits },
    store,
    semantic,
    // Forms derived on hits get a quarter of the L1 budget of their own: both together stay within 1.25x.
    derivedMaxBytes: Math.max(1, Math.floor(config.cache.memoryMaxBytes / 4)),
    // The shutdown drain flushes entry writes still on their way to L2.
    hooks: composeHooks(gatewayHooks(metrics, logger), dashboardHooks(stats), writes, { onCommit: (write) => lifecycle.trackWrite(write) }),
  });
  const context: GatewayContext = {
    config,
    engine,
    store,
    l1,
    l2,
    redis,
    coherence,
    fleet,
    flights: engine.flights,
    writes,
    lookups,
    agent: createUpstreamAgent(config.limits),
    metrics,
    stats,
    sessions: new SessionStore(),
    logger,
    upstreams: {
      openai: makeUpstream('openai', config.upstream, config.upstreamApiKey),
      anthropic: makeUpstream('anthropic', config.anthropicUpstream, config.anthropicApiKey),
      bedrock: makeUpstream('bedrock', bedrockUpstreamUrl(config), undefined, bedrockUpstreamSigner(config)),
      gemini: makeUpstream('gemini', config.geminiUpstream, config.geminiApiKey),
    },
    namedUpstreams: createNamedUpstreams(config, bedrockUpstreamSigner(config)),
    upstreamTally,
    requests: new RequestMemo(config.limits.maxJsonDepth),
    credentialSources: parseCredentialSources(config.cache.credentialSources),
    tenants: new TenantIndex(config.cache.tenants),
    lifecycle,
    semantic,
    semanticCounts,
  };

  // Every request's outcome record goes, once its response closed, to each of these (engine/outcome.ts).
  const sink = outcomeSinks([
    metricsSink(metrics),
    dashboardSink(stats),
    lookups.sink,
    upstreamSink(upstreamTally),
    config.accessLog && logger.isLevelEnabled('info') ? accessLogSink(logStream(logger)) : undefined,
  ]);
  const droppedLines = metrics.logLinesDropped.bind();
  const stopWatchingDrops = watchDrops(logger, () => droppedLines.inc());
  // Loaded by listen() only when traces are on: with them off, nothing of OpenTelemetry runs or loads.
  const otelEndpoint = tracesEndpoint(config);
  let tracing: Tracing | undefined;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const requestId = requestIdOf(req);
    // The path as the client encoded it, split from the query once: the record and the router share it.
    const rawPath = pathOf(req);
    const record = new OutcomeRecord(requestId, req.method ?? 'GET', rawPath);
    const exchange = new Exchange(requestId, record);
    const span = tracing?.start(req.headers);
    if (span) exchange.traceHeaders = span.headers;
    lifecycle.opened();
    // The one listener per request: the drain's count, the caller's lifetime, the outcome record's
    // sinks. A response closes once (`on`, not `once`: no wrapper made per request).
    res.on('close', () => {
      lifecycle.closed();
      exchange.closed(res);
      const outcome = record.close(res.statusCode, res.writableFinished, contentLength(res));
      sink(outcome);
      // The span is this request's own sink (it began at arrival, to name the upstream call's parent).
      span?.end(outcome);
    });
    route(context, req, res, exchange, rawPath).catch((err: unknown) => {
      logger.error(
        { err: (err as Error).message, url: redactUrl(req.url, context.credentialSources) },
        'unhandled error in request handler',
      );
      if (!res.headersSent) sendError(res, 'openai', 500, 'internal error in Sluice', 'internal_error');
      else res.destroy();
    });
  };
  const { headersTimeoutMs, requestTimeoutMs } = config.limits;
  const server = createServer(
    {
      keepAliveTimeout: 65_000,
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // Node checks both timeouts on this interval (30 s by default), so it bounds how late they fire.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    handle,
  );
  // A named upstream's paths answer in its family's shape.
  answerClientErrors(server, (path) => namedTarget(path, context.namedUpstreams)?.upstream.family ?? familyForPath(path), MAX_HEADER_BYTES);
  // One port, two protocols: HTTP/1.1 to `server`, cleartext HTTP/2 (the AWS SDK's default) beside it.
  const http2 = acceptCleartextHttp2(server, handle);

  let closing: Promise<void> | undefined;
  const closeAll = () => {
    closing ??= (async () => {
      stopWatchingDrops();
      await context.agent.close();
      await closeNamedUpstreams(context.namedUpstreams);
      fleetCoalescing?.close();
      await context.semantic.close();
      await fleet?.close().catch(() => undefined);
      await context.store.close();
      await tracing?.shutdown().catch((err: Error) => logger.warn({ err: err.message }, 'trace export at shutdown failed'));
    })();
    return closing;
  };

  return {
    server,
    context,
    listen: async () => {
      if (otelEndpoint && !tracing) {
        const { startTracing } = await import('./tracing.js');
        tracing = startTracing({ endpoint: otelEndpoint === true ? undefined : otelEndpoint });
      }
      // Serve at once either way: a Redis that is not up yet is a miss (fail-open), not a failed start.
      await redis
        ?.ready()
        .catch((err: Error) =>
          logger.warn({ err: err.message }, 'redis not ready; serving from L1 until it is'),
        );
      return new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        // Node's default accept backlog (511) drops a burst of new connections; the kernel caps this at somaxconn.
        server.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => {
          const address = server.address() as AddressInfo;
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          const url = `http://${host}:${address.port}`;
          const summary = summarizeInstance(config, url);
          logger.info(summary, summaryMessage(summary));
          resolve(url);
        });
      });
    },
    drain: async (graceMs = config.shutdownGraceMs) => {
      const result = await drainServer(server, context.lifecycle, graceMs);
      http2.closeSessions();
      await closeAll();
      return result;
    },
    close: async () => {
      const stopped = stopServer(server);
      http2.closeSessions();
      await stopped;
      await closeAll();
    },
  };
}

/**
 * Whether traces are on, and where they go: --otel-endpoint (a base URL), else true when the
 * standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set (the exporter reads it), unless the standard
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turns them off.
 */
function tracesEndpoint(config: SluiceConfig, env = process.env): string | true | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') {
    return undefined;
  }
  if (config.otelEndpoint) return config.otelEndpoint;
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT ? true : undefined;
}

/** The client's x-request-id when it is a sane token, else a fresh one. */
function requestIdOf(req: IncomingMessage): string {
  const incomingId = req.headers['x-request-id'];
  return typeof incomingId === 'string' && REQUEST_ID_PATTERN.test(incomingId) ? incomingId : randomUUID();
}

/** The body length of an answer written whole (an error, a JSON answer), when no writer counted its bytes. */
function contentLength(res: ServerResponse): number {
  const length = res.getHeader('content-length');
  return typeof length === 'number' ? length : typeof length === 'string' ? Number(length) || 0 : 0;
}

