import type { SseEvent, SseEventInit } from '../sse/types.js';

/** Every wire protocol Sluice understands. The name is part of the cache key. */
export type ProtocolName =
  | 'openai.chat'
  | 'openai.completions'
  | 'openai.responses'
  | 'openai.embeddings'
  | 'anthropic.messages';

/** Which upstream a protocol talks to, and therefore which error shape and credential header it uses. */
export type ProtocolFamily = 'openai' | 'anthropic';

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
  | { complete: false; reason: string };

/** Verdict on a non-stream JSON answer that came back with status 200. */
export type JsonVerdict = { ok: true; model?: string; usage?: Usage } | { ok: false; reason: string };

/** Why a request is answered but never cached (e.g. `n > 1` where unsupported). */
export type CacheabilityCheck = { cacheable: true } | { cacheable: false; reason: string };

/**
 * One wire protocol. Implementations are pure: no I/O, no timers, no logging.
 * Everything the cache does with a recording is a function of (protocol, recording, request).
 */
export interface Protocol {
  readonly name: ProtocolName;
  readonly family: ProtocolFamily;
  /** The route, e.g. "/v1/chat/completions". */
  readonly path: string;

  /** Validate a parsed JSON body. Errors name the offending field in `param`. */
  validate(body: unknown): RequestCheck;

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
  inspectStream(events: readonly SseEvent[]): StreamVerdict;

  /** Decide whether a 200 JSON body is a real answer (not an error body, not truncated). */
  inspectJson(body: unknown): JsonVerdict;

  /** Assemble the non-stream JSON answer from a complete recorded stream; nothing after the terminal event counts. */
  assemble(events: readonly SseEvent[]): JsonObject;

  /**
   * Synthesize a stream from a non-stream JSON answer, in word-sized content chunks,
   * ending with the protocol's terminal event. OpenAI chat/completions add the usage chunk
   * only when `request.wantsStreamUsage`.
   */
  synthesize(answer: JsonObject, request: RequestInfo): SseEventInit[];
}
