import { DEFAULTS } from '../defaults.js';
import { SluiceError } from '../errors.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe may go through. Default 2000 ms. */
  resetAfterMs?: number;
  /** Called once per transition, so a caller can log one line per state change. */
  onStateChange?: (state: BreakerState) => void;
  /** Injectable clock for tests. */
  now?: () => number;
}

/**
 * Stops calling a dependency that keeps failing, so a dead Redis costs nothing per request,
 * and lets exactly one probe through after a pause to find out whether it is back.
 *
 * Usage: `if (!breaker.tryAcquire()) skip; ... breaker.onSuccess() | breaker.onFailure()`.
 * Every acquired call must report exactly one outcome, or a half-open breaker stays shut.
 */
export class CircuitBreaker {
  readonly #failureThreshold: number;
  readonly #resetAfterMs: number;
  readonly #onStateChange: ((state: BreakerState) => void) | undefined;
  readonly #now: () => number;
  #state: BreakerState = 'closed';
  #consecutiveFailures = 0;
  #openedAt = 0;
  #probeInFlight = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#failureThreshold = options.failureThreshold ?? DEFAULTS.breakerFailureThreshold;
    this.#resetAfterMs = options.resetAfterMs ?? DEFAULTS.breakerResetAfterMs;
    if (!Number.isSafeInteger(this.#failureThreshold) || this.#failureThreshold < 1) {
      throw new SluiceError(
        'INVALID_OPTION',
        `option "failureThreshold" must be an integer >= 1, got ${this.#failureThreshold}`,
        { field: 'failureThreshold' },
      );
    }
    if (!Number.isFinite(this.#resetAfterMs) || this.#resetAfterMs < 0) {
      throw new SluiceError('INVALID_OPTION', `option "resetAfterMs" must be a number >= 0, got ${this.#resetAfterMs}`, {
        field: 'resetAfterMs',
      });
    }
    this.#onStateChange = options.onStateChange;
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Whether a call may go through now. In half-open, only the first caller gets the probe. */
  tryAcquire(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') {
      if (this.#now() - this.#openedAt < this.#resetAfterMs) return false;
      this.#transition('half-open');
    }
    if (this.#probeInFlight) return false;
    this.#probeInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.#consecutiveFailures = 0;
    if (this.#state === 'half-open') {
      this.#probeInFlight = false;
      this.#transition('closed');
    }
  }

  onFailure(): void {
    if (this.#state === 'half-open') {
      this.#probeInFlight = false;
      this.#open();
      return;
    }
    this.#consecutiveFailures += 1;
    // Calls acquired before the circuit opened may still fail afterwards; they change nothing.
    if (this.#state === 'closed' && this.#consecutiveFailures >= this.#failureThreshold) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#transition('open');
  }

  #transition(state: BreakerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onStateChange?.(state);
  }
}
