import type { OutcomeHeaders } from '../cache/cache-status.js';
import type { Flight, FlightListener, FlightOutcome } from '../capture/flight.js';
import type { CallPort, FollowerAnswer, Found } from '../engine/call.js';
import type { ReplayPacing } from '../options-schema.js';
import { decodeChunks } from '../protocols/library.js';
import { replayDelays } from '../replay/replay.js';
import type { ChunkQueue } from './chunk-queue.js';
import { LibraryError } from './errors.js';
import { failureError } from './fetch-port.js';
import type { GenericCacheStatus, Serializer } from './generic-calls.js';

/**
 * The outgoing side of getOrStream and getOrCreate: how the engine's answers (a replay, a
 * flight's live chunks, a follower's end) become chunks in a queue or one value.
 */

/** getOrStream's side of the engine: replays and live chunks go into one queue the consumer drains. */
export class ChunkPort<T> implements CallPort {
  constructor(
    private readonly queue: ChunkQueue<T>,
    private readonly serializer: Serializer<T>,
    private readonly pacing: ReplayPacing,
    private readonly report: (status: GenericCacheStatus) => void,
  ) {}

  replay(_plan: unknown, found: Found, headers: OutcomeHeaders): boolean {
    const texts = decodeChunks(found.entry.body);
    const values = texts && deserializeAll(this.serializer, texts);
    // An entry the serializer cannot read (changed chunk type, foreign data) is a miss, not an error.
    if (!texts || !values) return false;
    this.report(statusOf(headers));
    const times = texts.map((_, i) => found.entry.eventTimes?.[i] ?? 0);
    this.queue.replay(values, replayDelays(this.pacing, times));
    return true;
  }

  stream(headers: OutcomeHeaders): FlightListener {
    this.report(statusOf(headers));
    return new ChunkListener(this.queue, this.serializer);
  }

  answer(answer: FollowerAnswer, headers: OutcomeHeaders): void {
    this.report(statusOf(headers));
    if (answer.kind === 'failure') this.queue.fail(failureError(answer.failure));
    else if (answer.kind === 'replay') this.replay(answer.plan, { entry: answer.entry, layer: 'none' }, headers);
    else this.queue.fail(failureError({ code: 'upstream_incomplete', status: 502, message: 'the producer failed' }));
  }
}

/** One getOrStream consumer on a flight: live chunks as values, catch-up bytes decoded. */
class ChunkListener<T> implements FlightListener {
  readonly raw = true;
  #flight: Flight | undefined;

  constructor(
    private readonly queue: ChunkQueue<T>,
    private readonly serializer: Serializer<T>,
  ) {}

  onAttach(flight: Flight): void {
    this.#flight = flight;
  }

  onHead(): void {}

  onData(chunk: Uint8Array, carried?: { value: unknown }): void {
    if (carried) {
      this.queue.push(carried.value as T);
      return;
    }
    // The bytes recorded before this follower joined (or the terminal frame): decode them.
    const texts = this.queue.decode(chunk);
    const values = deserializeAll(this.serializer, texts);
    if (values) for (const value of values) this.queue.push(value);
    else this.queue.fail(new LibraryError('LIB_INVALID_ARGUMENT', 'the serializer cannot read the shared chunks', { field: 'serializer' }));
  }

  ready(): Promise<void> | undefined {
    return this.queue.ready();
  }

  onSettled(outcome: FlightOutcome): void {
    if (outcome.kind === 'failed') {
      this.queue.fail(failureError(outcome.failure));
      return;
    }
    // Ends only once the entry write is over: a finished stream means "stored".
    const committed = this.#flight?.committed ?? Promise.resolve(false);
    void committed.finally(() => this.queue.end());
  }
}

/** getOrCreate's side of the engine. */
export class ValuePort<T> implements CallPort {
  readonly result: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (err: unknown) => void;

  constructor(private readonly serializer: Serializer<T>) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  replay(_plan: unknown, found: Found): boolean {
    const values = deserializeAll(this.serializer, [Buffer.from(found.entry.body).toString('utf8')]);
    if (!values) return false;
    this.resolve(values[0] as T);
    return true;
  }

  stream(): FlightListener {
    let flight: Flight | undefined;
    let carried: { value: unknown } | undefined;
    const parts: Uint8Array[] = [];
    return {
      raw: true,
      onAttach: (f) => {
        flight = f;
      },
      onHead: () => undefined,
      onData: (chunk, c) => {
        if (c) carried = c;
        else parts.push(chunk);
      },
      onSettled: (outcome) => {
        if (outcome.kind === 'failed') {
          this.reject(failureError(outcome.failure));
          return;
        }
        const committed = flight?.committed ?? Promise.resolve(false);
        void committed.finally(() => {
          if (carried) {
            this.resolve(carried.value as T);
            return;
          }
          const values = deserializeAll(this.serializer, [Buffer.concat(parts).toString('utf8')]);
          if (values) this.resolve(values[0] as T);
          else this.reject(new LibraryError('LIB_INVALID_ARGUMENT', 'the serializer cannot read the shared value', { field: 'serializer' }));
        });
      },
    };
  }

  answer(answer: FollowerAnswer): void {
    if (answer.kind === 'replay') {
      if (!this.replay(undefined, { entry: answer.entry, layer: 'none' })) {
        this.reject(new LibraryError('LIB_INVALID_ARGUMENT', 'the serializer cannot read the shared value', { field: 'serializer' }));
      }
    } else if (answer.kind === 'failure') this.reject(failureError(answer.failure));
    else this.reject(failureError({ code: 'upstream_incomplete', status: 502, message: 'the producer failed' }));
  }
}

function statusOf(headers: OutcomeHeaders): GenericCacheStatus {
  const outcome = headers['x-sluice-cache'];
  return outcome === 'SEMANTIC-HIT' ? 'HIT' : outcome;
}

/** An entry the serializer cannot read (changed chunk type, foreign data) is a miss, not an error. */
export function deserializeAll<T>(serializer: Serializer<T>, texts: readonly string[]): T[] | undefined {
  try {
    return texts.map((text) => serializer.deserialize(text));
  } catch {
    return undefined;
  }
}
