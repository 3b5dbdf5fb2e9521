import { NAME_PATTERN, type RequestControls } from '../cache/controls.js';
import type { UpstreamSource } from '../engine/drive.js';
import { type EngineCall, lifetimeOf } from '../engine/call.js';
import type { ReplayPacing } from '../options-schema.js';
import {
  CHUNKS_CONTENT_TYPE,
  chunksProtocol,
  encodeChunkFrame,
  encodeDoneFrame,
  VALUE_CONTENT_TYPE,
  type ValueCodec,
  valueProtocol,
} from '../protocols/library.js';
import type { Usage } from '../protocols/types.js';
import { findUsage, toJson } from './call-values.js';
import { type LibraryCore, recordCall } from './core.js';
import { LibraryError } from './errors.js';
import { ChunkQueue } from './chunk-queue.js';
import { ChunkPort, ValuePort } from './generic-ports.js';

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
  /** Seconds; default: the cache's ttlSeconds. Bounded by maxTtlSeconds. */
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

/** What produces a stream: an AsyncIterable, or a Promise of one (what the SDKs' `create({ stream: true })` returns). */
export type StreamProducer<T> = (messages: unknown) => AsyncIterable<T> | Promise<AsyncIterable<T>>;

const JSON_SERIALIZER: Serializer<never> = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text) as never,
};

const EMPTY = new Uint8Array(0);
/** getOrCreate's caller waits for its value: it never leaves. */
const FOREVER = lifetimeOf(new AbortController().signal);

/** A validated library call: everything but the abort signal and the source. */
export interface LibraryCall<T> {
  base: Omit<EngineCall, 'caller' | 'source'>;
  serializer: Serializer<T>;
}

