import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { SluiceError } from './errors.js';
import { cacheShape, callLimitsShape, describeIssues } from './options-schema.js';
import { DEFAULT_MAX_JSON_DEPTH } from './protocols/json-body.js';
import { semanticSchema } from './semantic/options.js';
import { priceTableSchema } from './stats/prices.js';
import { RESERVED_UPSTREAM_NAMES, upstreamsSchema } from './upstreams-config.js';

export type { ReplayPacing } from './options-schema.js';

const redisSchema = z
  .object({
    url: z.string().optional(),
    cluster: z.object({ nodes: z.array(z.string()).min(1) }).optional(),
    sentinel: z
      .object({
        sentinels: z.array(z.object({ host: z.string(), port: z.number().int() })).min(1),
        name: z.string(),
      })
      .optional(),
    keyPrefix: z.string().default('sluice:'),
    /** Per-command budget: past it a lookup is a miss. */
    timeoutMs: z.number().int().positive().default(DEFAULTS.storeTimeoutMs),
  })
  .strict()
  .refine((r) => Boolean(r.url || r.cluster || r.sentinel), {
    message: 'set one of redis.url, redis.cluster.nodes or redis.sentinel',
  });

const awsKeyPairSchema = z
  .object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) })
  .strict();

const bedrockSchema = z
  .object({
    /** Sluice's own AWS credentials: SigV4 clients' requests are signed again with these. */
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    /**
     * Client key pairs Sluice verifies SigV4 signatures against. Each verified client gets its own
     * cache scope; with none configured every SigV4 client shares one scope (signatures unchecked).
     */
    clients: z.array(awsKeyPairSchema).default([]),
  })
  .strict()
  .refine((b) => Boolean(b.accessKeyId) === Boolean(b.secretAccessKey), {
    message: 'set both bedrock.accessKeyId and bedrock.secretAccessKey, or neither',
  })
  .prefault({});

