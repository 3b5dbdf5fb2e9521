import type { Agent } from 'undici';
import type { CredentialSource } from '../cache/credentials.js';
import type { FailOpenStore } from '../cache/fail-open-store.js';
import type { MemoryStore } from '../cache/memory-store.js';
import type { RedisStore } from '../cache/redis-store.js';
import type { TieredStore } from '../cache/tiered-store.js';
import type { Flight, FlightRegistry } from '../capture/flight.js';
import type { SluiceConfig } from '../config.js';
import type { ProtocolFamily, RequestInfo } from '../protocols/types.js';
import type { SemanticLayer } from '../semantic/layer.js';
import type { StatsRecorder } from './dashboard/recorder.js';
import type { SessionStore } from './dashboard/session.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Lifecycle } from './shutdown.js';
import type { Upstream } from './upstream.js';

/** What every route handler of one gateway instance shares. Built once in createGateway. */
export interface GatewayContext {
  config: SluiceConfig;
  store: TieredStore;
  l1: MemoryStore;
  l2: FailOpenStore | undefined;
  /** The Redis behind l2, for its connection state on the dashboard. */
  redis: RedisStore | undefined;
  flights: FlightRegistry;
  /** The request that started each flight: joiners compare their format with it. */
  leaders: WeakMap<Flight, RequestInfo>;
  agent: Agent;
  metrics: Metrics;
  /** Outcomes, savings and skipped writes for the dashboard and /admin/stats. */
  stats: StatsRecorder;
  /** Dashboard login sessions (the admin API accepts their cookie). */
  sessions: SessionStore;
  logger: Logger;
  upstreams: Record<ProtocolFamily, Upstream>;
  /** config.cache.credentialSources, parsed once. */
  credentialSources: readonly CredentialSource[];
  /** In-flight requests and pending L2 writes, for the shutdown drain. */
  lifecycle: Lifecycle;
  /** Asked after every exact miss; does nothing unless `semantic.enabled`. */
  semantic: SemanticLayer;
}
