import { bedrockUpstreamUrl, type SluiceConfig } from '../config.js';
import { normalizeBaseUrl } from '../cache/scope.js';

/**
 * How one instance is configured, for its start-up log line: what an operator needs to tell
 * instances apart, and nothing secret (no keys, no tokens, no Redis password).
 */
export interface InstanceSummary {
  url: string;
  upstreams: { openai: string; anthropic: string; bedrock: string; gemini: string };
  /** Bedrock: whether Sluice has AWS credentials to sign with, and how many SigV4 clients it verifies. */
  upstreamKeys: { openai: boolean; anthropic: boolean; bedrock: boolean; gemini: boolean };
  /** Config `upstreams:`: name → protocol family and base URL (never its key). */
  namedUpstreams: Record<string, string>;
  bedrockVerifiedClients: number;
  cache: {
    mode: SluiceConfig['cache']['mode'];
    ttlSeconds: number;
    replay: SluiceConfig['cache']['replay'];
    shareAcrossCredentials: boolean;
    requestStreamUsage: boolean;
  };
  redis: string;
  admin: 'on' | 'off';
  accessLog: 'on' | 'off';
  logLevel: string;
}

export function summarizeInstance(config: SluiceConfig, url: string): InstanceSummary {
  return {
    url,
    upstreams: {
      openai: normalizeBaseUrl(config.upstream).identity,
      anthropic: normalizeBaseUrl(config.anthropicUpstream).identity,
      bedrock: normalizeBaseUrl(bedrockUpstreamUrl(config)).identity,
      gemini: normalizeBaseUrl(config.geminiUpstream).identity,
    },
    upstreamKeys: {
      openai: Boolean(config.upstreamApiKey),
      anthropic: Boolean(config.anthropicApiKey),
      bedrock: Boolean(config.bedrock.accessKeyId),
      gemini: Boolean(config.geminiApiKey),
    },
    namedUpstreams: Object.fromEntries(
      Object.entries(config.upstreams).map(([name, u]) => [name, `${u.protocol} ${normalizeBaseUrl(u.url).identity}`]),
    ),
    bedrockVerifiedClients: config.bedrock.clients.length,
    cache: {
      mode: config.cache.mode,
      ttlSeconds: config.cache.ttlSeconds,
      replay: config.cache.replay,
      shareAcrossCredentials: config.cache.shareAcrossCredentials,
      requestStreamUsage: config.cache.requestStreamUsage,
    },
    redis: describeRedis(config.redis),
    admin: config.adminToken ? 'on' : 'off',
    accessLog: config.accessLog ? 'on' : 'off',
    logLevel: config.logLevel,
  };
}

/** The same facts as one sentence, for people reading the log. */
export function summaryMessage(s: InstanceSummary): string {
  return (
    `sluice listening on ${s.url}: openai -> ${s.upstreams.openai}, anthropic -> ${s.upstreams.anthropic}, ` +
    `bedrock -> ${s.upstreams.bedrock}, gemini -> ${s.upstreams.gemini}, ` +
    Object.entries(s.namedUpstreams).map(([name, target]) => `/${name}/ -> ${target}, `).join('') +
    `cache ${s.cache.mode} (ttl ${s.cache.ttlSeconds}s, replay ${s.cache.replay}), redis ${s.redis}, ` +
    `admin ${s.admin}, access log ${s.accessLog}, log level ${s.logLevel}`
  );
}

function describeRedis(redis: SluiceConfig['redis']): string {
  if (!redis) return 'off';
  if (redis.cluster) return `cluster of ${redis.cluster.nodes.length} seed nodes`;
  if (redis.sentinel) return `sentinel master "${redis.sentinel.name}"`;
  if (!redis.url) return 'on';
  try {
    // Host, port and database only: the URL may carry a password.
    const url = new URL(redis.url);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return 'on';
  }
}
