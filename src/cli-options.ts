import { parseArgs } from 'node:util';
import { ConfigError, mergeConfig, parseConfig, readConfigFile, type SluiceConfig } from './config.js';

/**
 * Flags and their SLUICE_* env twins. Each maps to a config path; values are parsed as the
 * schema expects (numbers, booleans), and zod reports anything wrong by field name.
 */
const OPTIONS = {
  port: { env: 'SLUICE_PORT', path: ['port'], type: 'int' },
  host: { env: 'SLUICE_HOST', path: ['host'], type: 'string' },
  upstream: { env: 'SLUICE_UPSTREAM', path: ['upstream'], type: 'string' },
  'anthropic-upstream': { env: 'SLUICE_ANTHROPIC_UPSTREAM', path: ['anthropicUpstream'], type: 'string' },
  'upstream-api-key': { env: 'SLUICE_UPSTREAM_API_KEY', path: ['upstreamApiKey'], type: 'string' },
  'anthropic-api-key': { env: 'SLUICE_ANTHROPIC_API_KEY', path: ['anthropicApiKey'], type: 'string' },
  redis: { env: 'SLUICE_REDIS_URL', path: ['redis', 'url'], type: 'string' },
  'admin-token': { env: 'SLUICE_ADMIN_TOKEN', path: ['adminToken'], type: 'string' },
  'log-level': { env: 'SLUICE_LOG_LEVEL', path: ['logLevel'], type: 'string' },
  'flush-interval-ms': { env: 'SLUICE_FLUSH_INTERVAL_MS', path: ['flushIntervalMs'], type: 'int' },
  'cache-mode': { env: 'SLUICE_CACHE_MODE', path: ['cache', 'mode'], type: 'string' },
  ttl: { env: 'SLUICE_TTL', path: ['cache', 'ttlSeconds'], type: 'int' },
  replay: { env: 'SLUICE_REPLAY', path: ['cache', 'replay'], type: 'replay' },
  'share-across-credentials': {
    env: 'SLUICE_SHARE_ACROSS_CREDENTIALS',
    path: ['cache', 'shareAcrossCredentials'],
    type: 'bool',
  },
} as const;

type OptionName = keyof typeof OPTIONS;

export const USAGE = `Usage: sluice [serve] [options]

Options (each has an env twin, e.g. --port / SLUICE_PORT):
  --port N                    listen port (default 8080)
  --host ADDR                 listen address (default 127.0.0.1)
  --config FILE               YAML or JSON config file (SLUICE_CONFIG)
  --upstream URL              OpenAI-compatible base URL (default https://api.openai.com/v1)
  --anthropic-upstream URL    Anthropic base URL (default https://api.anthropic.com)
  --upstream-api-key KEY      send this key upstream instead of the client's
  --anthropic-api-key KEY     same, for the Anthropic upstream
  --redis URL                 shared L2 cache (SLUICE_REDIS_URL), e.g. redis://127.0.0.1:6379
  --admin-token TOKEN         bearer token for /admin/* (SLUICE_ADMIN_TOKEN)
  --cache-mode MODE           on | off | read-only | write-only
  --ttl SECONDS               default entry TTL (default 3600)
  --replay MODE               instant | realtime | N (tokens per second)
  --share-across-credentials  let different API keys share entries
  --flush-interval-ms N       coalesce writes for at most N ms (default 0: write each chunk)
  --log-level LEVEL           fatal | error | warn | info | debug | silent
  -h, --help                  show this help
`;

export interface CliCommand {
  command: 'serve' | 'help';
  config?: SluiceConfig;
}

export async function resolveCli(argv: string[], env: NodeJS.ProcessEnv): Promise<CliCommand> {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, spec] of Object.entries(OPTIONS)) {
    parseOptions[name] = { type: spec.type === 'bool' ? 'boolean' : 'string' };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: parseOptions, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const [command = 'serve', ...rest] = parsed.positionals;
  if (parsed.values.help || command === 'help') return { command: 'help' };
  if (command !== 'serve' || rest.length > 0) {
    throw new ConfigError(`Unknown command "${[command, ...rest].join(' ')}"\n\n${USAGE}`);
  }

  const configPath = (parsed.values.config as string | undefined) ?? env.SLUICE_CONFIG;
  let merged: Record<string, unknown> = configPath ? await readConfigFile(configPath) : {};
  merged = mergeConfig(
    merged,
    fromSources((name) => env[OPTIONS[name].env], 'env'),
  );
  merged = mergeConfig(
    merged,
    fromSources((name) => {
      const value = parsed.values[name];
      return typeof value === 'boolean' ? String(value) : (value as string | undefined);
    }, 'flag'),
  );
  return {
    command: 'serve',
    config: parseConfig(merged, configPath ? `configuration (${configPath})` : 'configuration'),
  };
}

function fromSources(
  read: (name: OptionName) => string | undefined,
  source: 'env' | 'flag',
): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const raw = read(name);
    if (raw === undefined || raw === '') continue;
    const spec = OPTIONS[name];
    const label = source === 'env' ? spec.env : `--${name}`;
    const value = convert(raw, spec.type, label);
    let nested: Record<string, unknown> = { [spec.path[spec.path.length - 1] as string]: value };
    for (let i = spec.path.length - 2; i >= 0; i--) nested = { [spec.path[i] as string]: nested };
    out = mergeConfig(out, nested);
  }
  return out;
}

function convert(raw: string, type: 'int' | 'string' | 'bool' | 'replay', label: string): unknown {
  switch (type) {
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
    case 'replay':
      return /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
}
