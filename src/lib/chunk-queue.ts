import { chunkTexts } from '../protocols/library.js';
import { createSseDecoder, type SseDecoder } from '../sse/decoder.js';
import { pause } from './pacing.js';

/**
 * The chunks one getOrStream consumer has not read yet. Pull-based: `ready()` is pending until
 * the consumer has read everything and asks for more, so a producer is never run ahead of its
 * consumers (a consumer that stops early leaves nothing produced that it did not ask for).
 */
export class ChunkQueue<T> {
  #items: T[] = [];
  #delays: number[] | undefined;
  #ended = false;
  #failed = false;
  #error: unknown;
  #wake: (() => void) | undefined;
  #asked: (() => void) | undefined;
  #waiting = false;
  #decoder: SseDecoder | undefined;

  push(value: T): void {
    this.#items.push(value);
    this.#poke();
  }

  /** A hit: the recorded values, each after its delay. */
  replay(values: T[], delays: number[]): void {
    this.#items = values;
    this.#delays = delays;
    this.#ended = true;
    this.#poke();
  }

  end(): void {
    this.#ended = true;
    this.#poke();
  }

  fail(error: unknown): void {
    if (this.#ended || this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#poke();
  }

  /** Serialized chunks of whole chunk events in bytes that came without their values. */
  decode(bytes: Uint8Array): string[] {
    this.#decoder ??= createSseDecoder({ maxRemainderBytes: Number.MAX_SAFE_INTEGER });
    return chunkTexts(this.#decoder.feed(bytes).filter((e) => e.event === 'chunk'))?.texts ?? [];
  }

  ready(): Promise<void> | undefined {
    if (this.#ended || this.#failed || (this.#waiting && this.#items.length === 0)) return undefined;
    return new Promise((resolve) => {
      this.#asked = resolve;
    });
  }

  async *drain(): AsyncGenerator<T, void, undefined> {
    let index = 0;
    for (;;) {
      if (this.#delays) {
        const delay = this.#delays[index] ?? 0;
        if (delay > 0) await pause(delay);
      }
      if (index < this.#items.length) {
        const value = this.#items[index] as T;
        index++;
        // Live chunks are dropped once read; a replay keeps its array for the delays' indexes.
        if (!this.#delays && index > 1024) {
          this.#items = this.#items.slice(index);
          index = 0;
        }
        yield value;
        continue;
      }
      if (this.#failed) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#waiting = true;
        this.#items = [];
        index = 0;
        const asked = this.#asked;
        this.#asked = undefined;
        asked?.();
      });
    }
  }

  #poke(): void {
    this.#waiting = false;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    if (this.#ended || this.#failed) {
      const asked = this.#asked;
      this.#asked = undefined;
      asked?.();
    }
  }
}
