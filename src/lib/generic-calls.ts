import type { CacheMode } from '../cache/controls.js';
import type { ReplayPacing } from '../config.js';
import type { Usage } from '../protocols/types.js';
import {
  decodeChunkEntry,
  decodeValueEntry,
  encodeChunkEntry,
  encodeValueEntry,
  findUsage,
  type GenericKind,
  genericKey,
} from './chunk-entry.js';
import type { CacheCore } from './core.js';
import { LibraryError } from './errors.js';
import { NAME_PATTERN } from '../cache/controls.js';
import { replayDelays } from '../replay/replay.js';
import { pause } from './pacing.js';

/** How a chunk or value becomes text in the store and back. Default: JSON. */
export interface Serializer<T> {
  serialize(value: T): string;
  deserialize(text: string): T;
}

export interface CallOptions<T> {
  /** Part of the key. */
  model: string;
  /** Sampling parameters, tools... anything that changes the answer: part of the key (JSON). */
  params?: unknown;
  /** Seconds; default: the cache's ttlSeconds. */
  ttl?: number;
  /** Names to purge by later (`invalidate({ tag })`). */
  tags?: string[];
  /** Default: the cache's namespace. Part of the key. */
  namespace?: string;
  serializer?: Serializer<T>;
  /** 'no-cache': skip the lookup and refresh the entry; 'no-store': neither read nor write. */
  cacheControl?: 'no-cache' | 'no-store';
  /** Token usage of a produced answer, for stats. Default: the last `usage` object found in the values. */
  usage?: (values: readonly T[]) => Usage | undefined;
}

export interface StreamCallOptions<T, V> extends CallOptions<T> {
  /** Turns all chunks into one value for `final()`. Default: the array of chunks. */
  chunkJoiner?: (chunks: T[]) => V;
  /** Pacing of a replayed stream; default: the cache's replay option. */
  replay?: ReplayPacing;
}

export type GenericCacheStatus = 'HIT' | 'MISS' | 'REFRESH' | 'BYPASS' | 'COALESCED';

const JSON_SERIALIZER: Serializer<never> = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text) as never,
};

export interface ResolvedCall<T> {
  key: string;
  read: boolean;
  write: boolean;
  outcome: Exclude<GenericCacheStatus, 'HIT' | 'COALESCED'>;
  model: string;
  ttlMs: number;
  namespace: string;
  tags: string[];
  serializer: Serializer<T>;
  usage: (values: readonly T[]) => Usage | undefined;
}