export const configSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().default('127.0.0.1'),
    /** OpenAI-compatible base URL, as the OpenAI SDK's baseURL (version path included). */
    upstream: z.url().default('https://api.openai.com/v1'),
    /** Anthropic base URL, as the Anthropic SDK's baseURL. */
    anthropicUpstream: z.url().default('https://api.anthropic.com'),
    /** When set, sent upstream instead of the client's credential. */
    upstreamApiKey: z.string().min(1).optional(),
    anthropicApiKey: z.string().min(1).optional(),
    /** Bedrock Runtime base URL; default https://bedrock-runtime.{bedrockRegion}.amazonaws.com. */
    bedrockUpstream: z.url().optional(),
    /** AWS region Sluice signs Bedrock requests for (and the default upstream's region). */
    bedrockRegion: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'expected an AWS region such as us-east-1')
      .default('us-east-1'),
    bedrock: bedrockSchema,
    /** Google Gemini API base URL, as @google/genai's `httpOptions.baseUrl` (no version path). */
    geminiUpstream: z.url().default('https://generativelanguage.googleapis.com'),
    /** When set, sent upstream as x-goog-api-key instead of the client's key. */
    geminiApiKey: z.string().min(1).optional(),
    /** Named upstreams, each served under /{name}/ (src/upstreams-config.ts). */
    upstreams: upstreamsSchema,
    redis: redisSchema.optional(),
    adminToken: z.string().min(16, 'use at least 16 characters for the admin token').optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** One info line per request (route, status, cache outcome, bytes, duration...). `off` disables it. */
    accessLog: z
      .union([z.boolean(), z.enum(['on', 'off'])])
      .transform((v) => v === true || v === 'on')
      .default(true),
    /**
     * Time limit of one admin purge or entry listing. Admin work runs beside live traffic, not on
     * its per-call store budget, and never feeds its circuit breaker. Default 300 (5 minutes).
     */
    adminTimeoutSeconds: z
      .number()
      .int()
      .positive()
      .max(24 * 3600)
      .default(DEFAULTS.adminTimeoutMs / 1000),
    /**
     * OpenTelemetry traces to this OTLP/HTTP base URL (as OTEL_EXPORTER_OTLP_ENDPOINT; /v1/traces is
     * added). Traces are also on when OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT is set.
     */
    otelEndpoint: z.url().optional(),
    /** On SIGTERM, how long answers in flight may run before they are cut. */
    shutdownGraceMs: z.number().int().min(0).default(30_000),
    /**
     * USD per million tokens by model name or prefix, for the money saved on the dashboard and in
     * /metrics; overrides the built-in table (src/stats/prices.ts, dated BUILTIN_PRICES_DATE).
     */
    prices: priceTableSchema.default({}),
    /** 0 writes each upstream chunk at once; N > 0 coalesces writes for at most N ms. */
    flushIntervalMs: z.number().int().min(0).max(1000).default(0),
    cache: z
      .object({
        ...cacheShape,
        memoryMaxBytes: z
          .number()
          .int()
          .positive()
          .default(256 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    /** Replicas sharing one Redis (`redis` set): identical concurrent calls make one upstream call across the fleet. */
    fleet: z
      .object({
        /** Coalesce across replicas through Redis (in process only when false or without Redis). */
        coalesce: z.boolean().default(true),
        /** Bound on the lease claim of a call with no local flight: past it the call goes on alone. */
        claimTimeoutMs: z.number().int().positive().default(500),
        /** The leader's lease without renewal: how long followers wait before they see a dead leader. */
        leaseMs: z.number().int().min(300).default(3000),
        /** Larger answers are not relayed to other replicas (default: cache.maxEntryBytes). */
        maxRelayBytes: z.number().int().positive().optional(),
      })
      .strict()
      .prefault({}),
    /** Semantic (near-duplicate / paraphrase) lookups after an exact miss. Off by default. */
    semantic: semanticSchema.prefault({}),
    limits: z
      .object({
        maxRequestBodyBytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
        connectTimeoutMs: z.number().int().positive().default(10_000),
        ...callLimitsShape,
        /**
         * Connections to each upstream at once; a request past it waits for a whole answer to end,
         * so a cap below the concurrent streams is an outage. 0: no cap (each request holds at most one).
         */
        maxUpstreamConnections: z.number().int().min(0).default(0),
        /** Longest a client may take to send its request headers (slowloris bound); 408 past it. */
        headersTimeoutMs: z.number().int().positive().default(10_000),
        /**
         * Longest a client may take to send its whole request, headers and body; 408 past it.
         * Counts only while the request arrives: a long streamed answer is not affected.
         */
        requestTimeoutMs: z.number().int().positive().default(60_000),
        /** Deepest nesting of objects/arrays in a request body; deeper is a 400. */
        maxJsonDepth: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_JSON_DEPTH),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => c.cache.ttlSeconds <= c.cache.maxTtlSeconds, {
    message: 'cache.ttlSeconds must not exceed cache.maxTtlSeconds',
    path: ['cache', 'ttlSeconds'],
  })
  .refine((c) => c.limits.headersTimeoutMs <= c.limits.requestTimeoutMs, {
    message: 'limits.headersTimeoutMs must not exceed limits.requestTimeoutMs',
    path: ['limits', 'headersTimeoutMs'],
  })
  .superRefine((c, ctx) => {
    // A route mode under a name that is no upstream (a typo: /grok/v1/...) would silently do nothing.
    for (const route of Object.keys(c.cache.routeModes)) {
      const first = route.split('/')[1] ?? '';
      if (RESERVED_UPSTREAM_NAMES.has(first) || first === '{version}' || Object.hasOwn(c.upstreams, first)) continue;
      ctx.addIssue({
        code: 'custom',
        message: `${route} starts with /${first}, which is neither a route of Sluice's nor a configured upstream's name`,
        path: ['cache', 'routeModes', route],
      });
    }
  });

export type SluiceConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** CLI_USAGE: the command line itself could not be understood (see UsageError). */
export type ConfigErrorCode = 'CONFIG_INVALID' | 'CLI_USAGE';

/** `field`: the first field at fault, when one is. */
export class ConfigError extends SluiceError {
  declare readonly code: ConfigErrorCode;
  constructor(message: string, code: ConfigErrorCode = 'CONFIG_INVALID', field?: string) {
    super(code, message, field === undefined ? {} : { field });
    this.name = 'ConfigError';
  }
}

/** Validate once at start-up; the error names every bad field. */
export function parseConfig(input: unknown, source = 'configuration'): SluiceConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const { message, field } = describeIssues(result.error.issues, '(root)');
  throw new ConfigError(`Invalid ${source}:\n${message}`, 'CONFIG_INVALID', field);
}

export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `Config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Config file ${path} must hold an object at the top level`);
  }
  return parsed as Record<string, unknown>;
}

/** Overlay b onto a, merging nested objects (config file < env < flags). */
export function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined) continue;
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? mergeConfig(prev, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where Bedrock requests go: the configured URL, else the region's public endpoint. */
export function bedrockUpstreamUrl(config: Pick<SluiceConfig, 'bedrockUpstream' | 'bedrockRegion'>): string {
  return config.bedrockUpstream ?? `https://bedrock-runtime.${config.bedrockRegion}.amazonaws.com`;
}
