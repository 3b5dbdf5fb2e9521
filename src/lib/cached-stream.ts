import { LibraryError } from './errors.js';
import type { GenericCacheStatus } from './generic-calls.js';

/**
 * What getOrStream returns: an AsyncIterable of the chunks (single use, like the SDKs' streams),
 * plus `final()` for callers that want the joined result, and where the chunks came from.
 */
export class CachedStream<T, V = T[]> implements AsyncIterable<T> {
  #status: GenericCacheStatus | undefined;
  #wrapped: AsyncIterator<T, void, undefined> | undefined;
  readonly #chunks: T[] = [];
  #finished = false;

  constructor(
    private readonly start: (report: (status: GenericCacheStatus) => void) => AsyncGenerator<T, void, undefined>,
    private readonly joiner: (chunks: T[]) => V,
  ) {}

  /** HIT, MISS, REFRESH or BYPASS once iteration has begun; undefined before. */
  get cacheStatus(): GenericCacheStatus | undefined {
    return this.#status;
  }

  [Symbol.asyncIterator](): AsyncIterator<T, void, undefined> {
    if (this.#wrapped) {
      throw new LibraryError(
        'LIB_STREAM_CONSUMED',
        'this stream is already being iterated; call getOrStream again',
      );
    }
    const inner = this.start((status) => {
      this.#status = status;
    });
    this.#wrapped = {
      next: async () => {
        const step = await inner.next();
        if (step.done) this.#finished = true;
        else this.#chunks.push(step.value);
        return step;
      },
      return: async () => {
        this.#finished = true;
        return inner.return(undefined);
      },
      throw: async (err?: unknown) => inner.throw(err),
    };
    return this.#wrapped;
  }

  /**
   * Reads whatever is left and returns chunkJoiner(all chunks). After an early `break` it joins
   * the chunks that were read.
   */
  async final(): Promise<V> {
    const iterator = this.#wrapped ?? this[Symbol.asyncIterator]();
    while (!this.#finished) await iterator.next();
    return this.joiner(this.#chunks);
  }
}