/** Check per-call options (errors name the field) and derive the key and what the call may do. */
export function resolveCall<T>(
  core: CacheCore,
  kind: GenericKind,
  messages: unknown,
  options: CallOptions<T>,
): ResolvedCall<T> {
  const bad = (field: string, rule: string) => new LibraryError('LIB_INVALID_ARGUMENT', `${field} ${rule}`);
  if (typeof options?.model !== 'string' || options.model.length === 0)
    throw bad('model', 'must be a non-empty string');
  if (options.ttl !== undefined && !(Number.isInteger(options.ttl) && options.ttl > 0))
    throw bad('ttl', 'must be a positive whole number of seconds');
  const namespace = options.namespace ?? core.options.namespace;
  if (!NAME_PATTERN.test(namespace))
    throw bad('namespace', 'must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  const tags = [...new Set(options.tags ?? [])];
  if (tags.some((t) => !NAME_PATTERN.test(t))) throw bad('tags', 'must be names of A-Z a-z 0-9 . _ : -');
  const mode: CacheMode = core.options.mode;
  const bypass = mode === 'off' || options.cacheControl === 'no-store';
  const refresh = !bypass && options.cacheControl === 'no-cache';
  return {
    key: genericKey({ kind, namespace, model: options.model, messages, params: options.params }),
    read: !bypass && !refresh && mode !== 'write-only',
    write: !bypass && mode !== 'read-only',
    outcome: bypass ? 'BYPASS' : refresh ? 'REFRESH' : 'MISS',
    model: options.model,
    ttlMs: (options.ttl ?? core.options.ttlSeconds) * 1000,
    namespace,
    tags,
    serializer: options.serializer ?? (JSON_SERIALIZER as Serializer<T>),
    usage: options.usage ?? ((values) => findUsage(values)),
  };
}

/**
 * The chunks of one getOrStream call. Miss: streamFn's chunks, live, recorded; the entry is
 * written only after streamFn's iterator finished without throwing and the consumer did not
 * leave early (a `break` ends this generator at its `yield`, so the write below is never reached).
 */
export async function* streamThroughCache<T>(
  core: CacheCore,
  call: ResolvedCall<T>,
  streamFn: () => AsyncIterable<T>,
  pacing: ReplayPacing,
  report: (status: GenericCacheStatus) => void,
): AsyncGenerator<T, void, undefined> {
  if (call.read) {
    const entry = await core.safeGet(call.key);
    const recorded = entry && decodeChunkEntry(entry);
    const values = recorded && deserializeAll(call.serializer, recorded.chunks);
    if (entry && recorded && values) {
      core.stats.hit(entry.usage, [entry.model]);
      report('HIT');
      const delays = replayDelays(pacing, recorded.times);
      for (let i = 0; i < values.length; i++) {
        await pause(delays[i] ?? 0);
        yield values[i] as T;
      }
      return;
    }
  }
  if (call.outcome === 'BYPASS') core.stats.bypass();
  else core.stats.miss();
  report(call.outcome);

  const serialized: string[] = [];
  const times: number[] = [];
  const values: T[] = [];
  let recording = call.write;
  let bytes = 0;
  let startedAt: number | undefined;
  for await (const chunk of streamFn()) {
    if (recording) {
      const text = trySerialize(call.serializer, chunk);
      bytes += text === undefined ? 0 : Buffer.byteLength(text);
      // Past the bound (or unserializable) the answer is still served, just not kept.
      if (text === undefined || bytes > core.options.maxEntryBytes) {
        recording = false;
        serialized.length = times.length = values.length = 0;
      } else {
        startedAt ??= Date.now();
        serialized.push(text);
        times.push(Date.now() - startedAt);
        values.push(chunk);
      }
    }
    yield chunk;
  }
  if (!recording) return;
  await core.safeSet(call.key, encodeChunkEntry(serialized, times, entryMeta(call, values)));
}

/** getOrCreate: the stored value, or createFn's result stored once it resolved. */
export async function createThroughCache<T>(
  core: CacheCore,
  call: ResolvedCall<T>,
  createFn: () => Promise<T>,
): Promise<T> {
  if (call.read) {
    const entry = await core.safeGet(call.key);
    const text = entry && decodeValueEntry(entry);
    const values = text === undefined ? undefined : deserializeAll(call.serializer, [text]);
    if (entry && values) {
      core.stats.hit(entry.usage, [entry.model]);
      return values[0] as T;
    }
  }
  if (call.outcome === 'BYPASS') core.stats.bypass();
  else core.stats.miss();
  const value = await createFn();
  const text = call.write ? trySerialize(call.serializer, value) : undefined;
  if (text !== undefined && Buffer.byteLength(text) <= core.options.maxEntryBytes) {
    await core.safeSet(call.key, encodeValueEntry(text, entryMeta(call, [value])));
  }
  return value;
}

function entryMeta<T>(call: ResolvedCall<T>, values: readonly T[]) {
  let usage: Usage | undefined;
  try {
    usage = call.usage(values);
  } catch {
    usage = undefined;
  }
  return { ttlMs: call.ttlMs, namespace: call.namespace, tags: call.tags, model: call.model, usage };
}

function trySerialize<T>(serializer: Serializer<T>, value: T): string | undefined {
  try {
    const text: unknown = serializer.serialize(value);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

/** An entry the serializer cannot read (changed chunk type, foreign data) is a miss, not an error. */
function deserializeAll<T>(serializer: Serializer<T>, texts: readonly string[]): T[] | undefined {
  try {
    return texts.map((text) => serializer.deserialize(text));
  } catch {
    return undefined;
  }
}
