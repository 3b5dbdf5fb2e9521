import { parseArgs } from 'node:util';
import { ConfigError, mergeConfig, parseConfig, readConfigFile, type SluiceConfig } from './config.js';

type ValueType = 'int' | 'number' | 'string' | 'bool' | 'onoff' | 'replay' | 'list';

/** One command-line flag. `path` is the config field it sets. */
interface FlagSpec {
  /** Its SLUICE_* twin, when it is not the flag's name as SLUICE_NAME (see envName). */
  env?: string;
  path: readonly string[];
  type: ValueType;
  /** Placeholder shown in --help; absent for boolean flags. */
  value?: string;
  help: string;
}

/**
 * The one table of flags: parsing, env twins and --help are all generated from it, so they cannot
 * drift. Values are converted to what the schema expects; zod then reports anything wrong by field.
 * To add a flag, add a row here (and the field to config.ts).
 */
export const FLAGS = {
  port: { path: ['port'], type: 'int', value: 'N', help: 'listen port (default 8080)' },
  host: { path: ['host'], type: 'string', value: 'ADDR', help: 'listen address (default 127.0.0.1)' },
  upstream: {
    path: ['upstream'],
    type: 'string',
    value: 'URL',
    help: 'OpenAI-compatible base URL (default https://api.openai.com/v1)',
  },
  'anthropic-upstream': {
    path: ['anthropicUpstream'],
    type: 'string',
    value: 'URL',
    help: 'Anthropic base URL (default https://api.anthropic.com)',
  },
  'upstream-api-key': {
    path: ['upstreamApiKey'],
    type: 'string',
    value: 'KEY',
    help: "send this key upstream instead of the client's",
  },
  'anthropic-api-key': {
    path: ['anthropicApiKey'],
    type: 'string',
    value: 'KEY',
    help: 'same, for the Anthropic upstream',
  },
  'bedrock-upstream': {
    path: ['bedrockUpstream'],
    type: 'string',
    value: 'URL',
    help: 'Bedrock Runtime URL (default https://bedrock-runtime.REGION.amazonaws.com)',
  },
  'bedrock-region': {
    path: ['bedrockRegion'],
    type: 'string',
    value: 'REGION',
    help: 'region Bedrock requests are signed for (default AWS_REGION, else us-east-1)',
  },
  'gemini-upstream': {
    path: ['geminiUpstream'],
    type: 'string',
    value: 'URL',
    help: 'Gemini API base URL (default https://generativelanguage.googleapis.com)',
  },
  'gemini-api-key': {
    path: ['geminiApiKey'],
    type: 'string',
    value: 'KEY',
    help: "same as --upstream-api-key, for the Gemini upstream (sent as x-goog-api-key)",
  },
  redis: {
    env: 'SLUICE_REDIS_URL',
    path: ['redis', 'url'],
    type: 'string',
    value: 'URL',
    help: 'shared L2 cache, e.g. redis://127.0.0.1:6379 (default: none)',
  },
  'admin-token': {
    path: ['adminToken'],
    type: 'string',
    value: 'TOKEN',
    help: 'bearer token that enables /admin/* (16+ characters)',
  },
  'admin-timeout': {
    path: ['adminTimeoutSeconds'],
    type: 'int',
    value: 'SECONDS',
    help: 'time limit of one admin purge or entry listing (default 300)',
  },
  'cache-mode': {
    path: ['cache', 'mode'],
    type: 'string',
    value: 'MODE',
    help: 'on | off | read-only | write-only (default on)',
  },
  ttl: { path: ['cache', 'ttlSeconds'], type: 'int', value: 'SECONDS', help: 'default entry TTL (default 3600)' },
  'max-ttl': {
    path: ['cache', 'maxTtlSeconds'],
    type: 'int',
    value: 'SECONDS',
    help: 'cap on --ttl and x-sluice-ttl (default 604800: 7 days)',
  },
  'memory-max-bytes': {
    path: ['cache', 'memoryMaxBytes'],
    type: 'int',
    value: 'N',
    help: 'in-memory L1 budget (default 268435456: 256 MiB)',
  },
  'max-entry-bytes': {
    path: ['cache', 'maxEntryBytes'],
    type: 'int',
    value: 'N',
    help: 'larger answers are served, not stored (default 8388608: 8 MiB)',
  },
  'credential-sources': {
    path: ['cache', 'credentialSources'],
    type: 'list',
    value: 'LIST',
    help: 'comma-separated headers and query:NAME that scope tenants (default authorization,x-api-key,...)',
  },
  'complete-on-disconnect': {
    path: ['cache', 'completeOnDisconnect'],
    type: 'bool',
    help: 'finish (and store) an upstream answer after every client left',
  },
  'max-request-body-bytes': {
    path: ['limits', 'maxRequestBodyBytes'],
    type: 'int',
    value: 'N',
    help: 'larger request bodies get a 413 (default 10485760: 10 MiB)',
  },
  'idle-timeout-ms': {
    path: ['limits', 'idleTimeoutMs'],
    type: 'int',
    value: 'N',
    help: 'longest upstream silence, first byte included (default 120000)',
  },
  'max-stream-duration-ms': {
    path: ['limits', 'maxStreamDurationMs'],
    type: 'int',
    value: 'N',
    help: 'longest upstream answer (default 900000: 15 min)',
  },
  'max-response-bytes': {
    path: ['limits', 'maxResponseBytes'],
    type: 'int',
    value: 'N',
    help: 'largest upstream answer (default 67108864: 64 MiB)',
  },
  replay: {
    path: ['cache', 'replay'],
    type: 'replay',
    value: 'MODE',
    help: 'instant | realtime | N tokens per second (default instant)',
  },
  'share-across-credentials': {
    path: ['cache', 'shareAcrossCredentials'],
    type: 'bool',
    help: 'let different API keys share entries',
  },
  'request-stream-usage': {
    path: ['cache', 'requestStreamUsage'],
    type: 'bool',
    help: 'ask the upstream for usage on every stream; the client still sees only what it asked for',
  },
  'flush-interval-ms': {
    path: ['flushIntervalMs'],
    type: 'int',
    value: 'N',
    help: 'coalesce writes for at most N ms (default 0: write each chunk)',
  },
  'shutdown-grace-ms': {
    path: ['shutdownGraceMs'],
    type: 'int',
    value: 'N',
    help: 'on SIGTERM, let answers in flight finish for up to N ms (default 30000)',
  },
  'max-upstream-connections': {
    path: ['limits', 'maxUpstreamConnections'],
    type: 'int',
    value: 'N',
    help: 'connections per upstream; more requests wait (default 0: no limit)',
  },
  semantic: {
    path: ['semantic', 'enabled'],
    type: 'bool',
    help: 'semantic lookups after an exact miss (built-in lexical embedder; default off)',
  },
  'semantic-threshold': {
    path: ['semantic', 'threshold'],
    type: 'number',
    value: 'N',
    help: 'cosine similarity 0-1 (default 0.75 lexical, 0.95 openai)',
  },
  'embeddings-url': {
    path: ['semantic', 'embeddingsUrl'],
    type: 'string',
    value: 'URL',
    help: 'OpenAI-compatible base URL for POST {url}/embeddings (selects the openai embedder)',
  },
  'embeddings-model': {
    path: ['semantic', 'embeddingsModel'],
    type: 'string',
    value: 'NAME',
    help: 'embeddings model (default text-embedding-3-small)',
  },
  'embeddings-api-key': {
    path: ['semantic', 'embeddingsApiKey'],
    type: 'string',
    value: 'KEY',
    help: 'sent as Authorization: Bearer KEY to the embeddings URL',
  },
  'embeddings-timeout-ms': {
    path: ['semantic', 'embeddingsTimeoutMs'],
    type: 'int',
    value: 'N',
    help: 'bound on one embeddings call (default 1000)',
  },
  'semantic-shadow': {
    path: ['semantic', 'shadow'],
    type: 'bool',
    help: 'run semantic lookups but serve nothing from them (measure first)',
  },
  'log-level': {
    path: ['logLevel'],
    type: 'string',
    value: 'LEVEL',
    help: 'fatal | error | warn | info | debug | trace | silent (default info)',
  },
  'access-log': {
    path: ['accessLog'],
    type: 'onoff',
    value: 'on|off',
    help: 'one info line per request (default on)',
  },
  'otel-endpoint': {
    path: ['otelEndpoint'],
    type: 'string',
    value: 'URL',
    help: 'OpenTelemetry traces to this OTLP/HTTP base URL (default: OTEL_EXPORTER_OTLP_ENDPOINT; none: off)',
  },
} as const satisfies Record<string, FlagSpec>;

