import { DEFAULTS } from '../defaults.js';
import { SluiceError } from '../errors.js';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.js';
import type { CacheEntry } from './entry.js';
import {
  type CacheStore,
  type EntryPage,
  type ListQuery,
  type PurgeFilter,
  type PurgeOptions,
  StoreError,
} from './store.js';

export type StoreOperation = 'get' | 'set' | 'purge' | 'list';

export interface FailOpenStoreOptions {
  /** Upper bound of every call to the inner store. Default 50 ms. */
  timeoutMs?: number;
  /**
   * Bound of an admin call (purge, list), which is not live traffic: it runs on its own budget and
   * never feeds the breaker. Default 5 minutes.
   */
  adminTimeoutMs?: number;
  /** Consecutive failures (errors or timeouts) that open the circuit. Default 5. */
  failureThreshold?: number;
  /** Pause before one probe is let through an open circuit. Default 2000 ms. */
  resetAfterMs?: number;
  /** Every failure of a call that reached the inner store (not calls skipped by an open circuit). */
  onError?: (op: StoreOperation, err: StoreError) => void;
  /** Once per breaker transition, with the inner store's name. */
  onStateChange?: (state: BreakerState, store: string) => void;
}

/**
 * DESIGN.md rule 5: a store that errors or times out is a miss, never a failed request and
 * never a long wait. Wraps any CacheStore: get → undefined, set → false on failure, each
 * call bounded by `timeoutMs`, and a circuit breaker so a dead store is not even asked.
 * Purge and list are admin actions: they run on their own time limit (`adminTimeoutMs`), outside
 * the breaker (admin work must never switch the cache off for live traffic, nor be refused by a
 * breaker live traffic opened), and their failures are thrown (as StoreError) for the admin API.
 */
export class FailOpenStore implements CacheStore {
  readonly name: string;
  readonly #inner: CacheStore;
  readonly #timeoutMs: number;
  readonly #adminTimeoutMs: number;
  readonly #breaker: CircuitBreaker;
  readonly #onError: ((op: StoreOperation, err: StoreError) => void) | undefined;
  /**
   * Present only when the inner store has a synchronous `peek` (one in process memory): then the
   * time bound holds by construction (for its other calls too), and an error is still a miss
   * that feeds the breaker.
   */
  readonly peek: ((key: string) => CacheEntry | undefined) | undefined;

