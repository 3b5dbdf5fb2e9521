import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type BreakerState, CircuitBreaker } from '../cache/circuit-breaker.js';
import { type Embedder, type EmbedderIdentity, normalize, SemanticError } from './types.js';

export interface OpenAiEmbedderOptions {
  /** An OpenAI-compatible base URL, as for --upstream: embeddings come from POST {url}/embeddings. */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string | undefined;
  /** Bound on one embeddings call: a semantic lookup never adds more than this to a miss. */
  timeoutMs: number;
  /**
   * The length every vector must have (the index's dimension). Unset: the first vector returned
   * fixes it. A vector of another length is an EMBEDDER_BAD_RESPONSE, never an index row.
   */
  dimension?: number | undefined;
  /** Recent embeddings kept, so a repeated prompt costs no second call. Default 1000. */
  cacheEntries?: number;
  /** Consecutive failures (errors, timeouts, bad answers) that open the breaker. Default 5. */
  failureThreshold?: number;
  /** How long an open breaker makes every embed fail at once before one probe goes. Default 2000 ms. */
  resetAfterMs?: number;
  onBreakerChange?: (state: BreakerState) => void;
  fetch?: typeof globalThis.fetch;
}

/**
 * Embeddings from any OpenAI-compatible server (OpenAI, Ollama, TEI, vLLM...), guarded as a
 * dependency on the request path: a timeout per call, a circuit breaker so that an embedder
 * that keeps failing or stalling costs nothing per request (the layer turns the error into an
 * exact-only request), identical concurrent texts sharing one call, and a bounded memo.
 */
export class OpenAiEmbedder implements Embedder {
  readonly identity: EmbedderIdentity;
  readonly #endpoint: string;
  readonly #options: OpenAiEmbedderOptions;
  readonly #recent: LRUCache<string, Float32Array>;
  readonly #pending = new Map<string, Promise<Float32Array>>();
  readonly #breaker: CircuitBreaker;
  readonly #fetch: typeof globalThis.fetch;

  constructor(options: OpenAiEmbedderOptions) {
    this.#options = options;
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/embeddings`;
    this.identity = { type: 'openai', model: options.model, dimension: options.dimension };
    this.#recent = new LRUCache({ max: options.cacheEntries ?? 1000 });
    this.#breaker = new CircuitBreaker({
      ...(options.failureThreshold !== undefined ? { failureThreshold: options.failureThreshold } : {}),
      ...(options.resetAfterMs !== undefined ? { resetAfterMs: options.resetAfterMs } : {}),
      ...(options.onBreakerChange ? { onStateChange: options.onBreakerChange } : {}),
    });
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  get breakerState(): BreakerState {
    return this.#breaker.state;
  }

  /**
   * `signal` ends this caller's wait only: the call itself, which other callers of the same text
   * may share, runs to its own timeout.
   */
  async embed(text: string, signal?: AbortSignal): Promise<Float32Array> {
    const id = createHash('sha256').update(text).digest('base64');
    const known = this.#recent.get(id);
    if (known) return known;
    let pending = this.#pending.get(id);
    if (!pending) {
      pending = this.#guardedCall(text).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    const vector = await (signal ? abortable(pending, signal) : pending);
    this.#recent.set(id, vector);
    return vector;
  }

  async #guardedCall(text: string): Promise<Float32Array> {
    if (!this.#breaker.tryAcquire()) {
      throw new SemanticError('EMBEDDER_CIRCUIT_OPEN', 'embeddings endpoint failing: circuit open, call skipped');
    }
    try {
      const vector = this.#checkDimension(await this.#call(text));
      this.#breaker.onSuccess();
      return vector;
    } catch (err) {
      this.#breaker.onFailure();
      throw err;
    }
  }

  #checkDimension(vector: Float32Array): Float32Array {
    this.identity.dimension ??= vector.length;
    if (vector.length !== this.identity.dimension) {
      throw new SemanticError(
        'EMBEDDER_BAD_RESPONSE',
        `embeddings of ${vector.length} dimensions, the index holds ${this.identity.dimension}`,
      );
    }
    return vector;
  }

  async #call(text: string): Promise<Float32Array> {
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    let response: Response;
    try {
      response = await this.#fetch(this.#endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: this.#options.model, input: text, encoding_format: 'float' }),
        signal: timeout,
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new SemanticError('EMBEDDER_FAILED', `embeddings endpoint answered ${response.status}`);
      }
      return parseEmbedding(await response.json());
    } catch (err) {
      if (err instanceof SemanticError) throw err;
      if (timeout.aborted) {
        throw new SemanticError('EMBEDDER_TIMEOUT', `embeddings call took over ${this.#options.timeoutMs} ms`);
      }
      throw new SemanticError('EMBEDDER_FAILED', `embeddings call failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new SemanticError('EMBEDDER_FAILED', 'embedding no longer wanted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new SemanticError('EMBEDDER_FAILED', 'embedding no longer wanted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function parseEmbedding(body: unknown): Float32Array {
  const data = (body as { data?: unknown } | null)?.data;
  const first = Array.isArray(data) ? (data[0] as { embedding?: unknown } | undefined) : undefined;
  const embedding = first?.embedding;
  let vector: Float32Array | undefined;
  if (Array.isArray(embedding) && embedding.length > 0 && embedding.every((v) => typeof v === 'number')) {
    vector = Float32Array.from(embedding as number[]);
  } else if (typeof embedding === 'string') {
    // Some servers send base64 float32 even when asked for floats.
    const bytes = Buffer.from(embedding, 'base64');
    if (bytes.byteLength > 0 && bytes.byteLength % 4 === 0) {
      vector = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
  }
  if (!vector || vector.some((v) => !Number.isFinite(v))) {
    throw new SemanticError('EMBEDDER_BAD_RESPONSE', 'embeddings answer has no usable data[0].embedding');
  }
  return normalize(vector);
}
