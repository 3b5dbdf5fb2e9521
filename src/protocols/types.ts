import type { FramingName } from '../sse/framing.js';
import type { SseRecordedEvents } from '../sse/recorded-events.js';
import type { SseEvent, SseEventInit } from '../sse/types.js';

/** Every wire protocol the gateway serves. The name is part of the cache key. */
export type HttpProtocolName =
  | 'openai.chat'
  | 'openai.completions'
  | 'openai.responses'
  | 'openai.embeddings'
  | 'anthropic.messages'
  | 'bedrock.converse'
  | 'bedrock.invoke'
  | 'gemini.generate'
  | 'gemini.json';

/** Entries of the library's getOrStream (chunks) and getOrCreate (one value): no HTTP request has these. */
export type LibraryProtocolName = 'sluice.chunks' | 'sluice.value';

/** Every protocol an entry can belong to. The name is part of the cache key. */
export type ProtocolName = HttpProtocolName | LibraryProtocolName;

/** Which upstream a protocol talks to, and therefore which error shape and credential header it uses. */
export type ProtocolFamily = 'openai' | 'anthropic' | 'bedrock' | 'gemini';

/**
 * What a templated route took from the path (Bedrock's `/model/{modelId}/converse`): the model id
 * decoded, and the path exactly as the client encoded it (forwarded upstream as is).
 */
export interface RouteParams {
  modelId: string;
  rawPath: string;
  /** The query string as sent ('' or '?a=b'), for protocols whose framing it decides (Gemini's `alt`). */
  search?: string;
  /** The request headers, for protocols whose answer depends on some of them (lowercase names). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** A request that passed validation: what the gateway and the cache need to know about it. */
export interface RequestInfo {
  body: JsonObject;
  model: string;
  stream: boolean;
  /** OpenAI chat/completions: `stream_options.include_usage` was true. Always false elsewhere. */
  wantsStreamUsage: boolean;
  /**
   * Templated routes: key material from outside the body (the path's model id, headers that
   * change the answer). Names start with ':' so they cannot collide with body fields.
   */
  routeKey?: JsonObject;
}

export type RequestCheck =
  | { ok: true; request: RequestInfo }
  | { ok: false; status: 400; message: string; param?: string };

/** Verdict on a complete recorded stream (all events decoded from the recorded bytes). */
export type StreamVerdict =
  | {
      complete: true;
      model?: string;
      usage?: Usage;
      /**
       * Index (into the events array) of an event that exists only to carry usage
       * (OpenAI's `include_usage` chunk). Replay drops it for requests that did not ask for usage.
       */
      usageEventIndex?: number;
    }
  | {
      complete: false;
      reason: string;
      /** Counted reason (metrics label) when it is not simply an incomplete stream, e.g. `unknown_model_family`. */
      code?: string;
    };

/** Verdict on a non-stream JSON answer that came back with status 200. */
export type JsonVerdict = { ok: true; model?: string; usage?: Usage } | { ok: false; reason: string };

/** Why a request is answered but never cached (e.g. `n > 1` where unsupported). */
export type CacheabilityCheck = { cacheable: true } | { cacheable: false; reason: string };

/**
 * How a protocol whose streams carry usage only on request (OpenAI's include_usage) lets Sluice
 * ask for it on a client's behalf (cache.requestStreamUsage) and hide it again from that client.
 */
export interface StreamUsageOption {
  /** The request body, asking the upstream for usage. */
  ask(body: JsonObject): JsonObject;
  /**
   * One event of a stream that was asked for usage, as a client that did not ask would have got
   * it: unchanged ('keep'), left out ('drop', the usage chunk), or rewritten (usage fields removed).
   */
  strip(event: SseEvent): SseEventInit | 'keep' | 'drop';
}

/**
 * What the engine needs of a protocol, whoever the caller: the key material, the completeness
 * rule and the conversions. Implementations are pure: no I/O, no timers, no logging.
 * Everything the cache does with a recording is a function of (protocol, recording, request).
 */
export interface EngineProtocol {
  readonly name: ProtocolName;
  /** How this protocol's streams are framed (for synthesized streams). Default: SSE. */
  readonly streamFraming?: FramingName;

  /** Whether answers to this request may be stored at all. */
  cacheability(request: RequestInfo): CacheabilityCheck;

  /**
   * The request fields that can change the answer: the body minus the exclusions listed in
   * `src/protocols/key-exclusions.ts`. The cache hashes this canonically.
   */
  keyMaterial(request: RequestInfo): JsonObject;

  /** Whether an event is the protocol's terminal event (`data: [DONE]`, `message_stop`, `response.completed`). */
  isTerminal(event: SseEvent): boolean;

  /**
   * Decide whether a recorded stream completed cleanly (DESIGN.md section 3, rule 1). A stream
   * whose terminal event is not its last event is refused (src/protocols/terminal.ts).
   */
  inspectStream(events: readonly SseEvent[], request?: RequestInfo): StreamVerdict;

  /**
   * Optional fast form of inspectStream for an SSE recording, read in place from the frame
   * boundaries the Recorder found (no decoded events, no full JSON parse of content deltas).
   * Returns a verdict only when it proves the stream complete, and then exactly the verdict
   * inspectStream gives the decoded events; undefined otherwise, and the gate falls back to
   * decoding and inspectStream (which also words every refusal).
   */
  inspectRecording?(events: SseRecordedEvents): StreamVerdict | undefined;

  /** Decide whether a 200 JSON body is a real answer (not an error body, not truncated). */
  inspectJson(body: unknown, request?: RequestInfo): JsonVerdict;

  /** For a protocol whose non-stream body is not JSON: judges the raw bytes instead of inspectJson. */
  inspectBody?(body: Buffer): JsonVerdict;

  /** Assemble the non-stream JSON answer from a complete recorded stream; nothing after the terminal event counts. */
  assemble(events: readonly SseEvent[]): JsonObject;

  /**
   * Synthesize a stream from a non-stream JSON answer, in word-sized content chunks,
   * ending with the protocol's terminal event. OpenAI chat/completions add the usage chunk
   * only when `request.wantsStreamUsage`.
   */
  synthesize(answer: JsonObject, request: RequestInfo): SseEventInit[];

  /** Present where stream usage must be asked for (see StreamUsageOption). */
  readonly streamUsage?: StreamUsageOption;
}

/** A wire protocol of the gateway (and the caching fetch): an engine protocol with a route and a validator. */
export interface Protocol extends EngineProtocol {
  readonly name: HttpProtocolName;
  readonly family: ProtocolFamily;
  /** The route, e.g. "/v1/chat/completions"; for a templated route its pattern (also the metrics label). */
  readonly path: string;

  /**
   * For templated routes only: the parameters when `rawPath` (as the client encoded it) is this
   * route, else undefined. Routes without it match `path` exactly.
   */
  matchPath?(rawPath: string): Omit<RouteParams, 'headers'> | undefined;

  /**
   * The route in the cache key when it is not `path`: routes of one protocol that answer each
   * other (Converse and ConverseStream) share it.
   */
  readonly keyPath?: string;

  /**
   * Validate a parsed JSON body (with the route's parameters for a templated route). Errors name
   * the offending field in `param`.
   */
  validate(body: unknown, route?: RouteParams): RequestCheck;
}
