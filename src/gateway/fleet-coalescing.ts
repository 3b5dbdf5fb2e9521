import { randomUUID } from 'node:crypto';
import { FlightRelay } from '../cache/flight-relay.js';
import type { RedisStore } from '../cache/redis-store.js';
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
  // Errors surface on the commands that failed; an unhandled 'error' event would end the process.
  for (const client of [commands, reader]) client.on('error', () => undefined);
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