/** Check per-call options (errors name the field) and build the engine call they describe. */
export function resolveCall<T>(
  core: LibraryCore,
  kind: 'stream' | 'create',
  messages: unknown,
  options: CallOptions<T>,
): LibraryCall<T> {
  const bad = (field: string, rule: string) =>
    new LibraryError('LIB_INVALID_ARGUMENT', `${field} ${rule}`, { field });
  if (typeof options?.model !== 'string' || options.model.length === 0)
    throw bad('model', 'must be a non-empty string');
  if (options.ttl !== undefined && !(Number.isInteger(options.ttl) && options.ttl > 0))
    throw bad('ttl', 'must be a positive whole number of seconds');
  const namespace = options.namespace ?? core.options.namespace;
  if (!NAME_PATTERN.test(namespace)) throw bad('namespace', 'must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  const tags = [...new Set(options.tags ?? [])];
  if (tags.some((t) => !NAME_PATTERN.test(t))) throw bad('tags', 'must be names of A-Z a-z 0-9 . _ : -');
  const serializer = options.serializer ?? (JSON_SERIALIZER as Serializer<T>);
  const usage = options.usage ?? ((values: readonly T[]) => findUsage(values));
  const codec: ValueCodec = {
    deserialize: (text) => serializer.deserialize(text),
    usage: (values) => usage(values as T[]),
  };
  const controls: RequestControls = {
    noCache: options.cacheControl === 'no-cache',
    noStore: options.cacheControl === 'no-store',
    maxAgeSeconds: undefined,
    ttlSeconds: options.ttl,
    namespace,
    tags,
    replay: (options as StreamCallOptions<T, unknown>).replay,
    // getOrStream / getOrCreate keys are the caller's own inputs: exact only.
    semantic: 'off',
    semanticThreshold: undefined,
  };
  const route = kind === 'stream' ? 'getOrStream' : 'getOrCreate';
  const body = {
    messages: toJson(messages, 'messages'),
    model: options.model,
    params: toJson(options.params ?? {}, 'params'),
  };
  return {
    base: {
      protocol: kind === 'stream' ? chunksProtocol(codec) : valueProtocol(codec),
      request: { body, model: options.model, stream: kind === 'stream', wantsStreamUsage: false },
      controls,
      upstream: 'sluice.library',
      // Library keys are scoped by namespace only: there is no credential and no HTTP target.
      identity: () => ({ scope: 'shared', target: { path: route, query: [], headers: {} } }),
      route,
    },
    serializer,
  };
}

/**
 * getOrStream through the engine. The consumer's lifetime is the iteration (openai-node's rule):
 * leaving it early (`break`, a throw) aborts the call, so the producer is closed and nothing is
 * stored. The producer is pulled only as fast as its listeners consume.
 */
export async function* streamThroughCache<T>(
  core: LibraryCore,
  call: LibraryCall<T>,
  streamFn: StreamProducer<T>,
  messages: unknown,
  pacing: ReplayPacing,
  report: (status: GenericCacheStatus) => void,
): AsyncGenerator<T, void, undefined> {
  const lifetime = new AbortController();
  const queue = new ChunkQueue<T>();
  const port = new ChunkPort(queue, call.serializer, pacing, report);
  let done = false;
  const engineCall: EngineCall = { ...call.base, caller: lifetimeOf(lifetime.signal), source: producerSource(streamFn, messages, call.serializer) };
  const close = recordCall(core, engineCall);
  try {
    await core.engine.run(engineCall, port);
    yield* queue.drain();
    done = true;
  } finally {
    if (!done) lifetime.abort();
    close(done);
  }
}

/** getOrCreate through the engine: the stored value, or createFn's result, shared with identical calls in flight. */
export async function createThroughCache<T>(
  core: LibraryCore,
  call: LibraryCall<T>,
  createFn: (messages: unknown) => Promise<T>,
  messages: unknown,
): Promise<T> {
  const port = new ValuePort<T>(call.serializer);
  const engineCall: EngineCall = { ...call.base, caller: FOREVER, source: valueSource(createFn, messages, call.serializer) };
  const close = recordCall(core, engineCall);
  let answered = false;
  try {
    await core.engine.run(engineCall, port);
    answered = true;
  } finally {
    close(answered);
  }
  return port.result;
}

function producerSource<T>(streamFn: StreamProducer<T>, messages: unknown, serializer: Serializer<T>): UpstreamSource {
  return {
    run: async (sink) => {
      let iterator: AsyncIterator<T>;
      try {
        const produced: unknown = await streamFn(messages);
        if (!isAsyncIterable<T>(produced)) {
          throw new LibraryError(
            'LIB_INVALID_ARGUMENT',
            'streamFn must return an AsyncIterable or a Promise of one',
            { field: 'streamFn' },
          );
        }
        iterator = produced[Symbol.asyncIterator]();
      } catch (err) {
        sink.fail(producerFailure(err));
        return;
      }
      // Closing the producer is how an abort reaches it (an SDK stream aborts its request).
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
      };
      if (sink.closed) return close();
      sink.onAbort(close);
      sink.head({ status: 200, contentType: CHUNKS_CONTENT_TYPE, headers: {} });
      let count = 0;
      try {
        for (;;) {
          const wait = sink.ready();
          if (wait) await wait;
          if (sink.closed) return;
          const step = await iterator.next();
          if (sink.closed) return;
          if (step.done) break;
          const text = trySerialize(serializer, step.value);
          // A chunk without a byte form is still served; the answer just cannot be kept.
          sink.data(text === undefined ? EMPTY : encodeChunkFrame(text), { value: step.value }, text !== undefined);
          count++;
        }
      } catch (err) {
        if (!sink.closed) sink.fail(producerFailure(err));
        return;
      }
      sink.data(encodeDoneFrame(count));
      sink.end();
    },
  };
}

function valueSource<T>(createFn: (messages: unknown) => Promise<T>, messages: unknown, serializer: Serializer<T>): UpstreamSource {
  return {
    run: async (sink) => {
      let value: T;
      try {
        value = await createFn(messages);
      } catch (err) {
        if (!sink.closed) sink.fail(producerFailure(err));
        return;
      }
      sink.head({ status: 200, contentType: VALUE_CONTENT_TYPE, headers: {} });
      const text = trySerialize(serializer, value);
      sink.data(text === undefined ? EMPTY : Buffer.from(text, 'utf8'), { value }, text !== undefined);
      sink.end();
    },
  };
}

function producerFailure(err: unknown) {
  return {
    code: 'producer_failed' as const,
    status: 502 as const,
    message: err instanceof Error ? err.message : String(err),
    cause: err,
  };
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

function trySerialize<T>(serializer: Serializer<T>, value: T): string | undefined {
  try {
    const text: unknown = serializer.serialize(value);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