/** A flag's environment twin: SLUICE_ and its name in capitals (--cache-mode: SLUICE_CACHE_MODE), unless its row names another. */
export function envName(flag: keyof typeof FLAGS): string {
  const spec: FlagSpec = FLAGS[flag];
  return spec.env ?? `SLUICE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

type FlagName = keyof typeof FLAGS;

/** Flags that are not configuration fields. */
const META_FLAGS = {
  config: { env: 'SLUICE_CONFIG', value: 'FILE', help: 'YAML or JSON config file' },
  help: { short: 'h', help: 'show this help' },
  version: { short: 'v', help: 'print the version' },
} as const;

function usageLine(name: string, value: string | undefined, env: string | undefined, help: string, short?: string) {
  const flag = `${short ? `-${short}, ` : ''}--${name}${value ? ` ${value}` : ''}`;
  return `  ${flag.padEnd(34)}${(env ?? '').padEnd(34)}${help}`;
}

export const USAGE = [
  'Usage: sluice [serve] [options]',
  '',
  'Every flag has the environment variable beside it as its twin. A flag wins over its',
  'environment variable, which wins over the config file; defaults fill the rest.',
  '',
  usageLine('config', META_FLAGS.config.value, META_FLAGS.config.env, META_FLAGS.config.help),
  ...Object.entries(FLAGS).map(([name, spec]: [string, FlagSpec]) =>
    usageLine(name, spec.value, envName(name as keyof typeof FLAGS), spec.help),
  ),
  usageLine('help', undefined, undefined, META_FLAGS.help.help, META_FLAGS.help.short),
  usageLine('version', undefined, undefined, META_FLAGS.version.help, META_FLAGS.version.short),
  '',
].join('\n');

/** A command line that cannot be understood: the CLI prints the message, then USAGE. */
export class UsageError extends ConfigError {
  constructor(message: string) {
    super(message, 'CLI_USAGE');
    this.name = 'UsageError';
  }
}

export interface CliCommand {
  command: 'serve' | 'help' | 'version';
  config?: SluiceConfig;
  /** One line each, for stderr: what was ignored and why (the gateway starts anyway). */
  warnings?: string[];
}

export async function resolveCli(argv: string[], env: NodeJS.ProcessEnv): Promise<CliCommand> {
  const { values, positionals } = parseFlags(argv);
  if (values.has('help')) return { command: 'help' };
  if (values.has('version')) return { command: 'version' };
  const [command = 'serve', ...rest] = positionals;
  if (command === 'help') return { command: 'help' };
  if (command === 'version') return { command: 'version' };
  if (command !== 'serve' || rest.length > 0) {
    throw new UsageError(`unknown command "${[command, ...rest].join(' ')}"`);
  }

  const configPath = values.get('config') ?? env.SLUICE_CONFIG;
  // The standard AWS variables are the lowest layer: a config file, SLUICE_* or a flag overrides them.
  const aws = awsEnvironment(env);
  let merged: Record<string, unknown> = mergeConfig(
    aws.config,
    configPath ? await readConfigFile(configPath) : {},
  );
  merged = mergeConfig(
    merged,
    fromSources((name) => env[envName(name)], 'env'),
  );
  merged = mergeConfig(
    merged,
    fromSources((name) => values.get(name), 'flag'),
  );
  return {
    command: 'serve',
    config: parseConfig(merged, configPath ? `configuration (${configPath})` : 'configuration'),
    warnings: aws.warnings,
  };
}

/** What parseArgs needs to know to pair a flag with the next argument as its value. */
const PARSE_OPTIONS: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  ...Object.fromEntries(
    Object.entries(FLAGS).map(([name, spec]: [string, FlagSpec]) => [
      name,
      { type: spec.type === 'bool' ? 'boolean' : 'string' },
    ]),
  ),
};

/**
 * Tokenize with parseArgs but judge each token here, so that every mistake is one line naming
 * the flag (parseArgs' own messages are multi-line hints). Boolean flags accept `--flag=false`.
 */
function parseFlags(argv: string[]): { values: Map<string, string>; positionals: string[] } {
  const { tokens } = parseArgs({ args: argv, options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    // parseArgs resolves -h / -v to their long names; any other short flag stays unknown.
    const name = token.name;
    if (name === 'help' || name === 'version') {
      values.set(name, 'true');
      continue;
    }
    if (name !== 'config' && !(name in FLAGS)) throw new UsageError(`unknown option ${token.rawName}`);
    const takesValue = name === 'config' || FLAGS[name as FlagName].type !== 'bool';
    if (!takesValue) {
      values.set(name, token.value ?? 'true');
      continue;
    }
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new UsageError(`option ${token.rawName} needs a value`);
    }
    values.set(name, token.value);
  }
  return { values, positionals };
}

function fromSources(
  read: (name: FlagName) => string | undefined,
  source: 'env' | 'flag',
): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const name of Object.keys(FLAGS) as FlagName[]) {
    const raw = read(name);
    if (raw === undefined || raw === '') continue;
    const spec: FlagSpec = FLAGS[name];
    const label = source === 'env' ? envName(name) : `--${name}`;
    const value = convert(raw, spec.type, label);
    let nested: Record<string, unknown> = { [spec.path[spec.path.length - 1] as string]: value };
    for (let i = spec.path.length - 2; i >= 0; i--) nested = { [spec.path[i] as string]: nested };
    out = mergeConfig(out, nested);
  }
  return out;
}

function convert(raw: string, type: ValueType, label: string): unknown {
  switch (type) {
    case 'number': {
      if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(`${label} must be a number, got "${raw}"`);
      return Number(raw);
    }
    case 'string':
      return raw;
    case 'int': {
      if (!/^\d+$/.test(raw)) throw new ConfigError(`${label} must be a whole number, got "${raw}"`);
      return Number(raw);
    }
    case 'bool': {
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ConfigError(`${label} must be true or false, got "${raw}"`);
    }
    case 'onoff': {
      if (raw === 'on' || raw === 'true' || raw === '1') return true;
      if (raw === 'off' || raw === 'false' || raw === '0') return false;
      throw new ConfigError(`${label} must be on or off, got "${raw}"`);
    }
    case 'replay':
      return /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
  }
}

/**
 * Sluice's Bedrock credentials and region from the standard AWS environment variables. Those are
 * often set for something else (a developer machine, a CI runner): a half pair is ignored with
 * one warning naming the missing variable, never an error, since nobody asked Sluice to re-sign.
 */
function awsEnvironment(env: NodeJS.ProcessEnv): { config: Record<string, unknown>; warnings: string[] } {
  const pick = (name: string) => (env[name] === '' ? undefined : env[name]);
  const bedrock = {
    accessKeyId: pick('AWS_ACCESS_KEY_ID'),
    secretAccessKey: pick('AWS_SECRET_ACCESS_KEY'),
    sessionToken: pick('AWS_SESSION_TOKEN'),
  };
  const region = { bedrockRegion: pick('AWS_REGION') ?? pick('AWS_DEFAULT_REGION') };
  if (bedrock.accessKeyId && bedrock.secretAccessKey) return { config: { ...region, bedrock }, warnings: [] };
  if (!bedrock.accessKeyId && !bedrock.secretAccessKey) return { config: region, warnings: [] };
  const [present, missing] = bedrock.accessKeyId
    ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']
    : ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'];
  return {
    config: region,
    warnings: [
      `${present} is set but ${missing} is not: ignoring both (Bedrock SigV4 clients are refused until the pair is complete; other routes are unaffected)`,
    ],
  };
}