  constructor(inner: CacheStore, options: FailOpenStoreOptions = {}) {
    this.#inner = inner;
    this.name = inner.name;
    this.#timeoutMs = options.timeoutMs ?? DEFAULTS.storeTimeoutMs;
    if (!Number.isFinite(this.#timeoutMs) || this.#timeoutMs <= 0) {
      throw new SluiceError(
        'INVALID_OPTION',
        `FailOpenStore option "timeoutMs" must be a positive number, got ${this.#timeoutMs}`,
        { field: 'timeoutMs' },
      );
    }
    this.#adminTimeoutMs = options.adminTimeoutMs ?? DEFAULTS.adminTimeoutMs;
    if (!Number.isFinite(this.#adminTimeoutMs) || this.#adminTimeoutMs <= 0) {
      throw new SluiceError(
        'INVALID_OPTION',
        `FailOpenStore option "adminTimeoutMs" must be a positive number, got ${this.#adminTimeoutMs}`,
        { field: 'adminTimeoutMs' },
      );
    }
    this.#onError = options.onError;
    const innerPeek = inner.peek;
    this.peek = innerPeek && ((key) => this.#peekInner(innerPeek, key));
    const onStateChange = options.onStateChange;
    this.#breaker = new CircuitBreaker({
      failureThreshold: options.failureThreshold ?? DEFAULTS.breakerFailureThreshold,
      resetAfterMs: options.resetAfterMs ?? DEFAULTS.breakerResetAfterMs,
      onStateChange: onStateChange && ((state) => onStateChange(state, inner.name)),
    });
  }

  get state(): BreakerState {
    return this.#breaker.state;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    if (this.peek) return this.peek(key);
    const outcome = await this.#call('get', () => this.#inner.get(key));
    return outcome.ok ? outcome.value : undefined;
  }

  #peekInner(peek: (key: string) => CacheEntry | undefined, key: string): CacheEntry | undefined {
    if (!this.#breaker.tryAcquire()) return undefined;
    try {
      const entry = peek.call(this.#inner, key);
      this.#breaker.onSuccess();
      return entry;
    } catch (err) {
      this.#breaker.onFailure();
      this.#onError?.('get', new StoreError('STORE_FAILED', `${this.name} get failed: ${String(err)}`, { cause: err }));
      return undefined;
    }
  }

  async set(key: string, entry: CacheEntry): Promise<boolean> {
    const outcome = await this.#call('set', () => this.#inner.set(key, entry));
    return outcome.ok ? outcome.value : false;
  }

  /**
   * The store stops between batches at the deadline and says what it removed; the timer beside it
   * (a little later) only catches a store that does not honour the deadline or a stuck command.
   */
  async purge(filter: PurgeFilter, options: PurgeOptions = {}): Promise<number> {
    const deadline = Math.min(options.deadline ?? Infinity, Date.now() + this.#adminTimeoutMs);
    const boundMs = Math.max(1, deadline - Date.now()) + ADMIN_GRACE_MS;
    return this.#admin('purge', () => this.#inner.purge(filter, { deadline }), boundMs);
  }

  /** Like purge, an admin action: its own time limit, no breaker, failures thrown for the admin API. */
  async list(query: ListQuery): Promise<EntryPage> {
    return this.#admin('list', () => this.#inner.list(query), this.#adminTimeoutMs);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #admin<T>(op: StoreOperation, run: () => Promise<T>, timeoutMs: number): Promise<T> {
    try {
      return await withTimeout(run, timeoutMs, `${this.name} ${op}`);
    } catch (err) {
      throw err instanceof StoreError
        ? err
        : new StoreError('STORE_FAILED', `${this.name} ${op} failed: ${String(err)}`, { cause: err });
    }
  }

  async #call<T>(
    op: StoreOperation,
    run: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: StoreError }> {
    if (!this.#breaker.tryAcquire()) {
      return {
        ok: false,
        error: new StoreError('STORE_UNAVAILABLE', `${this.name} store skipped: circuit breaker is open`),
      };
    }
    try {
      // A store in process memory (one that can peek) cannot stall: its calls need no timer.
      const value = this.peek ? await run() : await withTimeout(run, this.#timeoutMs, `${this.name} ${op}`);
      this.#breaker.onSuccess();
      return { ok: true, value };
    } catch (err) {
      const error =
        err instanceof StoreError
          ? err
          : new StoreError('STORE_FAILED', `${this.name} ${op} failed: ${String(err)}`, { cause: err });
      // A corrupt entry proves the store answered; it is a data problem, not an outage.
      if (error.code === 'STORE_CORRUPT_ENTRY' || error.code === 'STORE_BAD_CURSOR') this.#breaker.onSuccess();
      else this.#breaker.onFailure();
      this.#onError?.(op, error);
      return { ok: false, error };
    }
  }
}

/** How long past an admin deadline the store may take to finish the batch in hand and report. */
const ADMIN_GRACE_MS = 5_000;

/**
 * The budget bounds how long the store takes, not how long this process takes to look. On a
 * loaded host, or at cold start, the event loop can run a timer late: when it finally runs, the
 * timers phase comes before the I/O poll, so a reply that arrived well inside the budget is still
 * unread in the socket and the call would count as a Redis timeout (measured: 20-45 STORE_TIMEOUTs
 * and breaker openings in 10 s against a healthy Redis). So when the timer fires, the decision
 * waits for setImmediate, which runs right after the poll phase of the same loop turn: a reply that
 * was there by then has been read and has settled the call. Only a store that has still not
 * answered is a timeout, and only that feeds the breaker.
 */
export async function withTimeout<T>(run: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let check: NodeJS.Immediate | undefined;
  const pending = (async () => run())();
  // The loser of the race may still reject later; that must not become an unhandled rejection.
  pending.catch(() => undefined);
  try {
    return await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          check = setImmediate(() =>
            reject(new StoreError('STORE_TIMEOUT', `${what} took longer than ${timeoutMs} ms`)),
          );
        }, timeoutMs);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (check !== undefined) clearImmediate(check);
  }
}
