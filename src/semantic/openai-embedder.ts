import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type Embedder, type EmbedderIdentity, normalize, SemanticError } from './types.js';

export interface OpenAiEmbedderOptions {
  /** An OpenAI-compatible base URL, as for --upstream: embeddings come from POST {url}/embeddings. */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string | undefined;
  /** Bound on one embeddings call: a semantic lookup never adds more than this to a miss. */
  timeoutMs: number;
  /** Recent embeddings kept, so a repeated prompt costs no second call. Default 1000. */
  cacheEntries?: number;
  fetch?: typeof globalThis.fetch;
}

/** Embeddings from any OpenAI-compatible server (OpenAI, Ollama, TEI, vLLM...). */
export class OpenAiEmbedder implements Embedder {
  readonly identity: EmbedderIdentity;
  readonly #endpoint: string;
  readonly #options: OpenAiEmbedderOptions;
  readonly #recent: LRUCache<string, Float32Array>;
  readonly #pending = new Map<string, Promise<Float32Array>>();
  readonly #fetch: typeof globalThis.fetch;

  constructor(options: OpenAiEmbedderOptions) {
    this.#options = options;
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/embeddings`;
    this.identity = { type: 'openai', model: options.model, dimension: undefined };
    this.#recent = new LRUCache({ max: options.cacheEntries ?? 1000 });
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async embed(text: string, signal?: AbortSignal): Promise<Float32Array> {
    const id = createHash('sha256').update(text).digest('base64');
    const known = this.#recent.get(id);
    if (known) return known;
    // Identical prompts arriving together share one call.
    let pending = this.#pending.get(id);
    if (!pending) {
      pending = this.#call(text, signal).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    const vector = await pending;
    this.#recent.set(id, vector);
    return vector;
  }

  async #call(text: string, signal: AbortSignal | undefined): Promise<Float32Array> {
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    let response: Response;
    try {
      response = await this.#fetch(this.#endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: this.#options.model, input: text, encoding_format: 'float' }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
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
