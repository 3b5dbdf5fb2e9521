import type { Agent } from 'undici';
import type { CredentialSource, TenantIndex } from '../cache/credentials.js';
import type { RedisCoherence } from '../cache/coherence.js';
import type { FailOpenStore } from '../cache/fail-open-store.js';
import type { MemoryStore } from '../cache/memory-store.js';
import type { RedisStore } from '../cache/redis-store.js';
import type { TieredStore } from '../cache/tiered-store.js';
import type { FlightRegistry } from '../capture/flight.js';
import type { SluiceConfig } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { WriteCounts } from '../engine/hooks.js';
import type { RequestMemo } from '../protocols/request-memo.js';
import type { ProtocolFamily } from '../protocols/types.js';
import type { SemanticLayer } from '../semantic/layer.js';
import type { StatsRecorder } from './dashboard/recorder.js';
import type { SessionStore } from './dashboard/session.js';
import type { FleetStats } from './fleet-stats.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { LookupTally } from './outcome-sinks.js';
import type { Lifecycle } from './shutdown.js';
import type { Upstream } from './upstream.js';
import type { UpstreamTally } from './upstream-tally.js';

/** Plain counts of the semantic layer's events (admin stats read these, not metric series). */
export interface SemanticCounts {
  lookups: Record<string, number>;
  shadowMatches: number;
  embedderErrors: Record<string, number>;
}

/** What every route handler of one gateway instance shares. Built once in createGateway. */
export interface GatewayContext {
  config: SluiceConfig;
  /** The request path every protocol route runs through. */
  engine: Engine;
  /** The engine's store (each tier fail-open): admin inspect and purge use it too. */
  store: TieredStore;
  l1: MemoryStore;
  l2: FailOpenStore | undefined;
  /** The Redis behind l2, for its connection state on the dashboard. */
  redis: RedisStore | undefined;
  /** Keeps L1 coherent with Redis across the fleet (with Redis only). */
  coherence: RedisCoherence | undefined;
  /** The fleet's figures in Redis (with Redis only). */
  fleet: FleetStats | undefined;
  /** The engine's flights in progress. */
  flights: FlightRegistry;
  /** How entry writes ended, for /admin/stats. */
  writes: WriteCounts;
  /** Lookups by layer and result, for /admin/stats (a sink of the outcome record). */
  lookups: LookupTally;
  agent: Agent;
  metrics: Metrics;
  /** Outcomes, savings and skipped writes for the dashboard and /admin/stats. */
  stats: StatsRecorder;
  /** Dashboard login sessions (the admin API accepts their cookie). */
  sessions: SessionStore;
  logger: Logger;
  /** The unnamed default upstream of each protocol family, served at the root. */
  upstreams: Record<ProtocolFamily, Upstream>;
  /** Config `upstreams:`, by name, each served under /{name}/ (named-upstreams.ts). */
  namedUpstreams: ReadonlyMap<string, Upstream>;
  /** Requests by upstream, for /metrics, /admin/stats and the dashboard. */
  upstreamTally: UpstreamTally;
  /** Request bodies parsed and validated once each. */
  requests: RequestMemo;
  /** config.cache.credentialSources, parsed once. */
  credentialSources: readonly CredentialSource[];
  /** config.cache.tenants, indexed once. */
  tenants: TenantIndex;
  /** In-flight requests and pending L2 writes, for the shutdown drain. */
  lifecycle: Lifecycle;
  /** Asked after every exact miss (through the engine); does nothing unless `semantic.enabled`. */
  semantic: SemanticLayer;
  /** What the semantic layer reported, for /admin/stats. */
  semanticCounts: SemanticCounts;
}
