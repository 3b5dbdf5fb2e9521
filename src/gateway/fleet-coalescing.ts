import { randomUUID } from 'node:crypto';
import { FlightRelay } from '../cache/flight-relay.js';
import { Cluster } from 'ioredis';
import type { RedisClient, RedisStore } from '../cache/redis-store.js';
import type { SluiceConfig } from '../config.js';
import { FleetCoalescer } from '../engine/fleet.js';
import type { Logger } from './logger.js';

/**
 * Coalescing across the replicas that share `redis`: two connections of its own (one for the
 * relay's commands, one for its blocking reads), so neither the store's command budget nor its
 * circuit breaker sees relay traffic, and no blocking read holds up a command.
 */
export function createFleetCoalescing(config: SluiceConfig, redis: RedisStore, logger: Logger): FleetCoalescer {
  const commands = redis.duplicateClient();
  const reader = redis.duplicateClient();
  for (const client of [commands, reader]) {
    // Errors surface on the commands that failed; an unhandled 'error' event would end the process.
    client.on('error', () => undefined);
    // The store's per-command timeout is tuned for lookups; a relay write that is merely slow is
    // still in order and fenced, and one slower than the lease is refused by the fence anyway.
    relayCommandTimeout(client, config.fleet.leaseMs);
  }
  const relay = new FlightRelay({
    commands,
    reader,
    keyPrefix: redis.keyPrefix,
    replicaId: randomUUID(),
    leaseMs: config.fleet.leaseMs,
  });
  return new FleetCoalescer({
    relay,
    claimTimeoutMs: config.fleet.claimTimeoutMs,
    maxRelayBytes: config.fleet.maxRelayBytes ?? config.cache.maxEntryBytes,
    onError: (op, err) =>
      logger.debug({ op, err: err instanceof Error ? err.message : String(err) }, 'fleet relay error (call coalesced in process only)'),
    onClose: () => {
      commands.disconnect();
      reader.disconnect();
    },
  });
}

/** ioredis reads commandTimeout per command (standalone) or when it makes a node's connection (Cluster). */
function relayCommandTimeout(client: RedisClient, ms: number): void {
  if (client instanceof Cluster) {
    const options = client.options.redisOptions;
    if (options) options.commandTimeout = ms;
  } else client.options.commandTimeout = ms;
}
